"""Writes 8 MiB to a file (fsync'd) and sends 4 MiB over a loopback TCP connection.

Sleeps 0.3 s before and 0.5 s after, so that monitors sample on both sides of the traffic.
Prints ``done`` at the end.
"""

import os
import socket
import threading
import time

FILE_BYTES = 8 << 20
SENT_BYTES = 4 << 20


# Defined before anything runs: the overseer runs a script's lines up to its last definition
# before the monitors start, and the rest while they sample.
def receive(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        while connection.recv(1 << 16):
            pass


time.sleep(0.3)
with open("monitor_traffic.bin", "wb") as written:
    written.write(os.urandom(FILE_BYTES))
    written.flush()
    os.fsync(written.fileno())

server = socket.create_server(("127.0.0.1", 0))
receiver = threading.Thread(target=receive, args=(server,))
receiver.start()
with socket.create_connection(server.getsockname()) as sender:
    sender.sendall(b"x" * SENT_BYTES)
receiver.join()
server.close()
os.remove("monitor_traffic.bin")
time.sleep(0.5)
print("done")
