"""The send path of one message: a refused send says why, templates read once per delivery
pass, and an edited template read by the next pass."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.smtp import SMTPServer

from alerts.config import Target
from alerts.render import Renderer, excerpt
from alerts.targets import send


def test_a_refused_send_still_says_why():
    # the reason comes from Apprise's result of the send, and the password is not in it
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
