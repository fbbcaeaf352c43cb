"""The private-address guard reads every numeric host form and checks the real destination
behind a proxy too: a redirect to 2130706433, 127.1 or 0177.0.0.1 through a real local
forwarding proxy is refused before anything is fetched."""

from __future__ import annotations

import ipaddress
import socket

import pytest
import sqlite_utils
from support.httpserver import LocalServer, Reply
from support.proxy import ForwardingProxy

from crawler.urls import is_private_address, numeric_host


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("169.254.169.254.", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("::ffff:7f00:1", "127.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),
        ("2002:7f00:1::1", "127.0.0.1"),
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("[::1]", "::1"),
        ("fec0::1", "fec0::1"),
    ],
)
def test_every_numeric_form_of_a_private_address_is_private(host, address):
    assert numeric_host(host) == ipaddress.ip_address(address)
    assert is_private_address(host)


@pytest.mark.parametrize("host", ["134744072", "8.8.8.8", "0x8.0x8.0x8.0x8", "2002:808:808::1"])
def test_public_addresses_in_any_form_are_public(host):
    assert numeric_host(host) == ipaddress.ip_address("8.8.8.8")
    assert not is_private_address(host)


@pytest.mark.parametrize("host", ["news.example", "1.2.3.4.5", "256.1.1.1", "08.1.1.1"])
def test_names_and_impossible_numbers_are_not_addresses(host):
    assert numeric_host(host) is None


CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = false
obey_robots = false
autothrottle = false
retries = 0
max_redirects = 3
download_timeout = "5s"
"""


def _private_name() -> str | None:
    """This machine's name when it resolves to a private address here (it usually does)."""
    name = socket.gethostname()
    try:
        return name if is_private_address(socket.gethostbyname(name)) else None
    except OSError:
        return None


@pytest.mark.slow
def test_redirects_to_private_addresses_behind_a_proxy_are_refused(
    write_config, run_newswatch, tmp_path
):
    origin = LocalServer().start()
    proxy = ForwardingProxy(hosts={"news.example": ("127.0.0.1", origin.port)}).start()
    try:
        secret = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Inside</title>'
            "<item><title>Secret</title><link>https://news.example/s</link></item>"
            "</channel></rss>"
        )
        origin.add("/secret", body=secret, content_type="application/rss+xml")
        hosts = ["2130706433", "127.1", "0177.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]"]
        if _private_name():
            hosts.append(_private_name())  # a name: resolved here although a proxy is set
        text = CONFIG
        for i, host in enumerate(hosts):
            origin.add(f"/start-{i}", Reply(redirect=f"http://{host}:{origin.port}/secret"))
            text += (
                f'[[sources]]\nname = "s{i}"\nkind = "feed"\n'
                f'url = "http://news.example/start-{i}"\n'
            )
        # The same redirect to a public-looking name is followed (the proxy is in use).
        origin.add("/start-ok", Reply(redirect="http://news.example/secret"))
        text += '[[sources]]\nname = "ok"\nkind = "feed"\nurl = "http://news.example/start-ok"\n'
        cfg = write_config(text)
        env = {"http_proxy": proxy.url, "no_proxy": "", "NO_PROXY": ""}
        proc = run_newswatch("crawl", "--config", str(cfg), env=env)
        db = sqlite_utils.Database(tmp_path / "archive.db")
        rows = {r["name"]: r for r in db.query("SELECT * FROM sources")}
        for i, host in enumerate(hosts):
            assert rows[f"s{i}"]["last_error_class"] == "private_address_refused", (
                host,
                rows[f"s{i}"],
                proc.stderr[-2000:],
            )
        assert rows["ok"]["last_error_class"] is None, rows["ok"]
        assert [r["source"] for r in db.query("SELECT source FROM articles")] == ["ok"]
        # Nothing went through the proxy to a private address: only news.example.
        assert {h for h, _p, _path in proxy.forwarded} == {"news.example"}
        assert origin.hits("/secret") == 1  # the "ok" source's, through news.example
    finally:
        proxy.stop()
        origin.stop()
