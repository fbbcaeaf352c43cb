"""Canonical URLs and the private-address check."""

import pytest

from crawler.urls import canonical_url, is_private_address


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "HTTPS://News.Example.ORG:443/a/b/?utm_source=x&b=2&a=1#frag",
            "https://news.example.org/a/b?a=1&b=2",
        ),
        (
            "http://news.example:80/x?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&id=7",
            "http://news.example/x?id=7",
        ),
        ("http://news.example:8080/x/", "http://news.example:8080/x"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/", "https://news.example/"),
        ("https://news.example/a//b", "https://news.example/a/b"),
        ("https://news.example/p?utm_campaign=c&UTM_MEDIUM=m", "https://news.example/p"),
        ("https://news.example/p?q=&z=1", "https://news.example/p?q=&z=1"),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical


def test_relative_links_resolve_against_the_page():
    base = "https://news.example/en/politics/"
    assert (
        canonical_url("../social/item-1?utm_source=x", base)
        == "https://news.example/en/social/item-1"
    )
    assert canonical_url("/en/a#top", base) == "https://news.example/en/a"


def test_trailing_slash_variants_are_one_article():
    assert canonical_url("https://n.example/a/b/") == canonical_url("https://n.example/a/b")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.5",
        "192.168.1.1",
        "172.16.3.4",
        "169.254.169.254",
        "::1",
        "[::1]",
        "fe80::1",
        "fd00::1",
        "0.0.0.0",
        "localhost",
        "api.localhost",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ],
)
def test_private_addresses(host):
    assert is_private_address(host)


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "news.example"])
def test_public_addresses(host):
    assert not is_private_address(host)
