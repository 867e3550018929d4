"""A preloaded fork server: imports torch once, then forks one fresh worker per request.

Importing torch costs about a second; forking a process that already has it costs milliseconds.
The server runs no torch op itself, so it holds no thread pools when it forks.

Protocol on a SOCK_SEQPACKET socket (one JSON message each, file descriptors attached):
  {"op": "spawn", "config": {...}} + [worker socket, output pipe]  ->  {"pid": N}
  {"op": "wait", "pid": N}                                         ->  {"status": raw wait status}
The parent keeps the worker's other socket end and reads the output pipe.
"""

from __future__ import annotations

import json
import os
import socket
import sys


def _serve(control: socket.socket) -> None:
    from grader.runner import limits, sandbox, worker  # the preload: torch and the worker's modules

    sandbox.undumpable()  # learner code (same user) cannot read this process's memory or environ
    limits.become_subreaper()
    worker.preload()
    finished: dict[int, int] = {}  # pid -> wait status, for children reaped before asked about
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            return
        if not message:
            return  # the parent is gone
        request = json.loads(message)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                code = 70
                try:
                    control.close()
                    code = worker.main(fds[0], fds[1], request["config"])
                finally:
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())
        elif request["op"] == "wait":
            status = finished.pop(request["pid"], None)
            if status is None:
                try:
                    _, status = os.waitpid(request["pid"], 0)
                except ChildProcessError:
                    status = None
            control.send(json.dumps({"status": status}).encode())
        # Reap anything else that has finished so no zombie piles up.
        try:
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                finished[pid] = status
        except ChildProcessError:
            pass


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
