#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The service manager's end of sd_notify(3): binds a datagram socket at
# argv[1] (the NOTIFY_SOCKET to hand a daemon) and appends each message to
# argv[2], one line each (a message's own newlines become blanks). Prints
# "listening" once bound.
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    print("listening", flush=True)
    while True:
        msg = s.recv(4096).decode(errors="replace")
        out.write(msg.replace("\n", " ") + "\n")
