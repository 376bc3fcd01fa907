"""Opens COUNT TCP connections to 127.0.0.1:PORT and keeps them open, sending nothing, until it
is stopped (SIGTERM, by PID). Prints "OPEN <n>" once every connect has been started, then
"ALIVE <n>" every second: how many the server has not closed yet.

    /usr/bin/python3 idle_connections.py PORT COUNT
"""
import errno
import resource
import select
import signal
import socket
import sys
import time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))

sockets = []
deadline = time.monotonic() + 60
for _ in range(count):
    if time.monotonic() > deadline:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    code = s.connect_ex(("127.0.0.1", port))
    if code not in (0, errno.EINPROGRESS):
        s.close()
        continue
    sockets.append(s)
print(f"OPEN {len(sockets)}", flush=True)

poller = select.poll()
by_fd = {s.fileno(): s for s in sockets}
for fd in by_fd:
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
alive = set(by_fd)
while True:
    for fd, _ in poller.poll(1000):
        if fd not in alive:
            continue
        try:
            data = by_fd[fd].recv(1)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            alive.discard(fd)
            poller.unregister(fd)
    print(f"ALIVE {len(alive)}", flush=True)
