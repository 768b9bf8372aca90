"""A real SMTP server on loopback (aiosmtpd) for tests that send e-mail."""

from __future__ import annotations

import contextlib
import socket
import time

from aiosmtpd.controller import Controller


class SmtpInbox:
    """What the loopback SMTP server received: (sender, recipients, raw message) each."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8"))
        )
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[tuple[str, list[str], str]]:
        """The messages, once at least ``count`` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def smtp_server():
    """Start an SMTP server on a free loopback port; yields its :class:`SmtpInbox`."""
    inbox = SmtpInbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
