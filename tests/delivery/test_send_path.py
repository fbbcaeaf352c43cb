"""The send path of one message: sent in the thread that records it, templates read once per
delivery pass, and an edited template read by the next pass."""

from __future__ import annotations

import re
import threading

import apprise
from hypothesis import given, settings
from hypothesis import strategies as st
from support.smtp import SMTPServer

from alerts.config import Target
from alerts.render import Renderer, excerpt
from alerts.targets import send


def test_a_message_is_sent_in_the_calling_thread(smtp):
    # Apprise's default service timeout hands every notify() to its own pool and may stop
    # waiting for it: the next message would then leave while the first is still in flight.
    # Sent in the calling thread, a target has one message in flight and its outcome is known
    # when it is recorded.
    target = Target(name="mail", url=smtp.url())
    with apprise.LogCapture(level=apprise.logging.INFO, fmt="%(thread)d %(message)s") as logs:
        results = [send(target, f"n{i}", "body", "text") for i in range(3)]
    assert all(r.ok for r in results)
    sent_from = re.findall(r"^(\d+) Sent Email", logs.getvalue(), re.M)
    assert sent_from == [str(threading.get_ident())] * 3
    assert sorted(smtp.mailbox.subjects()) == ["n0", "n1", "n2"]


def test_a_refused_send_still_says_why(smtp):
    # the reason comes from Apprise's result of the send in this thread (no pool between)
    down = SMTPServer()
    url = down.url()  # never started: nothing listens on its port
    result = send(Target(name="down", url=url), "subject", "body", "text")
    assert result.ok is False
    assert result.error and "pw" not in result.error


def test_a_renderer_reads_an_edited_template_when_made_again(tmp_path):
    (tmp_path / "alert.txt.j2").write_text("body")
    (tmp_path / "alert.subject.j2").write_text("first {{ watch }}")
    assert Renderer(tmp_path).render("alert", "text", watch="w", item={})[0] == "first w"
    renderer = Renderer(tmp_path)
    assert renderer.render("alert", "text", watch="w", item={})[0] == "first w"
    (tmp_path / "alert.subject.j2").write_text("second {{ watch }}")
    # one delivery pass keeps the templates it read; the next pass (a new Renderer) reads
    # the edited file
    assert renderer.render("alert", "text", watch="w", item={})[0] == "first w"
    assert Renderer(tmp_path).render("alert", "text", watch="w", item={})[0] == "second w"


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n\t\u00a0\u2003c."), max_size=900),
    chars=st.integers(min_value=1, max_value=400),
)
def test_an_excerpt_without_terms_is_the_start_of_the_collapsed_text(text, chars):
    # without matched terms only the start of an article is read: the same excerpt as
    # collapsing the whole text first, whatever its whitespace
    whole = " ".join(text.split())
    expected = whole if len(whole) <= chars else whole[:chars].rsplit(" ", 1)[0] + " …"
    assert excerpt(text, [], chars) == expected
    assert excerpt(text, [["", 1]], chars) == expected  # an empty term is no term
