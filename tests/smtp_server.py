"""A real SMTP server on localhost (aiosmtpd) that keeps every message the app sends."""

from __future__ import annotations

import email
import email.policy
import socket

from aiosmtpd.controller import Controller


class Mailbox(list):
    """The messages received so far, oldest first."""

    def __init__(self, port: int | None = None, **smtp) -> None:
        super().__init__()
        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **smtp)

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[tuple[str, str, str]]:
        """(to, subject, body) of each message."""
        return [(m["To"], m["Subject"], m.get_content()) for m in self]

