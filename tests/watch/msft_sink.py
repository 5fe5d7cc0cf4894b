#!/usr/bin/env python3
# msft_sink.py: a tiny SMTP server that answers like Microsoft's edge for the
# relaygate-watch tests: per client source IP it can refuse MAIL FROM with a
# configured reply (e.g. the S3140 blocklist text), and per recipient local
# part it can refuse RCPT TO. Rules come from a JSON file re-read for every
# connection, so a test can "clear the fault" by rewriting it. Accepted
# messages are appended to DELIVERED as one JSON line {client, rcpt, msgid}.
#   msft_sink.py HOST PORT RULES.json DELIVERED.jsonl
# RULES: {"mail_reply_by_ip": {"127.0.0.2": "550 5.7.1 ..."},
#         "rcpt_reply_by_local": {"nouser": "550 5.1.1 ..."}}
import json, socketserver, sys, threading

HOST, PORT, RULES, DELIVERED = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()


def rules():
    try:
        with open(RULES) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Session(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        client = self.client_address[0]
        r = rules()
        self.say("220 mx.outlook.test Microsoft ESMTP MAIL Service ready")
        rcpts, mail_ok = [], False
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250-mx.outlook.test Hello" if verb == "EHLO" else "250 mx.outlook.test")
                if verb == "EHLO":
                    self.say("250 8BITMIME")
            elif verb == "MAIL":
                reply = r.get("mail_reply_by_ip", {}).get(client)
                if reply:
                    self.say(reply)
                else:
                    mail_ok, rcpts = True, []
                    self.say("250 2.1.0 Sender OK")
            elif verb == "RCPT":
                addr = line.split(":", 1)[1].strip().strip("<>") if ":" in line else ""
                local = addr.split("@", 1)[0].lower()
                reply = r.get("rcpt_reply_by_local", {}).get(local)
                if not mail_ok:
                    self.say("503 5.5.1 Need MAIL")
                elif reply:
                    self.say(reply)
                else:
                    rcpts.append(addr)
                    self.say("250 2.1.5 Recipient OK")
            elif verb == "DATA":
                if not rcpts:
                    self.say("554 5.5.1 No valid recipients")
                    continue
                self.say("354 Start mail input; end with <CRLF>.<CRLF>")
                msgid = ""
                while True:
                    d = self.rfile.readline(65536)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                    if not msgid and d.lower().startswith(b"message-id:"):
                        msgid = d.split(b":", 1)[1].strip().decode(errors="replace")
                with lock, open(DELIVERED, "a") as f:
                    for a in rcpts:
                        f.write(json.dumps({"client": client, "rcpt": a, "msgid": msgid}) + "\n")
                self.say("250 2.6.0 Queued mail for delivery")
                rcpts, mail_ok = [], False
            elif verb == "RSET":
                rcpts, mail_ok = [], False
                self.say("250 2.0.0 OK")
            elif verb == "QUIT":
                self.say("221 2.0.0 Service closing transmission channel")
                return
            else:
                self.say("250 2.0.0 OK")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server((HOST, PORT), Session).serve_forever()
