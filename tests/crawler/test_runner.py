"""The async crawl API awaited several times in one process on one asyncio reactor (as the
daemon does), the crawl timeout, and `newswatch sources discover`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO
from support.httpserver import Reply

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources

    base, archive = sys.argv[1], sys.argv[2]
    fast = dict(allow_private_addresses=True, autothrottle=False, download_timeout="5s")
    feed = Source(name="feed", kind="feed", url=base + "/feeds/local.xml", full_text=True)
    slow = Source(name="slow", kind="html", url=base + "/slow/1", links="a.story",
                  next_page="a.next", max_pages=100)
    out = []

    async def main():
        for settings, sources in [
            (CrawlSettings(**fast), [feed]),
            (CrawlSettings(**fast), [feed]),
            (CrawlSettings(**fast, crawl_timeout="2s"), [feed, slow]),
        ]:
            results = await crawl_sources(settings, sources, archive)
            out.append({"pid": os.getpid(), "reactor": type(reactor).__name__,
                        "results": [vars(r) for r in results]})

    def done(result):
        reactor.stop()
        return result

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)


@pytest.mark.slow  # a real process
def test_three_crawls_in_one_process_and_the_crawl_timeout(news_site, tmp_path):
    for i in range(1, 101):  # a listing that would take 100 slow pages
        news_site.add(
            f"/slow/{i}",
            Reply(
                body=f'<a class="story" href="/articles/l1">x</a><a class="next" href="/slow/{i + 1}">n</a>',
                content_type="text/html",
                delay=0.5,
            ),
        )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, news_site.url(""), str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(runs) == 3 and len({r["pid"] for r in runs}) == 1
    assert {r["reactor"] for r in runs} == {"AsyncioSelectorReactor"}
    first, second, third = (r["results"] for r in runs)
    assert first[0]["status"] == "ok" and first[0]["items_new"] == 2
    assert second[0]["status"] == "not_modified" and second[0]["http_status"] == 304
    feed, slow = third
    assert feed["status"] == "not_modified"
    assert slow["status"] == "timeout" and slow["error_class"] == "timeout"
    assert news_site.hits("/slow/100") == 0


def test_sources_discover_prints_config(news_site, run_newswatch, write_config):
    cfg = write_config(
        """
        [archive]
        path = "{archive}"
        [crawl]
        allow_private_addresses = true
        """
    )
    proc = run_newswatch("sources", "discover", news_site.url("/"), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f'url = "{news_site.url("/feeds/local.xml")}"' in out
    # each feed is fetched once: the announced atom feed is not served, so it is printed
    # commented out with the reason, not as config to paste
    assert f'# url = "{news_site.url("/feeds/atom.xml")}"' in out
    assert "# not working: http_4xx" in out
    assert f'url = "{news_site.url("/sitemap_index.xml")}"' in out
    assert 'kind = "sitemap"' in out and "style.css" not in out
    import tomllib

    parsed = tomllib.loads(out)
    assert len(parsed["sources"]) == 2


def test_discover_refuses_private_addresses_by_default(news_site, run_newswatch, write_config):
    cfg = write_config('[archive]\npath = "{archive}"\n')
    proc = run_newswatch("sources", "discover", news_site.url("/"), "--config", str(cfg))
    assert proc.returncode == 1
    assert "private_address_refused" in proc.stderr


ROBOTS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.robots import RobotsCache
    from crawler.runner import crawl_sources

    base, archive = sys.argv[1], sys.argv[2]
    crawl = CrawlSettings(allow_private_addresses=True, autothrottle=False, obey_robots=True)
    feed = Source(name="feed", kind="feed", url=base + "/feeds/rss20.xml")
    blocked = Source(name="blocked", kind="feed", url=base + "/private/feed.xml")
    cache = RobotsCache()
    out = []

    async def main():
        for shared in (cache, cache, None):
            results = await crawl_sources(crawl, [feed, blocked], archive, robots=shared)
            out.append([r.error_class for r in results])

    reactor.callWhenRunning(
        lambda: deferred_from_coro(main()).addBoth(lambda r: reactor.stop() or r))
    reactor.run()
    print(json.dumps(out))
    """
)


@pytest.mark.slow  # a real process
def test_robots_txt_is_kept_between_crawls_of_one_process(news_site, tmp_path):
    before = news_site.hits("/robots.txt")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            ROBOTS_SCRIPT,
            news_site.url("").rstrip("/"),
            str(tmp_path / "a.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    # robots.txt is obeyed in every crawl, from the cache or fetched...
    assert runs == [[None, "robots_denied"]] * 3
    # ...but fetched once by the first crawl sharing the cache, not by the second, nor by
    # the crawl without it: the archive keeps it too (crawler/robots.py), with its expiry.
    assert news_site.hits("/robots.txt") - before == 1


def test_redirects_to_other_schemes_are_refused_and_read_nothing(
    news_site, run_newswatch, write_config
):
    """Only http(s) is fetched: a redirect to file://, ftp:// or data: ends the source with
    an error (Scrapy's handlers for them are not installed) and stores nothing."""
    targets = {
        "to-file": "file:///etc/passwd",
        "to-ftp": "ftp://127.0.0.1/feed.xml",
        "to-data": "data:application/xml,<rss><channel><item><link>http://x/</link></item></channel></rss>",
    }
    text = '[archive]\npath = "{archive}"\n[crawl]\nallow_private_addresses = true\nautothrottle = false\n'
    for name, location in targets.items():
        news_site.add(f"/redirect/{name}", Reply(status=302, headers={"Location": location}))
        text += f'[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{news_site.url("/redirect/" + name)}"\n'
    cfg = write_config(text)
    proc = run_newswatch("crawl", "--config", str(cfg))
    assert proc.returncode == 3, proc.stderr  # every source failed (README: exit codes)
    status = run_newswatch("status", "--json", "--config", str(cfg))
    report = {r["section"]: r for r in map(json.loads, status.stdout.splitlines())}
    rows = {
        s["name"]: s
        for s in map(json.loads, status.stdout.splitlines())
        if s["section"] == "source"
    }
    for name, location in targets.items():
        assert rows[name]["last_error_class"] == "redirect_refused", rows[name]
        assert location[:40] in rows[name]["last_error"]
        assert rows[name]["consecutive_failures"] == 1
    assert report["archive"]["articles"] == 0
