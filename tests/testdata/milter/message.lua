-- message.lua: one message through relaygate-milter (miltertest -s message.lua -D ...),
-- asserting the verdict. Driven by tests/milter/milter_protocol_itest.cpp.
--   SOCK=unix:/path QID=id FROM="value" [FROM2=] [SENDER=] [AUTH=login] [CLIENT=ip]
--   EXPECT=accept|reject|tempfail [CODE= ESC= TEXT=] [SIGNED=yes|no] [TAG=header value]
-- Every mt call is checked: miltertest exits 1 on a Lua error, often without printing it.
dofile(LIB)

local conn = open_session(CLIENT or "192.0.2.9")
envelope(conn, QID, CLIENT or "192.0.2.9", AUTH, {"<bob@example.net>", "<carol@example.org>"})
if FROM ~= nil then ok(mt.header(conn, "From", FROM), "header From") end
if FROM2 ~= nil then ok(mt.header(conn, "From", FROM2), "header From 2") end
if SENDER ~= nil then ok(mt.header(conn, "Sender", SENDER), "header Sender") end
ok(mt.header(conn, "To", "bob@example.net"), "header To")
ok(mt.header(conn, "Subject", "relaygate protocol test " .. QID), "header Subject")
local r = finish(conn)
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
