"""One SMTP session to one email target, reused for many messages, each send bounded in time.

A session per message cost 3.7 ms a mail on loopback (connect, EHLO, QUIT) plus about 1 ms
handing each send to Apprise's pool (peer bench, 5,300 mails); a real provider adds a TLS
handshake and a login per session and throttles connection rates.

The mail is Apprise's own: ``notify()`` on the target's ``NotifyEmail`` object prepares title
and body (payload cap, format conversion, overflow) and calls the object's ``send()``, which
the session replaces for that one object: it builds the messages with
``NotifyEmail.prepare_emails`` as ``NotifyEmail.send`` does and hands them to the open
connection. The connection is stdlib ``smtplib`` opened as Apprise's
``AppriseSMTPController`` opens it: that controller keeps its connection private, and the
watchdog needs the socket.

Apprise retries (the URL's ``retry=N``, ``wait=S`` apart) in its dispatch, which this path
does not go through, so :meth:`MailSession.send` retries itself: after a transient failure
only (a 4xx reply, a lost connection), to the recipients that have not accepted the message
yet (as ``NotifyEmail.send`` skips them with ``is_delivered``), all attempts within the bound.
"""

from __future__ import annotations

import contextlib
import select
import smtplib
import socket
import ssl
import threading
import time
from typing import Any

BOUND = 60.0  # seconds for one message, as Apprise's service timeout bounded one notify()


def email_plugin(url: str, asset: Any = None) -> Any | None:
    """Apprise's ``NotifyEmail`` object for ``url`` (mailto://, mailtos://), else None
    (subclasses such as Delta Chat add headers through a private hook: sent as before)."""
    import apprise
    from apprise.plugins.email import NotifyEmail

    asset = asset or apprise.AppriseAsset(async_mode=False)
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    return plugin if type(plugin) is NotifyEmail else None


class MailSession:
    """An SMTP session for one ``NotifyEmail`` object, opened on first use; not thread-safe
    (one per send loop). Use as a context manager or call :meth:`close` (QUIT)."""

    def __init__(self, plugin: Any, bound: float = BOUND) -> None:
        self.plugin, self.bound = plugin, bound
        self._smtp: smtplib.SMTP | None = None
        self._error: str | None = None
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._fired = self._asleep = False  # _asleep: waiting with no deadline
        self._watchdog: threading.Thread | None = None
        self._delivered: set[str] = set()  # recipients that accepted the current message
        self._transient = self._permanent = False  # the kinds of failure of this attempt
        plugin.send = self._send_prepared  # the public per-message hook of this one object

    def send(self, title: str, body: str, body_format: Any) -> str | None:
        """Send one message (every recipient of the target); None when the server accepted
        it, else why not (may hold server text: the caller redacts it).

        Up to ``plugin.retry`` more attempts after a transient failure, ``plugin.wait``
        seconds apart, as Apprise's dispatch spaces them; none that could not start within
        the bound."""
        self._delivered = set()
        self._arm()
        for attempt in range(self.plugin.retry + 1):
            self._error, self._transient, self._permanent = None, False, False
            try:
                ok = self.plugin.notify(body=body, title=title, body_format=body_format)
            except Exception as e:  # noqa: BLE001 - Apprise's preparation; one message fails
                ok, self._error = False, self._error or f"{type(e).__name__}: {e}"
                self._permanent = True
            if ok or not self._transient or self._permanent or attempt == self.plugin.retry:
                break
            with self._cond:
                left = None if self._fired else self._deadline - time.monotonic()
            if left is None or self.plugin.wait >= left:
                break  # the next attempt could not start within the bound
            time.sleep(self.plugin.wait)
        if self._disarm():  # the watchdog shut the socket down: this session is over
            self._drop()
            if not ok:
                return f"the mail server did not finish within {self.bound:g} s"
        return None if ok else (self._error or "the mail server did not accept the message")

    def close(self) -> None:
        """QUIT the open connection (bounded like a send) and stop the watchdog."""
        if self._smtp is not None:
            self._arm()
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._disarm()
            self._drop()
        with self._cond:
            watchdog, self._watchdog = self._watchdog, None
            self._cond.notify()
        if watchdog is not None:
            watchdog.join()

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the plugin's send(): NotifyEmail.send's messages over the open connection --------

    def _send_prepared(self, body: str, title: str = "", body_format: Any = None, **kw) -> bool:
        from apprise.plugins.email import AppriseEmailException, NotifyEmail

        p = self.plugin
        if not p.targets:
            self._error = "There are no Email recipients to notify"
            return False
        headers = {"X-Application": p.app_id}
        headers.update(p.headers)
        ok = True
        try:
            for message in NotifyEmail.prepare_emails(
                subject=title,
                body=body,
                notify_format=p.resolve_format(body_format),
                from_addr=p.from_addr,
                to=p.targets,
                cc=p.cc,
                bcc=p.bcc,
                reply_to=p.reply_to,
                smtp_host=p.smtp_host,
                attach=kw.get("attach"),
                headers=headers,
                names=p.names,
                pgp=p.pgp,
                pgp_mode=p.pgp_mode,
                inline=p.inline,
                tzinfo=p.tzinfo,
            ):
                if message.recipient in self._delivered:
                    continue  # accepted on an earlier attempt: never twice
                if self._sendmail(message.to_addrs, message.body):
                    self._delivered.add(message.recipient)
                else:
                    ok = False
        except (AppriseEmailException, OSError, smtplib.SMTPException) as e:
            self._error, ok = self._error or f"{type(e).__name__}: {e}", False
            self._permanent = True
        finally:
            p.pgp.prune()
        return ok

    def _sendmail(self, to_addrs: list[str], data: str, retried: bool = False) -> bool:
        reused = self._smtp is not None and not _closed_by_peer(self._smtp)
        if not reused:
            self._drop()  # closed by the server between messages: no message was in it
            if not self._open():
                return False
        try:
            refused = self._smtp.sendmail(self.plugin.from_addr[1], to_addrs, data)
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients
        except smtplib.SMTPResponseException as e:  # SMTPSenderRefused, SMTPDataError...
            if self._smtp.sock is None:  # smtplib closed it (421: the server is closing)
                self._drop()
                if e.smtp_code == 421 and reused and not retried:
                    # refused before the message was sent: safe to send on a new session
                    return self._sendmail(to_addrs, data, retried=True)
            self._error = f"{e.smtp_code} {_text(e.smtp_error)}"
            self._failed(_transient_code(e.smtp_code))
            return False
        except (OSError, smtplib.SMTPException) as e:
            # the connection broke with this message in flight: it counts as failed (retried
            # by send() when the URL says retry=, else by the outbox); the next attempt or
            # message opens a new session
            self._drop()
            self._error = f"connection to the mail server lost: {type(e).__name__}: {e}"
            self._transient = True
            return False
        if refused:
            # all refused (4xx each: transient) or some: then a retry would repeat the
            # message to the others, so it is not retried here
            every = len(refused) == len(to_addrs)
            self._failed(every and all(_transient_code(c) for c, _ in refused.values()))
            self._error = "; ".join(
                f"recipient {addr} refused: {code} {_text(resp)}"
                for addr, (code, resp) in refused.items()
            )
            return False
        return True

    def _open(self) -> bool:
        # As AppriseSMTPController.__enter__, but a TLS context only for TLS connections,
        # and the SMTP object known before it connects, so the watchdog reaches its socket
        # while the greeting is read.
        p = self.plugin
        mode = p.secure_mode
        context = None
        if mode in ("ssl", "starttls"):
            context = ssl.create_default_context()
            if not p.verify_certificate:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        elif mode != "insecure":
            self._error = f"invalid SMTP secure mode {mode!r}"
            return False
        kind = _SMTPSSL if mode == "ssl" else _SMTP
        kwargs = {"context": context} if mode == "ssl" else {}
        try:
            kind(self._made, p.smtp_host, p.port, None, timeout=p.socket_connect_timeout, **kwargs)
            if mode == "starttls":
                self._smtp.starttls(context=context)
            if p.user and p.password:
                self._smtp.login(p.user, p.password)
        except (OSError, smtplib.SMTPException) as e:
            self._drop()
            self._error = f"cannot open a session with the mail server: {type(e).__name__}: {e}"
            # a 4xx greeting or login reply, or no connection: transient; a refused login,
            # a certificate, a missing extension: not
            code = getattr(e, "smtp_code", None)
            lost = isinstance(e, smtplib.SMTPServerDisconnected) or not isinstance(
                e, (smtplib.SMTPException, ssl.SSLError)
            )
            self._failed(_transient_code(code) if code else lost)
            return False
        return True

    def _failed(self, transient: bool) -> None:
        if transient:
            self._transient = True
        else:
            self._permanent = True

    def _made(self, smtp: smtplib.SMTP) -> None:
        self._smtp = smtp  # before it connects: the watchdog bounds the greeting too

    def _drop(self) -> None:
        """Forget the connection without a word to the server (it is broken or gone)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    # -- the watchdog: per-read socket timeouts do not bound a server that trickles -------

    def _arm(self) -> None:
        with self._cond:
            if self._watchdog is None:
                self._watchdog = threading.Thread(
                    target=self._watch, name="mail-watchdog", daemon=True
                )
                self._watchdog.start()
            self._deadline, self._fired = time.monotonic() + self.bound, False
            if self._asleep:  # else it wakes at an earlier deadline and looks again
                self._cond.notify()

    def _disarm(self) -> bool:
        with self._cond:
            self._deadline = None
            return self._fired

    def _watch(self) -> None:
        me = threading.current_thread()
        with self._cond:
            while self._watchdog is me:
                if self._deadline is None:
                    self._asleep = True
                    self._cond.wait()
                    self._asleep = False
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._fired = True
                sock = getattr(self._smtp, "sock", None)
                if sock is None:  # still connecting: look again shortly
                    self._deadline = time.monotonic() + 0.2
                    continue
                self._deadline = None
                # shutdown (not close) wakes the call blocked on this socket in the sender
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Known:
    """An SMTP connection that hands itself to ``on_made`` before it connects."""

    def __init__(self, on_made, *args, **kwargs) -> None:
        on_made(self)
        super().__init__(*args, **kwargs)


class _SMTP(_Known, smtplib.SMTP):
    pass


class _SMTPSSL(_Known, smtplib.SMTP_SSL):
    pass


def _closed_by_peer(smtp: smtplib.SMTP) -> bool:
    """True when an idle session's server has closed it or announced closing (421): an idle
    SMTP connection has nothing to read otherwise."""
    sock = smtp.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _transient_code(code: Any) -> bool:
    """An SMTP reply code that says try again later (4xx)."""
    return isinstance(code, int) and 400 <= code < 500


def _text(value: Any) -> str:  # smtplib's server replies are bytes
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
