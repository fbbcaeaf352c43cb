"""bench_soak.py's feeds: a local HTTP server whose N feeds each publish one new item per
fetch, every item a story of its own (words drawn for it alone), one in MATCH_EVERY about
forced labour; an item's code word in its headline names it again in a mail."""

from __future__ import annotations

import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import accumulate

from crawler import times

MATCH_EVERY = 10  # one item in ten is about forced labour, and is mailed
# Made-up words (no q in them) make a vocabulary used as news uses its own: a few words
# often, most rarely (Zipf's law); each item also names two people or places of its own.
# Two items share common words, never a story. A word drawn for every item anew (the
# soak's first try) grew the event terms' word table four times faster than 200 real feeds
# do (about 9 new words an article there, 7 here).
_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "z",
    "br",
    "cr",
    "dr",
    "fl",
    "gr",
    "pl",
    "st",
    "tr",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))


VOCABULARY = list(dict.fromkeys(_word(random.Random(n)) for n in range(24_000)))[:20_000]
_ZIPF = list(accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))
_DIGITS = "abcdefghij"  # an item's code spells its feed and number in letters, no digits:
# a number is an event term of its own, shared by every feed's item k


def code(feed: int, k: int) -> str:
    """The word naming item ``k`` of ``feed`` in its headline (found again in the mail)."""
    return (
        "qq"
        + "".join(_DIGITS[int(d)] for d in str(feed))
        + "x"
        + ("".join(_DIGITS[int(d)] for d in str(k)))
    )


CODE = re.compile(r"\bqq([a-j]+)x([a-j]+)\b")


def token_of(code_match: re.Match) -> str:
    """The f<feed>i<k> token of a code found in a mail."""
    feed, k = ("".join(str(_DIGITS.index(c)) for c in g) for g in code_match.groups())
    return f"f{feed}i{k}"


def story_text(feed: int, k: int) -> tuple[str, str]:
    """The headline and text of item ``k`` of ``feed`` (the same on every fetch): words of
    the vocabulary and two names of its own; one item in MATCH_EVERY is about forced
    labour."""
    rng = random.Random(feed * 1_000_003 + k)
    names = [_word(rng).capitalize() for _ in range(2)]

    def words(n: int) -> list[str]:
        return rng.choices(VOCABULARY, cum_weights=_ZIPF, k=n)

    head, sentences = words(5), [words(rng.randint(10, 15)) for _ in range(3)]
    head.insert(1, names[0])
    sentences[0][2:2] = names
    sentences[2][4:4] = names[1:]
    if k % MATCH_EVERY == 0:
        head[2:2] = ["forced", "labour"]
        sentences[0][3:3] = ["forced", "labour"]
    title = f"{code(feed, k)}: {' '.join(head).capitalize()}"
    return title, " ".join(" ".join(s).capitalize() + "." for s in sentences)


class ChangingFeeds:
    """N feeds; every fetch of a feed publishes one new item in it (until frozen)."""

    def __init__(self, feeds: int):
        self.counts = [0] * feeds
        self.published: dict[str, float] = {}
        self.frozen = False  # set after the last cycle: fetches publish nothing new
        self.lock = threading.Lock()
        feeds_ = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):  # noqa: N802
                m = re.match(r"^/feed/(\d+)\.xml$", self.path)
                if not m or int(m.group(1)) >= len(feeds_.counts):
                    self.send_error(404)
                    return
                body = feeds_.next_body(int(m.group(1)))
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/feed/{i}.xml"

    def next_body(self, feed: int) -> bytes:
        with self.lock:
            if not self.frozen or not self.counts[feed]:
                self.counts[feed] += 1
            n = self.counts[feed]
            items = []
            for k in range(max(1, n - 19), n + 1):
                token = f"f{feed}i{k}"
                published = self.published.setdefault(token, time.time())
                title, text = story_text(feed, k)
                items.append(
                    f"<item><title>{title}</title>"
                    f"<link>http://soak.invalid/{token}</link><guid>{token}</guid>"
                    f"<pubDate>{times.rfc822(times.from_timestamp(published))}</pubDate>"
                    f"<description>{text}</description></item>"
                )
        return (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>soak</title>"
            "<link>http://soak.invalid/</link><description>d</description>"
            f"<language>en</language>{''.join(items)}</channel></rss>"
        ).encode()

    def matching(self) -> set[str]:
        return {t for t in self.published if int(t.split("i")[1]) % MATCH_EVERY == 0}
