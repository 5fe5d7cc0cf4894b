-- reload_in_flight.lua: a registry reload while a message is in flight changes the
-- verdict for new mail only. Message 1 takes its snapshot at its first RCPT; then
-- RELOAD (a shell command from the test) swaps the state file, sends SIGHUP and waits
-- for the reload; message 1 still gets the old verdict, message 2 the new one.
--   SOCK= FROM= RELOAD="shell command" CODE= ESC= TEXT= (the old rejection)
dofile(LIB)
local conn = open_session("192.0.2.9")

local function message(qid, between)
  envelope(conn, qid, "192.0.2.9", nil, {"<bob@example.net>"})
  if between ~= nil then between() end
  ok(mt.header(conn, "From", FROM), "header")
  return finish(conn)
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
