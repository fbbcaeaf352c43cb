"""`newswatch extract URL`: a page fetched like a crawl fetches it (the private-address rule,
HTTP errors, non-HTML, a timeout), extracted by the crawler's own extraction."""

from __future__ import annotations

import json

from support.httpserver import LocalServer, Reply

PARAGRAPH = (
    "Inspectors in Ganja said on Tuesday that eleven seasonal workers had been held in a "
    "warehouse and made to pick hazelnuts without pay, a case now treated as forced labour. "
)
PAGE = f"""<!doctype html>
<html lang="en"><head><title>Hazelnut pickers freed in Ganja | Local Wire</title>
<meta name="author" content="Leyla Mammadova"></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>Hazelnut pickers freed in Ganja</h1>
<p>{PARAGRAPH * 3}</p><p>{PARAGRAPH * 2}</p></article>
<footer>Follow us</footer></body></html>"""
CONFIG = '[archive]\npath = "{archive}"\n'


def _server() -> LocalServer:
    server = LocalServer().start()
    server.add("/story", body=PAGE, content_type="text/html; charset=utf-8")
    server.add("/gone", status=404, body="not here", content_type="text/html")
    server.add("/report.pdf", body=b"%PDF-1.4 not a page", content_type="application/pdf")
    server.add("/slow", Reply(body=PAGE, content_type="text/html", delay=30))
    return server


def test_extract_a_local_page_only_when_private_addresses_are_allowed(
    run_newswatch, write_config, tmp_path
):
    server = _server()
    try:
        config = str(write_config(CONFIG))
        story = server.url("/story")

        refused = run_newswatch("--config", config, "extract", story)
        assert refused.returncode == 3, refused.stderr
        assert refused.stdout == ""
        assert f"cannot extract {story}: private address 127.0.0.1 refused" in refused.stderr
        # names both ways to allow it: the setting and the option
        assert "allow_private_addresses" in refused.stderr
        assert "--allow-private-addresses" in refused.stderr
        assert server.hits("/story") == 0  # refused before any request left

        saved = tmp_path / "saved.html"
        saved.write_text(PAGE, encoding="utf-8")
        proc = run_newswatch(
            "--config", config, "extract", "--allow-private-addresses", story, str(saved)
        )
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(rows) == 2
        fetched = next(r for r in rows if r["url"] == story)
        kept = next(r for r in rows if r["url"] is None)
        assert fetched["title"] == "Hazelnut pickers freed in Ganja"
        assert "forced labour" in fetched["text"] and "Follow us" not in fetched["text"]
        assert fetched["language"] == "en"
        # the same extraction as the saved copy of the same page
        assert {k: v for k, v in fetched.items() if k != "url"} == {
            k: v for k, v in kept.items() if k != "url"
        }
    finally:
        server.stop()


def test_http_errors_and_non_html_are_clear_and_fail(run_newswatch, write_config):
    server = _server()
    try:
        # the config's setting allows local addresses as the option does
        config = str(write_config(CONFIG + "[crawl]\nallow_private_addresses = true\n"))
        gone, pdf, story = server.url("/gone"), server.url("/report.pdf"), server.url("/story")

        proc = run_newswatch("--config", config, "extract", gone)
        assert proc.returncode == 3, proc.stderr
        assert proc.stdout == ""
        assert f"cannot extract {gone}: HTTP 404" in proc.stderr
        assert "Traceback" not in proc.stderr

        proc = run_newswatch("--config", config, "extract", story, gone, pdf)
        assert proc.returncode == 1, proc.stderr  # some worked, some did not
        assert [json.loads(line)["url"] for line in proc.stdout.splitlines()] == [story]
        assert f"{gone}: HTTP 404" in proc.stderr
        assert f"{pdf}: not an HTML page (Content-Type: application/pdf)" in proc.stderr
    finally:
        server.stop()


def test_timeout_and_bad_addresses(run_newswatch, write_config):
    server = _server()
    try:
        config = str(write_config(CONFIG + "[crawl]\nallow_private_addresses = true\n"))
        slow = server.url("/slow")
        proc = run_newswatch("--config", config, "extract", "--timeout", "1", slow, timeout=60)
        assert proc.returncode == 3, proc.stderr
        assert f"cannot extract {slow}: timed out" in proc.stderr

        for bad, says in (("ftp://example.org/a.html", "only http:// and https://"),
                          ("no-such-file.html", "is no file"),
                          # addresses Scrapy cannot make a request of: named at once, not
                          # "timed out: no answer within 600 s" after a crawl that asked nothing
                          ("http://example.org:99999/a", "is not a valid address"),
                          ("http://[::1/a", "is not a valid address"),
                          ("http://exa mple.org/a", "names no valid host")):  # fmt: skip
            proc = run_newswatch("--config", config, "extract", bad)
            assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    finally:
        server.stop()


def test_a_password_in_an_address_is_never_printed(run_newswatch, write_config):
    server = _server()
    try:
        config = str(write_config(CONFIG + "[crawl]\nallow_private_addresses = true\n"))
        url = server.url("/story").replace("http://", "http://reader:s3cretpw@")
        proc = run_newswatch("--config", config, "extract", "--timeout", "10", url, timeout=60)
        assert "s3cretpw" not in proc.stdout + proc.stderr
        assert "reader:***@" in proc.stdout + proc.stderr
    finally:
        server.stop()


def test_a_page_needs_no_config_file(run_newswatch, tmp_path):
    # no --config, no ./newswatch.toml, no data/newswatch.toml in the working directory:
    # the crawl's default settings (and the option) are enough to fetch one page
    server = _server()
    try:
        env = {"NEWSWATCH_CONFIG": ""}
        proc = run_newswatch(
            "extract", "--allow-private-addresses", server.url("/story"), cwd=tmp_path, env=env
        )
        assert proc.returncode == 0, proc.stderr
        [row] = [json.loads(line) for line in proc.stdout.splitlines()]
        assert row["title"] == "Hazelnut pickers freed in Ganja"
        # a config named but missing is still the usual error
        missing = run_newswatch(
            "--config", str(tmp_path / "none.toml"), "extract", server.url("/story"), cwd=tmp_path
        )
        assert missing.returncode == 2 and "file not found" in missing.stderr
    finally:
        server.stop()
