#!/usr/bin/env python3
# make_verifier_zone.py: writes verifier.conf (stdout) from the test keys in ../keys/;
# with the argument "registry", writes registry.conf (example domains for demo/e2e).
# Run: python3 tests/testdata/dns/make_verifier_zone.py > tests/testdata/dns/verifier.conf
#      python3 tests/testdata/dns/make_verifier_zone.py registry > tests/testdata/dns/registry.conf
import subprocess, base64
import os, sys
K = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keys") + "/"
def spki_b64(name):
    der = subprocess.run(["openssl","pkey","-in",K+name,"-pubout","-outform","DER"],capture_output=True,check=True).stdout
    return base64.b64encode(der).decode()
def ed_b64(name):
    der = subprocess.run(["openssl","pkey","-in",K+name,"-pubout","-outform","DER"],capture_output=True,check=True).stdout
    return base64.b64encode(der[-32:]).decode()
def txt(owner, value, chunk=255, ttl=300):
    parts = [value[i:i+chunk] for i in range(0, len(value), chunk)] or [""]
    return "local-data: '%s %d IN TXT %s'" % (owner, ttl, " ".join('"%s"' % p for p in parts))
Z = "verify.test."
out = []
w = out.append
if len(sys.argv) > 1 and sys.argv[1] == "registry":
    R = "example.test."
    w("# registry.conf: example customer domains for the demo and e2e tests (docs/dns.md).")
    w("# Outbound IPs: 127.0.0.1-127.0.0.3 (loopback transports). Keys: tests/testdata/keys/.")
    w('local-zone: "example.test." static')
    w('local-data: "example.test. 3600 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60"')
    good_spf = "v=spf1 ip4:127.0.0.1 ip4:127.0.0.2 ip4:127.0.0.3 -all"
    w("# good.example.test: verified (s1, rsa2048.pem)")
    w(txt("s1._domainkey.good."+R, "v=DKIM1; k=rsa; p="+spki_b64("rsa2048.pem")))
    w(txt("good."+R, good_spf))
    w(txt("_dmarc.good."+R, "v=DMARC1; p=reject"))
    w("# ed.example.test: verified (s1, ed25519.pem)")
    w(txt("s1._domainkey.ed."+R, "v=DKIM1; k=ed25519; p="+ed_b64("ed25519.pem")))
    w(txt("ed."+R, good_spf))
    w("# esp.example.test: verified, DKIM delegated by CNAME (s1, rsa1024.pem), SPF by include")
    w('local-data: "s1._domainkey.esp.%s 300 IN CNAME s1.keys.provider.%s"' % (R, R))
    w(txt("s1.keys.provider."+R, "v=DKIM1; k=rsa; p="+spki_b64("rsa1024.pem")))
    w(txt("esp."+R, "v=spf1 include:_spf.provider.example.test -all"))
    w(txt("_spf.provider."+R, good_spf))
    w("# nodkim.example.test: no DKIM key published (s1, rsa2048.pem)")
    w(txt("nodkim."+R, good_spf))
    w("# wrongkey.example.test: DKIM publishes another key (s1, rsa2048.pem held)")
    w(txt("s1._domainkey.wrongkey."+R, "v=DKIM1; k=rsa; p="+spki_b64("rsa2048-other.pem")))
    w(txt("wrongkey."+R, good_spf))
    w("# softspf.example.test: SPF covers only 127.0.0.1 (~all) (s1, rsa2048.pem)")
    w(txt("s1._domainkey.softspf."+R, "v=DKIM1; k=rsa; p="+spki_b64("rsa2048.pem")))
    w(txt("softspf."+R, "v=spf1 ip4:127.0.0.1 ~all"))
    print("\n".join(out))
    sys.exit(0)
w("# verifier.conf: DNS for the DKIM/SPF/DMARC verifier tests (tests/registry/*verifier*_itest.cpp).")
w("# Keys: tests/testdata/keys/*.pem. The p= values are those keys' public halves (openssl pkey -pubout);")
w("# RSA p= = base64 SubjectPublicKeyInfo DER, Ed25519 p= = base64 of the raw 32-byte key (RFC 8463).")
w("# Outbound IPs used by the tests: 192.0.2.10, 192.0.2.11, 2001:db8::10.")
w('local-zone: "verify.test." static')
w('local-data: "verify.test. 3600 IN SOA ns.verify.test. hostmaster.verify.test. 1 3600 600 86400 60"')
ALL = "ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::10"
r2048 = spki_b64("rsa2048.pem"); r1024 = spki_b64("rsa1024.pem"); r512 = spki_b64("rsa512.pem")
rother = spki_b64("rsa2048-other.pem"); ed = ed_b64("ed25519.pem"); edo = ed_b64("ed25519-other.pem")
w("# --- good.verify.test: everything right (DKIM rsa2048 split in 255-byte strings, SPF all IPs, DMARC reject)")
w(txt("s1._domainkey.good."+Z, "v=DKIM1; k=rsa; p="+r2048))
w(txt("good."+Z, "v=spf1 "+ALL+" -all"))
w(txt("_dmarc.good."+Z, "v=DMARC1; p=reject; rua=mailto:dmarc@good.verify.test"))
w("# --- softspf.verify.test: DKIM right, SPF only for 192.0.2.10 with ~all")
w(txt("s1._domainkey.softspf."+Z, "v=DKIM1; k=rsa; p="+r2048))
w(txt("softspf."+Z, "v=spf1 ip4:192.0.2.10 ~all"))
w("# --- DKIM cases (SPF passes everywhere unless said otherwise)")
for d, rec in [
    ("rsa1024", "v=DKIM1; k=rsa; p="+r1024),
    ("mismatch", "v=DKIM1; k=rsa; p="+rother),
    ("revoked", "v=DKIM1; k=rsa; p="),
    ("badsyntax", "this is not a DKIM key record"),
    ("badbase64", "v=DKIM1; k=rsa; p=!!!notbase64!!!"),
    ("badversion", "v=DKIM2; k=rsa; p="+r2048),
    ("badkeytype", "v=DKIM1; k=dsa; p="+r2048),
    ("notrsa", "v=DKIM1; k=rsa; p="+base64.b64encode(b"not a DER public key").decode()),
    ("wrongservice", "v=DKIM1; k=rsa; s=other; p="+r2048),
    ("short", "v=DKIM1; k=rsa; p="+r512),
    ("ed", "v=DKIM1; k=ed25519; p="+ed),
    ("edmismatch", "v=DKIM1; k=ed25519; p="+edo),
    ("edshort", "v=DKIM1; k=ed25519; p="+base64.b64encode(b"\x01"*16).decode()),
    ("algmismatch", "v=DKIM1; k=rsa; p="+r2048),
    ("nover", "k=rsa; t=y; p="+r2048),
]:
    w(txt("s1._domainkey.%s.%s" % (d, Z), rec))
    w(txt("%s.%s" % (d, Z), "v=spf1 "+ALL+" -all"))
# split at an odd place: inside the tag name and mid-base64, 3+ strings
rec = "v=DKIM1; k=rsa; p="+r2048
parts = [rec[:9], rec[9:100]] + [rec[i:i+200] for i in range(100, len(rec), 200)]
w("local-data: 's1._domainkey.oddsplit.%s 300 IN TXT %s'" % (Z, " ".join('"%s"' % p for p in parts)))
w(txt("oddsplit."+Z, "v=spf1 "+ALL+" -all"))
w("# two TXT records at the selector: ambiguous for receivers (libopendkim refuses), so bad_syntax")
w(txt("s1._domainkey.twokeys."+Z, "v=DKIM1; k=rsa; p="+r2048))
w(txt("s1._domainkey.twokeys."+Z, "v=DKIM1; k=rsa; p="+rother))
w(txt("twokeys."+Z, "v=spf1 "+ALL+" -all"))
w("# no key: the domain exists, the selector name does not (NXDOMAIN) / has no TXT (NODATA)")
w(txt("nokey."+Z, "v=spf1 "+ALL+" -all"))
w(txt("nodatakey."+Z, "v=spf1 "+ALL+" -all"))
w('local-data: "s1._domainkey.nodatakey.%s 300 IN A 192.0.2.99"' % Z)
w("# ESP-style delegation: the selector is a CNAME to the provider's name")
w('local-data: "s1._domainkey.cname.%s 300 IN CNAME s1.dkim.esp.%s"' % (Z, Z))
w(txt("s1.dkim.esp."+Z, "v=DKIM1; k=rsa; p="+r2048))
w(txt("cname."+Z, "v=spf1 "+ALL+" -all"))
w("# --- SPF cases (no DKIM here; tests call the SPF verifier directly)")
for d, rec in [
    ("spf-partial", "v=spf1 ip4:192.0.2.10 -all"),
    ("spf-softfail", "v=spf1 ip4:192.0.2.10 ~all"),
    ("spf-neutral", "v=spf1 ?all"),
    ("spf-syntax", "v=spf1 ip4:192.0.2.300 -all"),
    ("spf-unknown-mech", "v=spf1 foo:bar -all"),
    ("spf-include", "v=spf1 include:_spf1.inc.verify.test -all"),
    ("spf-redirect", "v=spf1 redirect=_spf.redir.verify.test"),
    ("spf-macro", "v=spf1 exists:%{i}._ip.macro.verify.test -all"),
    ("spf-macro-include", "v=spf1 include:_spf.%{d} -all"),
    ("spf-mx", "v=spf1 mx -all"),
    ("spf-a-cname", "v=spf1 a:alias.hosts.verify.test ip4:192.0.2.11 ip6:2001:db8::10 -all"),
    ("spf-servfail", "v=spf1 include:x.servfail.test -all"),
    ("spf-timeout", "v=spf1 a:x.timeout.test "+ALL+" -all"),
    ("spf-include-none", "v=spf1 include:nothing.verify.test "+ALL+" -all"),
    ("spf-void2", "v=spf1 a:v1.void.verify.test a:v2.void.verify.test "+ALL+" -all"),
    ("spf-void3", "v=spf1 a:v1.void.verify.test a:v2.void.verify.test a:v3.void.verify.test "+ALL+" -all"),
    ("spf-void3-mx", "v=spf1 mx:v1.void.verify.test a:v2.void.verify.test exists:v3.void.verify.test "+ALL+" -all"),
]:
    w(txt("%s.%s" % (d, Z), rec))
w(txt("spf-two."+Z, "v=spf1 "+ALL+" -all"))
w(txt("spf-two."+Z, "v=spf1 -all"))
w(txt("spf-notspf."+Z, "google-site-verification=abc123"))
w('local-data: "spf-none.%s 300 IN A 192.0.2.99"' % Z)
w(txt("_spf1.inc."+Z, "v=spf1 include:_spf2.inc.verify.test ip4:192.0.2.10 -all"))
w(txt("_spf2.inc."+Z, "v=spf1 ip4:192.0.2.11 ip6:2001:db8::10 -all"))
w(txt("_spf.redir."+Z, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"))
w('local-data: "192.0.2.10._ip.macro.%s 300 IN A 127.0.0.2"' % Z)
w('local-data: "192.0.2.11._ip.macro.%s 300 IN A 127.0.0.2"' % Z)
nib = ".".join("20010db8000000000000000000000010")
w('local-data: "%s._ip.macro.%s 300 IN A 127.0.0.2"' % (nib, Z))
w(txt("_spf.spf-macro-include."+Z, "v=spf1 "+ALL+" -all"))
w('local-data: "spf-mx.%s 300 IN MX 10 mx1.hosts.%s"' % (Z, Z))
w('local-data: "spf-mx.%s 300 IN MX 20 mx2.hosts.%s"' % (Z, Z))
w('local-data: "mx1.hosts.%s 300 IN A 192.0.2.10"' % Z)
w('local-data: "mx2.hosts.%s 300 IN A 192.0.2.11"' % Z)
w('local-data: "mx2.hosts.%s 300 IN AAAA 2001:db8::10"' % Z)
w('local-data: "alias.hosts.%s 300 IN CNAME mx1.hosts.%s"' % (Z, Z))
w("# 10-lookup limit: 11 DNS-querying terms in one record / 6+6 across two includes")
hosts = []
for i in range(1, 13):
    w('local-data: "h%d.hosts.%s 300 IN A 198.51.100.%d"' % (i, Z, i))
w(txt("spf-11terms."+Z, "v=spf1 " + " ".join("a:h%d.hosts.verify.test" % i for i in range(1, 12)) + " " + ALL + " -all"))
w(txt("spf-10terms."+Z, "v=spf1 " + " ".join("a:h%d.hosts.verify.test" % i for i in range(1, 11)) + " " + ALL + " -all"))
w(txt("_a.lim."+Z, "v=spf1 " + " ".join("a:h%d.hosts.verify.test" % i for i in range(1, 7)) + " -all"))
w(txt("_b.lim."+Z, "v=spf1 " + " ".join("a:h%d.hosts.verify.test" % i for i in range(7, 13)) + " -all"))
w(txt("spf-limit-across."+Z, "v=spf1 include:_a.lim.verify.test include:_b.lim.verify.test " + ALL + " -all"))
w("# DMARC variants")
w(txt("dmarc-none."+Z, "v=spf1 "+ALL+" -all"))
w(txt("_dmarc.dmarc-none."+Z, "v=DMARC1; p=none"))
w(txt("_dmarc.dmarc-nop."+Z, "v=DMARC1; rua=mailto:x@verify.test"))
w(txt("_dmarc.dmarc-other."+Z, "some other text"))
w(txt("_dmarc.dmarc-quarantine."+Z, "v=DMARC1;p=Quarantine;pct=50"))
print("\n".join(out))
