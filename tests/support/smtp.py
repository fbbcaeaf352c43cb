"""A real local SMTP server (aiosmtpd) that collects what it receives, for tests and benchmarks."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _AcceptAll:
    """Accept any login over plain text: the tests put a password in the URL on purpose."""

    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((mechanism, getattr(auth_data, "login", b"")))
        return AuthResult(success=True)


class Mailbox:
    """Messages received by :class:`SMTPServer`, parsed; thread-safe."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.recipients: list[list[str]] = []
        self.refused = 0
        self.kill_pid_on_message: int | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        if self.strict and any(len(line) > 998 for line in data.split(b"\r\n")):
            with self._lock:
                self.refused += 1
            return "500 5.5.2 Line too long (over 1000 octets)"
        msg = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            self.raw.append(data)
            self.messages.append(msg)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        if self.kill_pid_on_message:
            # Simulates a crash after the message was handed over, before the sender marks it.
            os.kill(self.kill_pid_on_message, signal.SIGKILL)
            self.kill_pid_on_message = None
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until ``count`` messages have arrived (True), or ``timeout`` seconds pass
        (False): the timeout is a failure guard, the wake-up is the arrival itself."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(m["subject"]) for m in self.messages]

    def bodies(self, subtype: str = "html") -> list[str]:
        """The text/<subtype> part of every message (falls back to the whole body)."""
        out = []
        with self._lock:
            for m in self.messages:
                part = m.get_body(preferencelist=(subtype,)) or m.get_body()
                out.append(part.get_content() if part else "")
        return out


class SMTPServer:
    """aiosmtpd's Controller on 127.0.0.1; ``url(...)`` gives the Apprise mailto:// URL for it.

    Plain text, no TLS; any login is accepted. ``strict=True`` refuses lines over 1000 octets.
    ``stop()`` and ``start()`` may be called again to simulate an outage on the same port.
    """

    def __init__(self, *, strict: bool = False, port: int | None = None) -> None:
        self.mailbox = Mailbox(strict=strict)
        self.auth = _AcceptAll()
        self._chosen = port is None
        self.port = port or free_port()
        self.controller: Controller | None = None

    def start(self) -> SMTPServer:
        # free_port() cannot reserve its port: under pytest-xdist another worker may bind it
        # first, so a port we chose is chosen again (once started, restarts keep the port).
        for attempt in range(5):
            controller = Controller(
                self.mailbox,
                hostname="127.0.0.1",
                port=self.port,
                auth_require_tls=False,
                authenticator=self.auth,
            )
            try:
                controller.start()
                break
            except OSError:
                if not self._chosen or attempt == 4:
                    raise
                self.port = free_port()
        self._chosen = False
        self.controller = controller
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(
        self, *, user: str = "newswatch", password: str = "pw", to: str = "analyst@example.org"
    ) -> str:
        """An Apprise mailto:// URL that sends to this server without TLS."""
        return (
            f"mailto://{user}:{password}@127.0.0.1:{self.port}"
            f"?from=newswatch@example.org&to={to}&mode=insecure"
        )

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
