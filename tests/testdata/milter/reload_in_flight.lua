-- reload_in_flight.lua: a registry reload while a message is in flight changes the
-- verdict for new mail only. Message 1 takes its snapshot at its first RCPT; then
-- RELOAD (a shell command from the test) swaps the state file, sends SIGHUP and waits
-- for the reload; message 1 still gets the old verdict, message 2 the new one.
--   SOCK= FROM= RELOAD="shell command" CODE= ESC= TEXT= (the old rejection)
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
want(conn ~= nil, "connect")
if not mt.test_option(conn, SMFIP_NOCONNECT) then
  ok(mt.conninfo(conn, "client.example", "192.0.2.9"), "conninfo")
  want(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo continued")
end
if not mt.test_option(conn, SMFIP_NOHELO) then ok(mt.helo(conn, "client.example"), "helo") end

local function message(qid, between)
  local envelope = {"i", qid, "{mail_addr}", "bounce@relay.example.net", "{client_addr}", "192.0.2.9"}
  if not mt.test_option(conn, SMFIP_NOMAIL) then
    mt.macro(conn, SMFIC_MAIL, table.unpack(envelope))
    ok(mt.mailfrom(conn, "<bounce@relay.example.net>"), "mailfrom")
  end
  mt.macro(conn, SMFIC_RCPT, table.unpack(envelope))
  ok(mt.rcptto(conn, "<bob@example.net>"), "rcptto")
  if between ~= nil then between() end
  ok(mt.header(conn, "From", FROM), "header")
  if not mt.test_option(conn, SMFIP_NOEOH) then ok(mt.eoh(conn), "eoh") end
  if not mt.test_option(conn, SMFIP_NOBODY) then ok(mt.bodystring(conn, "Hello.\r\n"), "body") end
  ok(mt.eom(conn), "eom")
  return mt.getreply(conn)
end

local r1 = message("INFLIGHT1", function()
  local done = os.execute(RELOAD)
  want(done == true or done == 0, "reload command")
end)
want(r1 == SMFIR_REPLYCODE, "in-flight message keeps the old snapshot (got " .. tostring(r1) .. ")")
want(mt.eom_check(conn, MT_SMTPREPLY, CODE, ESC, TEXT), "old rejection text")
local r2 = message("INFLIGHT2", nil)
want(r2 == SMFIR_ACCEPT, "new message sees the new snapshot (got " .. tostring(r2) .. ")")
mt.disconnect(conn)
mt.echo("PASS reload")
