-- message.lua: one message through relaygate-milter (miltertest -s message.lua -D ...),
-- asserting the verdict. Driven by tests/milter/milter_protocol_itest.cpp.
--   SOCK=unix:/path QID=id FROM="value" [FROM2=] [SENDER=] [AUTH=login] [CLIENT=ip]
--   EXPECT=accept|reject|tempfail [CODE= ESC= TEXT=] [SIGNED=yes|no] [TAG=header value]
-- Every mt call is checked: miltertest exits 1 on a Lua error, often without printing it.
local function ok(r, what)
  if r ~= nil then error(what .. " failed: " .. tostring(r)) end
end
local function want(cond, what)
  if not cond then
    mt.echo("FAIL " .. what)
    error(what)
  end
end

local conn = mt.connect(SOCK, 40, 0.05)
want(conn ~= nil, "connect to " .. SOCK)
-- The milter asks the MTA to skip steps it does not need (as Postfix does, miltertest
-- then refuses to send them): what it needs comes with the RCPT macros instead.
if not mt.test_option(conn, SMFIP_NOCONNECT) then
  ok(mt.conninfo(conn, "client.example", CLIENT or "192.0.2.9"), "conninfo")
  want(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo continued")
end
if not mt.test_option(conn, SMFIP_NOHELO) then
  ok(mt.helo(conn, "client.example"), "helo")  -- explicit: an implicit helo drops MAIL macros
end
local envelope = {"i", QID, "{mail_addr}", "bounce@relay.example.net", "{client_addr}", CLIENT or "192.0.2.9"}
if AUTH ~= nil then
  table.insert(envelope, "{auth_authen}")
  table.insert(envelope, AUTH)
end
if not mt.test_option(conn, SMFIP_NOMAIL) then
  mt.macro(conn, SMFIC_MAIL, table.unpack(envelope))
  ok(mt.mailfrom(conn, "<bounce@relay.example.net>", "SIZE=100"), "mailfrom")
end
mt.macro(conn, SMFIC_RCPT, table.unpack(envelope))
ok(mt.rcptto(conn, "<bob@example.net>"), "rcptto")
ok(mt.rcptto(conn, "<carol@example.org>"), "rcptto")
if FROM ~= nil then ok(mt.header(conn, "From", FROM), "header From") end
if FROM2 ~= nil then ok(mt.header(conn, "From", FROM2), "header From 2") end
if SENDER ~= nil then ok(mt.header(conn, "Sender", SENDER), "header Sender") end
ok(mt.header(conn, "To", "bob@example.net"), "header To")
ok(mt.header(conn, "Subject", "relaygate protocol test " .. QID), "header Subject")
if not mt.test_option(conn, SMFIP_NOEOH) then ok(mt.eoh(conn), "eoh") end
if not mt.test_option(conn, SMFIP_NOBODY) then ok(mt.bodystring(conn, "Hello.\r\n"), "body") end
ok(mt.eom(conn), "eom")
local r = mt.getreply(conn)
if EXPECT == "accept" then
  want(r == SMFIR_ACCEPT, "accept reply (got " .. tostring(r) .. ")")
  local signed = mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature")
  if SIGNED == "yes" then want(signed, "DKIM-Signature inserted") end
  if SIGNED == "no" then want(not signed, "no DKIM-Signature") end
  if TAG ~= nil then want(mt.eom_check(conn, MT_HDRADD, "X-Relaygate-Verdict", TAG), "tag header " .. TAG) end
else
  want(r == SMFIR_REPLYCODE, EXPECT .. " reply code (got " .. tostring(r) .. ")")
  -- always all three arguments (miltertest compares "code esc(null)" otherwise)
  want(mt.eom_check(conn, MT_SMTPREPLY, CODE, ESC, TEXT), "reply " .. CODE .. " " .. ESC .. " " .. TEXT)
  want(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "rejected mail is not signed")
end
mt.disconnect(conn)
mt.echo("PASS " .. QID)
