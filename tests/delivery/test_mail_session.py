"""One SMTP session per send loop for an email target: the mail is Apprise's, byte for byte;
refusals, dropped and closed sessions, and a trickling server each cost at most the message
in flight."""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from delivery.newsdata import T0
from support.smtp import Mailbox, SMTPServer, _AcceptAll, free_port

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.targets import Sender, _notify, send

WATCHES = [Watch(name="trafficking", query="x", targets=["mail"])]


class _Sessions(Mailbox):
    """Counts EHLOs (one per SMTP session); refuses messages saying 'refuse me' (550); with
    ``drop_after`` set, closes a connection without a word at the MAIL after that many
    messages in it; with ``busy_after`` set, answers that MAIL with 421 instead; answers
    451 to the DATA commands numbered (from 1, over all sessions) in ``defer``."""

    def __init__(self, drop_after: int = 0, busy_after: int = 0) -> None:
        super().__init__()
        self.ehlos = self.datas = 0
        self.defer: set[int] = set()
        self.drop_after, self.busy_after = drop_after, busy_after
        self.per_session: Counter = Counter()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        with self._lock:
            self.ehlos += 1
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        done = self.per_session[id(session)]
        if self.drop_after and done >= self.drop_after:
            server.transport.close()
            return "421 closing"  # never reaches the client: the transport is closed
        if self.busy_after and done >= self.busy_after:
            return "421 4.7.0 too many messages in this session"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        with self._lock:
            self.datas += 1
            if self.datas in self.defer:
                return "451 4.3.0 try again"
        if b"refuse me" in (envelope.original_content or envelope.content):
            return "550 5.7.1 Message refused"
        self.per_session[id(session)] += 1
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def server():
    srv = SMTPServer()
    srv.mailbox = _Sessions()
    with srv:
        yield srv


def cycle(db, server, now=T0, per_target: int = 1):
    targets = [Target(name="mail", url=server.url())]
    outbox.enqueue(db, WATCHES, targets, now=now)
    delivery = DeliverySettings(concurrency_per_target=per_target)
    return deliver_due(db, WATCHES, targets, delivery, now=now)


def subjects(n: int, skip=()) -> list[str]:
    return sorted(f"[trafficking] Story {i} (AZ)" for i in range(n) if i not in skip)


def test_a_pass_sends_every_mail_over_one_session(db, news, server):
    for i in range(25):
        news.add(f"Story {i}")
    stats = cycle(db, server)
    assert (stats.messages, stats.sent, stats.failed, stats.retrying) == (25, 25, 0, 0)
    assert server.mailbox.ehlos == 1
    assert len(server.auth.logins) == 1  # one login, not one per message
    assert sorted(server.mailbox.subjects()) == subjects(25)
    for msg, raw in zip(server.mailbox.messages, server.mailbox.raw, strict=True):
        title = str(msg["subject"]).removeprefix("[trafficking] ").removesuffix(" (AZ)")
        assert title in msg.get_body(preferencelist=("plain", "html")).get_content()
        assert raw.count(b"\r\nMessage-ID:") + raw.startswith(b"Message-ID:") == 1


def test_a_refused_message_is_retried_and_the_session_goes_on(db, news, server):
    for i in range(8):
        news.add(f"Story {i} refuse me" if i == 3 else f"Story {i}")
    stats = cycle(db, server)
    assert (stats.sent, stats.retrying, stats.failed) == (7, 1, 0)
    assert "550" in stats.errors[0] and "pw" not in stats.errors[0]
    assert sorted(server.mailbox.subjects()) == subjects(8, skip={3})
    assert server.mailbox.ehlos == 1
    assert outbox.status_counts(db)["pending"] == 1


def test_a_dropped_session_loses_only_the_message_in_flight_for_now(db, news, server):
    server.mailbox.drop_after = 4
    for i in range(9):
        news.add(f"Story {i}")
    first = cycle(db, server)
    # the 5th message was in flight when the server hung up: retried; the other 4 went
    # out over a new session
    assert (first.sent, first.retrying, first.failed) == (8, 1, 0)
    assert "connection" in first.errors[0] and "pw" not in first.errors[0]
    assert server.mailbox.ehlos == 2
    again = cycle(db, server, T0 + timedelta(hours=2))
    assert (again.sent, again.retrying) == (1, 0)
    assert Counter(server.mailbox.subjects()) == Counter(subjects(9))  # each exactly once


def test_a_421_before_the_message_moves_it_to_a_new_session(db, news, server):
    server.mailbox.busy_after = 4
    for i in range(10):
        news.add(f"Story {i}")
    stats = cycle(db, server)
    assert (stats.sent, stats.retrying, stats.failed) == (10, 0, 0)
    assert server.mailbox.ehlos == 3
    assert Counter(server.mailbox.subjects()) == Counter(subjects(10))


def test_a_session_the_server_closed_between_messages_is_replaced(server):
    target = Target(name="mail", url=server.url())
    with Sender() as sender:
        assert sender.send(target, "first", "body", "text").ok
        server.stop()  # closes every connection; same port when it starts again
        server.start()
        assert sender.send(target, "second", "body", "text").ok
    assert server.mailbox.subjects() == ["first", "second"]
    assert server.mailbox.ehlos == 2


def test_two_loops_per_target_use_two_sessions(db, news, server):
    for i in range(40):
        news.add(f"Story {i}")
    stats = cycle(db, server, per_target=2)
    assert (stats.sent, stats.failed, stats.retrying) == (40, 0, 0)
    assert server.mailbox.ehlos == 2
    assert Counter(server.mailbox.subjects()) == Counter(subjects(40))


def test_retry_in_the_url_sends_again_after_a_451(server):
    server.mailbox.defer = set(range(1, 20, 2))  # every other DATA
    target = Target(name="mail", url=server.url() + "&retry=1")
    with Sender() as sender:
        results = [sender.send(target, f"m{i}", "body", "text") for i in range(3)]
    assert [r.ok for r in results] == [True] * 3, results
    assert server.mailbox.subjects() == ["m0", "m1", "m2"]
    assert server.mailbox.datas == 6 and server.mailbox.ehlos == 1


def test_a_retry_goes_only_to_the_recipients_that_did_not_accept(server):
    server.mailbox.defer = {2}  # the second recipient's copy
    target = Target(name="mail", url=server.url(to="a@example.org,b@example.org") + "&retry=2")
    with Sender() as sender:
        assert sender.send(target, "subject", "body", "text").ok
    assert server.mailbox.recipients == [["a@example.org"], ["b@example.org"]]
    assert server.mailbox.datas == 3


def test_without_retry_or_after_a_5xx_a_message_is_tried_once(server):
    server.mailbox.defer = {1}
    with Sender() as sender:
        deferred = sender.send(Target(name="m", url=server.url()), "one", "b", "text")
        refused = Target(name="r", url=server.url() + "&retry=3")
        permanent = sender.send(refused, "two refuse me", "refuse me", "text")
    assert not deferred.ok and "451 4.3.0 try again" in deferred.error
    assert not permanent.ok and "550" in permanent.error
    assert server.mailbox.datas == 2 and not server.mailbox.messages


def test_a_retry_that_could_not_start_within_the_bound_is_not_waited_for(server):
    server.mailbox.defer = {1}
    target = Target(name="mail", url=server.url() + "&retry=3&wait=20")
    with Sender(bound=5.0) as sender:
        result = sender.send(target, "one", "body", "text")
    # the 451 is the answer, not the bound: the session did not sit out the wait
    assert not result.ok and "451 4.3.0 try again" in result.error
    assert server.mailbox.datas == 1


_HEADER_NOISE = re.compile(rb"^(Date|Message-ID): .*$", re.M)


def _normalized(raw: bytes) -> bytes:
    boundaries = set(re.findall(rb'boundary="([^"]+)"', raw))
    for i, b in enumerate(sorted(boundaries)):
        raw = raw.replace(b, b"BOUNDARY%d" % i)
    return _HEADER_NOISE.sub(rb"\1: -", raw)


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("text", "Baku. Officials met.\nLine two: tiers & *stars* <b>not html</b>\n"),
        ("html", "<p>Baku. <b>Officials</b> met &amp; talked.</p><p>Ä ß € 🙂</p>"),
        ("markdown", "# Tier 2\n\n*Azerbaijan* stays: [report](https://example.org/r)\n"),
    ],
)
def test_a_session_sends_the_same_mail_as_apprise_notify(server, fmt, body):
    target = Target(name="mail", url=server.url(to="a@example.org,b@example.org"))
    title = "[trafficking] Azerbaijan stays on Tier 2 (AZ) — ünïcode"
    assert _notify(target, title, body, fmt).ok
    with Sender() as sender:
        assert sender.send(target, title, body, fmt).ok
    raw = server.mailbox.raw
    assert len(raw) == 4  # one per recipient, each way
    assert _normalized(raw[0]) == _normalized(raw[2])
    assert _normalized(raw[1]) == _normalized(raw[3])
    assert server.mailbox.recipients[:2] == server.mailbox.recipients[2:]


class _Trickler:
    """A plain-socket SMTP server: accepts the first message, answers the second one's DATA
    one byte every 0.2 s for up to 20 s, accepts the others."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hung_up = threading.Event()  # the client hung up while the server trickled
        self.received = self.messages = 0
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        f = conn.makefile("rb")
        with conn:
            conn.sendall(b"220 trickle\r\n")
            while line := f.readline():
                verb = line[:4].upper()
                if verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                if verb != b"DATA":
                    conn.sendall(b"250 ok\r\n")
                    continue
                conn.sendall(b"354 go on\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                self.messages += 1
                if self.messages != 2:
                    self.received += 1
                    conn.sendall(b"250 ok\r\n")
                    continue
                for _ in range(100):  # 20 s, one byte at a time
                    if self.stop.wait(0.2):
                        return
                    try:
                        conn.sendall(b"2")
                    except OSError:
                        self.hung_up.set()
                        return
                return

    def url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}"
            "?from=newswatch@example.org&to=analyst@example.org&mode=insecure"
        )


def test_a_trickling_server_holds_one_message_for_the_bound_only():
    trickler = _Trickler()
    target = Target(name="slow", url=trickler.url())
    try:
        with Sender(bound=1.0) as sender:
            assert sender.send(target, "one", "body", "text").ok
            stuck = sender.send(target, "two", "body", "text")
            assert not stuck.ok and "did not finish within 1 s" in stuck.error
            # the next message opens a new session and goes out
            assert sender.send(target, "three", "body", "text").ok
        assert trickler.received == 2
        # the client gave up before the trickle ended (the wait is a failure guard)
        assert trickler.hung_up.wait(timeout=30)
    finally:
        trickler.stop.set()
        trickler.sock.close()


# A self-signed certificate for 127.0.0.1 and localhost, made for these tests only (openssl
# req -x509 -newkey rsa:2048 -nodes -days 36500): its key protects nothing.
TLS = Path(__file__).parent / "tls"


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    mailbox, auth, port = _Sessions(), _AcceptAll(), free_port()
    # aiosmtpd offers AUTH over implicit TLS only when told that it need not be STARTTLS
    tls = (
        {"ssl_context": context, "auth_require_tls": False}
        if request.param == "ssl"
        else {"tls_context": context}
    )
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=auth, **tls)
    controller.start()
    url = (
        f"mailtos://newswatch:pw@127.0.0.1:{port}"
        f"?from=newswatch@example.org&to=analyst@example.org&mode={request.param}"
    )
    yield url, mailbox, auth
    controller.stop()


def test_a_tls_session_logs_in_once_for_many_mails(tls_server):
    url, mailbox, auth = tls_server
    target = Target(name="tls", url=url + "&verify=no")
    with Sender() as sender:
        assert all(sender.send(target, f"m{i}", "body", "text").ok for i in range(5))
    assert mailbox.subjects() == [f"m{i}" for i in range(5)]
    assert len(auth.logins) == 1


def test_a_tls_session_checks_the_certificate_unless_told_not_to(tls_server):
    url, mailbox, auth = tls_server
    result = send(Target(name="tls", url=url), "subject", "body", "text")
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert "pw" not in result.error and not auth.logins and not mailbox.messages
