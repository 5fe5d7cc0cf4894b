#!/usr/bin/env python3
# fault_sender.py: the fault suite's SMTP client (tests/fault). Sends COUNT
# messages, each with its own Message-ID <PREFIX-i@fault.test>, over THREADS
# parallel sessions, and retries a message after any 4xx reply or lost
# connection (as a client MTA would) until it is accepted, refused with 5xx,
# or the deadline passes. Writes the accepted Message-IDs to ACCEPTED (one a
# line) and prints one JSON summary line: sent, accepted, rejected, unsent,
# retries.
#   fault_sender.py PORT COUNT THREADS DEADLINE_S PREFIX ACCEPTED HEADER_FROM RCPT [RCPT...]
# Recipients are used round robin (message i goes to RCPT[i % n]).
import json, smtplib, socket, sys, threading, time

port, count, threads, deadline_s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
prefix, accepted_path, header_from, rcpts = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8:]
deadline = time.monotonic() + deadline_s
lock = threading.Lock()
next_index = [0]
accepted, rejected, retries = [], [], [0]


def message(i):
    rcpt = rcpts[i % len(rcpts)]
    mid = "<%s-%d@fault.test>" % (prefix, i)
    text = ("From: <%s>\r\nTo: <%s>\r\nSubject: fault %s %d\r\nMessage-ID: %s\r\n"
            "Date: Tue, 08 Dec 2026 00:00:00 +0000\r\n\r\nfault suite message %d\r\n") % (
                header_from, rcpt, prefix, i, mid, i)
    return rcpt, mid, text


def take():
    with lock:
        i = next_index[0]
        if i >= count:
            return None
        next_index[0] += 1
        return i


def worker():
    conn = None
    i = take()
    while i is not None and time.monotonic() < deadline:
        rcpt, mid, text = message(i)
        try:
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
                conn.ehlo("fault-client.test")
            conn.sendmail("sender@" + header_from.split("@")[1], [rcpt], text)
            with lock:
                accepted.append(mid)
            i = take()
        except smtplib.SMTPRecipientsRefused as e:
            code = list(e.recipients.values())[0][0]
            if code >= 500:
                with lock:
                    rejected.append(mid)
                i = take()
            else:
                with lock:
                    retries[0] += 1
                time.sleep(0.2)
            conn = reset(conn)
        except smtplib.SMTPResponseException as e:
            if e.smtp_code >= 500:
                with lock:
                    rejected.append(mid)
                i = take()
            else:
                with lock:
                    retries[0] += 1
                time.sleep(0.2)
            conn = reset(conn)
        except (smtplib.SMTPException, OSError, socket.timeout):
            with lock:
                retries[0] += 1
            time.sleep(0.2)
            conn = reset(conn)
    reset(conn)


def reset(conn):
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass
    return None


ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(accepted_path, "w") as f:
    f.write("".join(m + "\n" for m in accepted))
print(json.dumps({"sent": count, "accepted": len(accepted), "rejected": len(rejected),
                  "unsent": count - len(accepted) - len(rejected), "retries": retries[0]}), flush=True)
