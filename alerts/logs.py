"""Log set-up for the daemon and the commands: text or JSON lines on stderr, secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from alerts.secrets import RedactingFilter, remember, secret_parts
from crawler import times


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with any ``extra`` fields the record carries."""

    _skip = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": times.iso_precise(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in self._skip})
        if record.exc_info or record.exc_text:
            # the text the redacting filter already scrubbed, when it ran
            data["error"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(fmt: str = "text", *, level: int = logging.INFO, secrets: list[str] = ()) -> None:
    """Log to stderr as text or JSON lines, with credentials redacted from every record."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(list(secrets)))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    # Apprise logs whole webhook URLs at DEBUG; Scrapy is chatty at INFO.
    logging.getLogger("apprise").setLevel(max(level, logging.INFO))
    for noisy in ("scrapy", "twisted", "apscheduler", "trafilatura", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Fetch failures are reported once per source by our own log line (and in `status`);
    # Scrapy would add a traceback for every retry and every robots.txt it could not read.
    for chatty in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
        logging.getLogger(chatty).setLevel(logging.CRITICAL)
    # A collection still running at the next tick is expected (it is skipped, by design), and
    # job errors are logged once by the daemon's own listener.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)


def config_secrets(cfg: Any) -> list[str]:
    """Values that must never be printed: user names, passwords, path tokens, header and
    query values inside target URLs. They are also remembered by alerts.secrets, so every
    redaction in this process (errors, `status`, log records) replaces them."""
    urls = [t.url for t in cfg.targets]
    remember(urls)
    return sorted({p for url in urls for p in secret_parts(url)}, key=len, reverse=True)
