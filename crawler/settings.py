"""Scrapy settings built from the crawl settings: politeness, limits, and our components."""

from __future__ import annotations

from typing import Any

from crawler.config import CrawlSettings

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Scrapy's base extensions less the ones we do not use (telnet, memory usage and debugging,
# feed export, log stats, spider state, remote control), which are then not even imported:
# the CLI pays for every import.
EXTENSIONS = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}


# Scrapy's downloader middlewares we replace (robots.txt, retry) or do not use (cookies are
# off, and its module imports tldextract and requests; no HTTP cache; no meta refresh; no
# spider sets allowed_domains or http_user, so the offsite and HTTP-auth ones do nothing;
# nothing reads the downloader's stats). Each one kept costs every request a few awaits:
# with these and the two unused spider middlewares below left out, a crawl of 200 unchanged
# feeds (200 304s, in one process) took 0.34-0.50 s of CPU instead of 0.42-0.56 s.
_REPLACED_MIDDLEWARES = {
    "RobotsTxtMiddleware",
    "RetryMiddleware",
    "CookiesMiddleware",
    "HttpCacheMiddleware",
    "AjaxCrawlMiddleware",
    "MetaRefreshMiddleware",
    "OffsiteMiddleware",
    "HttpAuthMiddleware",
    "DownloaderStats",
}
# Scrapy's spider middlewares we do not use: no depth limit (a listing counts its own
# pages), and the check for meta copied from a response into new requests (a debugging aid).
_UNUSED_SPIDER_MIDDLEWARES = {"DepthMiddleware", "MetaCopyDetectionMiddleware"}
OUR_MIDDLEWARES = {
    "crawler.middlewares.AddressGuardMiddleware": 50,
    "crawler.robots.CachedRobotsTxtMiddleware": 100,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalGetMiddleware": 560,
    "crawler.middlewares.PeerAddressMiddleware": 950,
}
# http and https: an answer the revalidation pass received (crawler/revalidate.py) is handed
# over inside the host's download slot (no second download), the rest is Scrapy's HTTP/1.1
_HTTP_HANDLER = "crawler.prefetch_handler.PrefetchedDownloadHandler"


def downloader_middlewares() -> dict[str, int]:
    """Scrapy's base downloader middlewares less the replaced ones, plus ours. Set as the
    *base* because a ``None`` in ``DOWNLOADER_MIDDLEWARES`` still imports the class."""
    from scrapy.settings.default_settings import DOWNLOADER_MIDDLEWARES_BASE

    kept = {
        path: order
        for path, order in DOWNLOADER_MIDDLEWARES_BASE.items()
        if path.rsplit(".", 1)[-1] not in _REPLACED_MIDDLEWARES
    }
    return {**kept, **OUR_MIDDLEWARES}


def spider_middlewares() -> dict[str, int]:
    """Scrapy's base spider middlewares less the unused ones (set as the base, as above)."""
    from scrapy.settings.default_settings import SPIDER_MIDDLEWARES_BASE

    return {
        path: order
        for path, order in SPIDER_MIDDLEWARES_BASE.items()
        if path.rsplit(".", 1)[-1] not in _UNUSED_SPIDER_MIDDLEWARES
    }


def scrapy_settings(crawl: CrawlSettings) -> dict[str, Any]:
    """The Scrapy settings for one crawl. Limits are set deliberately: Scrapy's own default
    ``DOWNLOAD_MAXSIZE`` is 1 GiB and it follows redirects anywhere."""
    timeout = max(1, int(round(crawl.download_timeout.total_seconds())))
    return {
        "BOT_NAME": "newswatch",
        "USER_AGENT": crawl.user_agent,
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "LOG_ENABLED": False,  # we log through the standard logging module
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 starts, per crawl, an HTTP server on 127.0.0.1 that runs Python sent
        # to it (token in ~/.local/state/scrapy/job_files): not in a long-running monitor.
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS_BASE": EXTENSIONS,
        # Sources are http(s) only: no file://, data:, ftp:// or s3:// handler, even after a
        # redirect, and none of their imports.
        "DOWNLOAD_HANDLERS": {
            "file": None,
            "data": None,
            "ftp": None,
            "s3": None,
            "http": _HTTP_HANDLER,
            "https": _HTTP_HANDLER,
        },
        "COOKIES_ENABLED": False,
        "ROBOTSTXT_OBEY": True,  # switched off per request for sources that say so
        # A request waiting for its own host (its delay, its per-host limit, a retry's
        # backoff) does not hold the crawl's concurrency (crawler/politeness.py).
        "DOWNLOADER": "crawler.politeness.PoliteDownloader",
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        # Our one pipeline is synchronous: Scrapy's 100 item tasks per response buy nothing.
        "CONCURRENT_ITEMS": 4,
        # Scrapy reads each callback's source to warn about ``return value`` in generators.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOAD_TIMEOUT": timeout,
        "DNS_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "METAREFRESH_ENABLED": False,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        "DOWNLOAD_DELAY_JITTER": crawl.download_delay_jitter,
        "CLOSESPIDER_TIMEOUT": crawl.crawl_timeout.total_seconds(),
        "DOWNLOADER_MIDDLEWARES_BASE": downloader_middlewares(),
        "SPIDER_MIDDLEWARES_BASE": spider_middlewares(),
        "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
        "NEWSWATCH_ALLOW_PRIVATE_ADDRESSES": crawl.allow_private_addresses,
        "NEWSWATCH_OBEY_ROBOTS": crawl.obey_robots,  # for sources that do not say
        "NEWSWATCH_MAX_ARTICLES_PER_SOURCE": crawl.max_articles_per_source,
        "NEWSWATCH_MAX_SITEMAPS": crawl.max_sitemaps,
        "NEWSWATCH_RETRY_BACKOFF": crawl.retry_backoff.total_seconds(),
        "NEWSWATCH_MAX_RETRY_AFTER": crawl.max_retry_after.total_seconds(),
        "NEWSWATCH_RECHECK_YOUNGER_THAN": (
            crawl.recheck_younger_than.total_seconds() if crawl.recheck_younger_than else 0.0
        ),
    }
