"""Streams NDJSON to Herald's API on a unix socket the way a CRM sends changes as they happen:
one line every INTERVAL seconds, then silence. Prints one JSON object when the response ends:
{"sent": {key: unix time sent}, "answered": {key: unix time its result line arrived},
 "ended": unix time the response ended}.

    /usr/bin/python3 slow_stream.py SOCKET COUNT INTERVAL
"""
import json
import signal
import socket
import sys
import threading
import time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
path, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(path)
conn.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: herald\r\nContent-Type: application/x-ndjson\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n")
sent, answered, ended = {}, {}, [None]


def read_responses():
    buffer = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        buffer += data
        now = time.time()
        for line in buffer.split(b"\n"):
            if line.startswith(b"{") and b'"key"' in line:
                try:
                    key = json.loads(line)["key"]
                except ValueError:
                    continue
                answered.setdefault(key, now)
        if buffer.endswith(b"0\r\n\r\n"):
            break
    ended[0] = time.time()


reader = threading.Thread(target=read_responses, daemon=True)
reader.start()
for n in range(count):
    key = f"slow-{n}"
    line = json.dumps({"key": key, "channel": "webhook", "template": "alert", "to": {"endpoint": "hooks"},
                       "data": {"n": n}, "send_at": "2030-01-01T00:00:00Z"}).encode() + b"\n"
    sent[key] = time.time()
    conn.sendall(b"%x\r\n%s\r\n" % (len(line), line))
    time.sleep(interval)
reader.join(timeout=60)
print(json.dumps({"sent": sent, "answered": answered, "ended": ended[0]}), flush=True)
