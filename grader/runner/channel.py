"""Length-prefixed byte frames over a stream socket, with deadlines on the reading side."""

from __future__ import annotations

import select
import socket
import struct
import time

_HEADER = struct.Struct("!Q")
MAX_FRAME = 1 << 30  # a learner's reply larger than 1 GiB is refused, not buffered


class ChannelClosed(Exception):
    """The other side closed the socket or died."""


class ChannelTimeout(Exception):
    """No complete frame arrived before the deadline."""


class FrameTooLarge(Exception):
    pass


class Channel:
    def __init__(self, sock: socket.socket):
        self.sock = sock

    def send(self, payload: bytes) -> None:
        try:
            self.sock.sendall(_HEADER.pack(len(payload)) + payload)
        except OSError as exc:  # EPIPE / ECONNRESET: the peer is gone
            raise ChannelClosed(str(exc)) from None

    def _recv_exact(self, n: int, deadline: float | None) -> bytes:
        chunks, got = [], 0
        while got < n:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ChannelTimeout()
                ready, _, _ = select.select([self.sock], [], [], remaining)
                if not ready:
                    raise ChannelTimeout()
            try:
                chunk = self.sock.recv(min(n - got, 1 << 20))
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if not chunk:
                raise ChannelClosed("connection closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self, deadline: float | None = None) -> bytes:
        (size,) = _HEADER.unpack(self._recv_exact(_HEADER.size, deadline))
        if size > MAX_FRAME:
            raise FrameTooLarge(f"reply of {size} bytes is larger than the {MAX_FRAME}-byte limit")
        return self._recv_exact(size, deadline)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
