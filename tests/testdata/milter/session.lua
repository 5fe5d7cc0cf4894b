-- session.lua: what every miltertest script here shares, loaded with
-- dofile(LIB) (milter_fixture.cpp passes LIB= this file). Checked helpers, and
-- the steps before a message's content sent the way Postfix sends them: a step
-- the milter asked to skip is not sent (miltertest refuses it), and the
-- envelope also comes with the RCPT macros, where the milter reads it then.
function ok(r, what)
  if r ~= nil then error(what .. " failed: " .. tostring(r)) end
end

function want(cond, what)
  if not cond then
    mt.echo("FAIL " .. what)
    error(what)
  end
end

-- Connects and sends connect and HELO unless declined.
function open_session(client)
  local conn = mt.connect(SOCK, 40, 0.05)
  want(conn ~= nil, "connect to " .. SOCK)
  if not mt.test_option(conn, SMFIP_NOCONNECT) then
    ok(mt.conninfo(conn, "client.example", client), "conninfo")
    want(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo continued")
  end
  if not mt.test_option(conn, SMFIP_NOHELO) then
    ok(mt.helo(conn, "client.example"), "helo")  -- explicit: an implicit helo drops MAIL macros
  end
  return conn
end

-- MAIL (unless declined) and the recipients, with the envelope macros.
function envelope(conn, qid, client, auth, rcpts)
  local macros = {"i", qid, "{mail_addr}", "bounce@relay.example.net", "{client_addr}", client}
  if auth ~= nil then
    table.insert(macros, "{auth_authen}")
    table.insert(macros, auth)
  end
  if not mt.test_option(conn, SMFIP_NOMAIL) then
    mt.macro(conn, SMFIC_MAIL, table.unpack(macros))
    ok(mt.mailfrom(conn, "<bounce@relay.example.net>", "SIZE=100"), "mailfrom")
  end
  mt.macro(conn, SMFIC_RCPT, table.unpack(macros))
  for _, rcpt in ipairs(rcpts) do ok(mt.rcptto(conn, rcpt), "rcptto " .. rcpt) end
end

-- End of headers (unless declined), the body (unless declined), end of message.
function finish(conn)
  if not mt.test_option(conn, SMFIP_NOEOH) then ok(mt.eoh(conn), "eoh") end
  if not mt.test_option(conn, SMFIP_NOBODY) then ok(mt.bodystring(conn, "Hello.\r\n"), "body") end
  ok(mt.eom(conn), "eom")
  return mt.getreply(conn)
end
