"""Stories across outlets through a real crawl: the SemEval pairs published by two local
outlets and collected by `newswatch crawl`, as issue 15's held-out sample is read.

``bench/bench_stories.py`` hands the corpus texts to the story assigner directly (headline
cut from the text, language from the corpus). Here every article goes the way a user's does:
each outlet (its own loopback address, 127.0.0.2 and 127.0.0.3) serves RSS feeds of 50 items
(title, link, a short description, the channel's language) and an HTML page per article (site
header, navigation and footer around an ``<article>``); the sources are ``full_text = true``
feeds, so newswatch fetches every page, extracts the article, detects or reads the language
and assigns stories, all with the shipped defaults (only ``allow_private_addresses`` is set,
since 127.0.0.x is one). The figures are read from the archive's ``articles.story_id``.

Printed beside the same run's direct path (``bench_stories.store``), so a gap between the two
is what crawling, extraction and language detection cost:

    .venv/bin/python bench/stories_crawl.py [--seed 15] [--no-language]

``--no-language`` leaves the channel's ``<language>`` and the page's ``lang`` out (newswatch
must detect every language). Never asserts; skips when ../shared/corpora is absent.
"""

from __future__ import annotations

import argparse
import html
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# before results, which imports crawler: from a git worktree the editable install would
# otherwise resolve crawler to the main tree's package
sys.path[:0] = [str(REPO / "tests"), str(REPO / "bench"), str(REPO)]

import bench_stories  # noqa: E402
import results  # noqa: E402

from crawler.config import DedupeSettings  # noqa: E402

BENCH = "stories-crawl"
HOSTS = {"outlet-a": "127.0.0.2", "outlet-b": "127.0.0.3"}
PER_FEED = 50
PUBLISHED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def page(title: str, body: str, outlet: str, language: str | None) -> bytes:
    """An article page as news sites write them: furniture around an ``<article>``."""
    paras = [p.strip() for p in body.replace("\r", "").split("\n") if p.strip()] or [body]
    lang = f' lang="{language}"' if language else ""
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in ("world", "economy"))
    return (
        f"<!doctype html><html{lang}><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} | {outlet}</title></head><body>"
        f"<header><a href='/'>{outlet}</a><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{html.escape(title)}</h1>"
        f"<time datetime='{PUBLISHED.isoformat()}'>{PUBLISHED:%d %B %Y}</time>"
        + "".join(f"<p>{html.escape(p)}</p>" for p in paras)
        + f"</article></main><footer>&copy; {outlet}. All rights reserved.</footer>"
        "</body></html>"
    ).encode("utf-8")


def feed(outlet: str, base: str, items: list[dict], language: str | None) -> bytes:
    lang = f"<language>{language}</language>" if language else ""
    out = [
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{outlet}</title><link>{base}/</link><description>news</description>{lang}"
    ]
    for d in items:
        link = f"{base}/article/{d['key']}.html"
        words = d["body"].split()
        summary = " ".join(words[:30]) + (" ..." if len(words) > 30 else "")
        out.append(
            f"<item><title>{html.escape(d['title'])}</title><link>{link}</link>"
            f"<guid>{link}</guid><description>{html.escape(summary)}</description>"
            f"<pubDate>{format_datetime(PUBLISHED)}</pubDate></item>"
        )
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def serve(docs: list[dict], with_language: bool) -> tuple[list, list[tuple[str, str]]]:
    """Start one server per outlet; the servers and the (source name, feed URL) list."""
    from support.httpserver import LocalServer

    servers, sources = [], []
    for outlet, host in HOSTS.items():
        server = LocalServer(host=host).start()
        servers.append(server)
        base = f"http://{host}:{server.port}"
        mine = [d for d in docs if d["outlet"] == outlet]
        server.add("/robots.txt", body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
        # one feed per language, as outlets publish editions: the channel's language is true
        by_language: dict[str, list[dict]] = {}
        for d in mine:
            by_language.setdefault(d["language"], []).append(d)
        for language, group in sorted(by_language.items()):
            lang = language if with_language else None
            for d in group:
                server.add(
                    f"/article/{d['key']}.html",
                    body=page(d["title"], d["body"], outlet, lang),
                    content_type="text/html; charset=utf-8",
                )
            for n in range(0, len(group), PER_FEED):
                path = f"/{language}/feed-{n // PER_FEED}.xml"
                server.add(
                    path,
                    body=feed(outlet, base, group[n : n + PER_FEED], lang),
                    content_type="application/rss+xml",
                )
                sources.append((f"{outlet}-{language}-{n // PER_FEED}", base + path))
    return servers, sources


def crawl(sources: list[tuple[str, str]], work: Path) -> tuple[dict[str, int], float, str]:
    """One `newswatch crawl` over every source; {article key: story id}, seconds, stderr."""
    db_path = work / "crawl.db"
    text = f'[archive]\npath = "{db_path}"\n\n[crawl]\nallow_private_addresses = true\n'
    for name, url in sources:
        text += f'\n[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{url}"\nfull_text = true\n'
    cfg = work / "crawl.toml"
    cfg.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(REPO / "scheduler.py"), "crawl", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    seconds = time.perf_counter() - t0
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT url, story_id FROM articles").fetchall()
    db.close()
    story = {url.rsplit("/", 1)[1].removesuffix(".html"): sid for url, sid in rows}
    return story, seconds, proc.stderr if proc.returncode else ""


def report(label: str, story: dict[str, int], docs: list[dict], pairs) -> None:
    # a page the crawl lost has no story: its pairs count as not joined (the key gets an
    # id of its own), and the count is printed
    missing = [d["key"] for d in docs if d["key"] not in story]
    story = dict(story)
    for i, key in enumerate(missing):
        story[key] = -1 - i
    same = bench_stories.pair_scores(story, pairs, True)
    cross = bench_stories.pair_scores(story, pairs, False)
    print(
        f"{label}: same-language precision {same['precision']:.3f} recall {same['recall']:.3f} "
        f"({same['tp']} of {same['positives']}, {same['fp']} wrong; targets >= 0.9 and >= 0.6); "
        f"cross-language {cross['precision']:.3f}/{cross['recall']:.3f} ({cross['tp']} of "
        f"{cross['positives']}, {cross['fp']} wrong); {len(missing)} of {len(docs)} articles "
        "not stored"
    )
    language = {d["key"]: d["language"] for d in docs}
    print(f"  per language: {bench_stories.per_language(story, pairs, language)}")
    for half in (0, 1):
        h = bench_stories.pair_scores(story, pairs[half::2], True)
        print(
            f"  half {half + 1}: precision {h['precision']:.3f} recall {h['recall']:.3f} "
            f"({h['tp']} of {h['positives']}, {h['fp']} wrong)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=15, help="article order (as bench_stories)")
    ap.add_argument(
        "--no-language",
        action="store_true",
        help="leave the feeds' and pages' language out: newswatch detects it",
    )
    args = ap.parse_args()
    if not bench_stories.PAIRS.is_file():
        return results.skip(BENCH, f"{bench_stories.PAIRS} is absent (not part of the project)")
    docs, pairs = bench_stories.semeval(args.seed)
    for d in docs:
        d["title"], d["body"] = bench_stories.headline(d["text"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        direct = bench_stories.store(docs, DedupeSettings(), work, "direct")
        report("direct (bench_stories' path)", direct, docs, pairs)
        servers, sources = serve(docs, not args.no_language)
        try:
            story, seconds, error = crawl(sources, work)
        finally:
            for server in servers:
                server.stop()
        if error:
            print(f"newswatch crawl failed:\n{error[-3000:]}")
        print(f"crawl: {len(sources)} feeds, {len(story)} articles stored in {seconds:.1f} s")
        report("through `newswatch crawl` (shipped defaults)", story, docs, pairs)
        moved = sum(
            1
            for a, b, same, lang in pairs
            if lang and same and (direct[a] == direct[b]) != (story.get(a, -1) == story.get(b, -2))
        )
        print(f"same-language same-story pairs judged differently by the two paths: {moved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
