"""A source address urlsplit (and so Scrapy's request) cannot read is a config error that
names the source, not a crawl that fails: a port out of range or not a number, an
unbalanced bracket around an IPv6 host."""

from __future__ import annotations

import pytest

from scheduler import ConfigError, load_config

TEXT = """
[[sources]]
name = "good"
kind = "feed"
url = "https://example.org/a.xml"
[[sources]]
name = "bad"
kind = "feed"
url = "{url}"
"""


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://example.org:99999/feed", "Port out of range"),
        ("http://example.org:8o/feed", "Port could not be cast"),
        ("http://[::1/feed", "Invalid IPv6 URL"),
        ("http://::1]/feed", "Invalid IPv6 URL"),
    ],
)
def test_an_unreadable_source_url_names_the_source(write_config, url, words):
    with pytest.raises(ConfigError) as e:
        load_config(write_config(TEXT.format(url=url)))
    problems = dict(e.value.problems)
    assert list(problems) == ["sources[1].url"], e.value.problems
    assert words in problems["sources[1].url"] and url in problems["sources[1].url"]


@pytest.mark.parametrize("url", ["http://[::1]:8080/feed", "https://example.org:443/a"])
def test_a_bracketed_ipv6_host_and_a_port_in_range_load(write_config, url):
    config = load_config(write_config(TEXT.format(url=url)))
    assert [s.url for s in config.sources] == ["https://example.org/a.xml", url]
