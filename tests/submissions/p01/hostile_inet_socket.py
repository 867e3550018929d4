# expected: error
# message: Operation not permitted
# options: sandbox
# Sockets other than the worker's own channel: an inet socket to fetch answers (or to leak the
# cases) is refused by the worker's seccomp filter.
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", 80))
