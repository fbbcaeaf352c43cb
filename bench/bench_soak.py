"""Soak: `newswatch run` as a real daemon over local feeds that change every cycle.

Reports the daemon's RSS at cycle 50 and at the last cycle (target: growth <= 10%), its open
file descriptors (target: flat), the per-cycle overhead beyond the crawl itself, and the
latency from an item's publication to its mail (median and max). Never asserts.

    python bench/bench_soak.py [--cycles 500] [--feeds 50]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support.smtp import SMTPServer  # noqa: E402

from crawler import times  # noqa: E402

MATCH_EVERY = 10  # one item in ten is about forced labour, and is mailed
# The run uses the shipped [crawl] defaults but for what a soak needs (loopback addresses
# allowed, every source due every second); --tuned adds these, as the soak once did.
TUNED_LABEL = "AutoThrottle off, 8 per host, robots.txt not asked, no retries"
TUNED = "obey_robots = false\nretries = 0\nconcurrency_per_domain = 8\nautothrottle = false"


class ChangingFeeds:
    """N feeds; every fetch of a feed publishes one new item in it."""

    def __init__(self, feeds: int):
        self.counts = [0] * feeds
        self.published: dict[str, float] = {}
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
            self.counts[feed] += 1
            n = self.counts[feed]
            now = time.time()
            items = []
            for k in range(max(1, n - 19), n + 1):
                token = f"f{feed}i{k}"
                self.published.setdefault(token, now)
                topic = (
                    "forced labour found on farms"
                    if k % MATCH_EVERY == 0
                    else "weather and markets today"
                )
                items.append(
                    f"<item><title>Report {token}: {topic}</title>"
                    f"<link>http://soak.invalid/{token}</link><guid>{token}</guid>"
                    f"<pubDate>{times.rfc822(times.from_timestamp(now))}</pubDate>"
                    f"<description>Report {token} on {topic}, with details.</description></item>"
                )
        return (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>soak</title>"
            f"<link>http://soak.invalid/</link><description>d</description>{''.join(items)}"
            "</channel></rss>"
        ).encode()


def proc_stats(pid: int) -> tuple[float, int]:
    """RSS in MB and open file descriptors of a process."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=500)
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument(
        "--tuned",
        action="store_true",
        help=f"crawl with {TUNED_LABEL} (printed as tuned and not recorded); the default run "
        "uses the shipped [crawl] defaults",
    )
    args = ap.parse_args()
    tuned = TUNED if args.tuned else ""

    feeds = ChangingFeeds(args.feeds)
    smtp = SMTPServer().start()
    received: dict[str, float] = {}
    original = smtp.mailbox.handle_DATA

    async def timed(server, session, envelope):
        reply = await original(server, session, envelope)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        m = re.search(r"f\d+i\d+", str(msg["subject"]))
        if m:
            received.setdefault(m.group(0), time.time())
        return reply

    smtp.mailbox.handle_DATA = timed
    tmp = Path(tempfile.mkdtemp(prefix="newswatch-soak-"))
    sources = "\n".join(
        f'[[sources]]\nname = "feed{i}"\nkind = "feed"\nurl = "{feeds.url(i)}"\n'
        for i in range(args.feeds)
    )
    config = tmp / "soak.toml"
    config.write_text(
        f"""
[archive]
path = "{tmp / "soak.db"}"
[crawl]
allow_private_addresses = true
interval = "1s"
jitter = 0
{tuned}
[daemon]
tick = "0.2s"
process_interval = "2s"
startup_stagger = "0.1s"
{sources}
[[targets]]
name = "mail"
url = "{smtp.url()}"
[[watches]]
name = "labour"
query = '"forced labour"'
targets = ["mail"]
"""
    )
    log_path = tmp / "daemon.log"
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scheduler.py"),
                "--config",
                str(config),
                "run",
                "--log-format",
                "json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    samples: dict[int, tuple[float, int]] = {}
    collects: list[dict] = []
    seen_lines = 0
    started = time.time()
    try:
        while len(collects) < args.cycles and daemon.poll() is None:
            time.sleep(0.2)
            lines = log_path.read_text(errors="replace").splitlines()
            for line in lines[seen_lines:]:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if rec.get("event") == "collect":
                    collects.append(rec)
                    samples[len(collects)] = proc_stats(daemon.pid)
                    if len(collects) % 10 == 0:
                        rss, fds = samples[len(collects)]
                        print(
                            f"\rcycle {len(collects)}/{args.cycles}: RSS {rss:.0f} MB, "
                            f"{fds} fds, {len(received)} mails",
                            end="",
                            file=sys.stderr,
                            flush=True,
                        )
            seen_lines = len(lines)
        time.sleep(5)  # let the last alerts go out
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(60)
        smtp.stop()
        feeds.httpd.shutdown()
    print(file=sys.stderr)
    wall = time.time() - started
    n = len(collects)
    first = min(50, n)
    rss_a, fds_a = samples.get(first, (0, 0))
    rss_b, fds_b = samples.get(n, (0, 0))
    overhead = [c["cycle_s"] - c["crawl_s"] for c in collects]
    crawl = [c["crawl_s"] for c in collects]
    latency = [received[t] - feeds.published[t] for t in received if t in feeds.published]
    expected = [t for t in feeds.published if int(t.split("i")[1]) % MATCH_EVERY == 0]
    settings = f"TUNED ({TUNED_LABEL})" if args.tuned else "shipped [crawl] defaults"
    print(
        f"soak: {n} cycles over {args.feeds} feeds in {wall:.0f} s ({settings}, a cycle a second);"
    )
    print(f"  daemon exit code {code}")
    print(
        f"RSS at cycle {first}: {rss_a:.1f} MB; at cycle {n}: {rss_b:.1f} MB "
        f"(growth {100 * (rss_b - rss_a) / rss_a:+.1f}%, target <= 10%)"
    )
    later = [samples[c][1] for c in samples if c >= first]
    print(
        f"open file descriptors at cycle {first}: {fds_a}; at cycle {n}: {fds_b}; "
        f"from cycle {first} on: min {min(later)}, median {statistics.median(later):.0f}, "
        f"max {max(later)} (sockets of a crawl in flight come and go)"
    )
    print(
        f"crawl per cycle: median {statistics.median(crawl):.3f} s; overhead beyond the "
        f"crawl (match, deliver, bookkeeping): median {statistics.median(overhead):.3f} s, "
        f"max {max(overhead):.3f} s"
    )
    if latency:
        print(
            f"publication to mail: median {statistics.median(latency):.2f} s, "
            f"max {max(latency):.2f} s over {len(latency)} mails "
            f"({len(expected)} matching items published)"
        )
    if args.tuned:
        return  # a tuned run is shown beside the shipped one, never recorded as the figure
    try:
        from results import record

        cycles = sorted(samples)
        series = {
            "x": cycles,
            "y": [samples[c][0] for c in cycles],
            "x_label": "cycle",
            "y_label": "daemon RSS (MB)",
        }
        record(
            "soak",
            "RSS growth, cycle 50 to last",
            100 * (rss_b - rss_a) / rss_a,
            "%",
            target=10,
            better="lower",
            series={"rss_mb": series},
        )
        early = [samples[c][1] for c in samples if first <= c < first + 10]
        late = [samples[c][1] for c in samples if c > n - 10]
        record(
            "soak",
            "open fds, median of last 10 cycles minus first 10 from cycle 50",
            statistics.median(late) - statistics.median(early),
            "fds",
            target=0,
            better="lower",
        )
        record(
            "soak",
            "overhead per cycle beyond crawl (median)",
            statistics.median(overhead),
            "s",
            better="lower",
        )
        if latency:
            record(
                "soak",
                "publication to mail (median)",
                statistics.median(latency),
                "s",
                better="lower",
            )
            record("soak", "publication to mail (max)", max(latency), "s", better="lower")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
