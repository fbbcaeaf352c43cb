"""A delivery pass sends while it builds: the first message leaves before the last is built,
a message that cannot be built fails alone (one attempt), and the render shortcuts give the
same text as the full passes."""

from __future__ import annotations

import re
import unicodedata

from delivery.newsdata import T0
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.render import (
    _CONTROL,
    _MENTION,
    WORD_JOINER,
    Renderer,
    clean_text,
    no_mentions,
    subject_line,
)

DELIVERY = DeliverySettings(backoff="1m", max_backoff="10m", max_attempts=3)


class WaitingRenderer(Renderer):
    """A real renderer that, before its last alert, waits for a mail to have arrived."""

    def __init__(self, mailbox, last_title: str):
        super().__init__()
        self.mailbox, self.last_title, self.saw_a_mail = mailbox, last_title, None

    def render(self, kind, fmt, **context):
        if kind == "alert" and context["item"]["title"] == self.last_title:
            self.saw_a_mail = self.mailbox.wait_for(1, timeout=30)
        return super().render(kind, fmt, **context)


def test_the_first_message_leaves_before_the_last_is_built(db, news, smtp):
    for n in range(3):
        news.add(f"Story {n}")
    targets = [Target(name="mail", url=smtp.url())]
    watches = [Watch(name="trafficking", query="x", targets=["mail"])]
    outbox.enqueue(db, watches, targets, now=T0)
    renderer = WaitingRenderer(smtp.mailbox, "Story 2")
    stats = deliver_due(db, watches, targets, DELIVERY, now=T0, renderer=renderer)
    # built all before sending, the wait would have run out with no mail
    assert renderer.saw_a_mail is True
    assert (stats.messages, stats.sent) == (3, 3)
    assert sorted(smtp.mailbox.subjects()) == [f"[trafficking] Story {n} (AZ)" for n in range(3)]
    assert outbox.status_counts(db)["sent"] == 3


def test_a_message_that_cannot_be_built_fails_alone_with_one_attempt(db, news, smtp, tmp_path):
    (tmp_path / "alert.subject.j2").write_text(
        '{% if item.title == "Broken" %}{{ no_such_value }}{% endif %}[{{ watch }}] {{ item.title }}'
    )
    news.add("Fine one")
    news.add("Broken")
    news.add("Fine two")
    targets = [Target(name="mail", url=smtp.url())]
    watches = [Watch(name="trafficking", query="x", targets=["mail"])]
    delivery = DELIVERY.model_copy(update={"templates": str(tmp_path)})
    outbox.enqueue(db, watches, targets, now=T0)
    stats = deliver_due(db, watches, targets, delivery, now=T0)
    assert (stats.messages, stats.sent, stats.failed, len(stats.errors)) == (2, 2, 0, 1)
    assert sorted(smtp.mailbox.subjects()) == ["[trafficking] Fine one", "[trafficking] Fine two"]
    broken = [r for r in outbox.list_alerts(db) if r["title"] == "Broken"]
    assert [(r["status"], r["attempts"]) for r in broken] == [("pending", 1)]
    assert "no_such_value" in broken[0]["last_error"]


# the full passes the shortcuts skip when they cannot change the text


def _clean_full(value) -> str:
    text = "" if value is None else str(value)
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def _subject_full(value, limit: int) -> str:
    text = " ".join(_clean_full(value).split())
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mentions_full(value) -> str:
    return _MENTION.sub(lambda m: m.group(1) + WORD_JOINER, _clean_full(value))


_TRICKY = "ab @!#&*.\t\r\n\x00\x1f\x7f\x85\xa0\u200b\u2028\u2029\u202e\u2066\u3000\ufeff\U0001f600"


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(st.text(alphabet=st.sampled_from(_TRICKY)), st.text()),
    limit=st.integers(min_value=1, max_value=40),
)
def test_render_shortcuts_give_the_full_passes_text(text, limit):
    assert clean_text(text) == _clean_full(text)
    assert subject_line(text, limit) == _subject_full(text, limit)
    assert no_mentions(text) == _mentions_full(text)
    assert re.sub(r"\s", "", no_mentions("@everyone " + text)).startswith("@" + WORD_JOINER)
