"""The peer of bench/bench_peer.py: rss2email, installed from PyPI into bench/out/peer-venv
(never into the project), configured for the same feeds and mail server, run as processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import results
from peer_servers import FeedServer, Mail

PEER_VENV = results.OUT_DIR / "peer-venv"


def canon(canonical_url, link: str) -> str:
    try:
        return canonical_url(link.strip())
    except Exception:
        return link.strip()


def peer_venv() -> Path:
    """bench/out/peer-venv with rss2email from PyPI (made once, reused)."""
    r2e = PEER_VENV / "bin" / "r2e"
    if not r2e.exists():
        print(f"[peer] installing rss2email into {PEER_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "-q", "rss2email"],
            check=True,
        )
    return r2e


def peer_version() -> str:
    out = subprocess.run(
        [str(PEER_VENV / "bin" / "python"), "-c", "import rss2email; print(rss2email.__version__)"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or "?"


def run_process(argv: list[str], **kw) -> tuple[float, float, int, str, float]:
    """Wall seconds, peak RSS (MB) of this child alone, exit status, stderr tail, and its CPU
    seconds (user + system)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode, stderr[-1500:], cpu


def rss2email_runs(r2e: Path, server: FeedServer, mail: Mail, work: Path) -> list[dict]:
    cfg, data = work / "r2e.cfg", work / "r2e.json"
    subprocess.run(
        [str(r2e), "-c", str(cfg), "-d", str(data), "new", "analyst@example.org"],
        check=True,
        capture_output=True,
    )
    text = cfg.read_text()
    text = text.replace("email-protocol = sendmail", "email-protocol = smtp")
    text = re.sub(r"(?m)^smtp-server = .*$", "smtp-server = 127.0.0.1", text)
    text = re.sub(r"(?m)^smtp-port = .*$", f"smtp-port = {mail.port}", text)
    for i in range(len(server.bodies)):
        text += f"\n[feed.f{i:03d}]\nurl = {server.url(i)}\n"
    cfg.write_text(text)
    runs = []
    for n in (1, 2):
        before, hits = mail.count(), Counter(server.counts)
        load = os.getloadavg()[0]
        wall, rss, code, err, cpu = run_process(
            [str(r2e), "-c", str(cfg), "-d", str(data), "run"], cwd=work
        )
        runs.append(
            {
                "run": n,
                "wall_s": wall,
                "cpu_s": cpu,
                "load": (load, os.getloadavg()[0]),
                "rss_mb": rss,
                "exit": code,
                "stderr": err,
                "messages": mail.raw[before:],
                "http": dict(server.counts - hits),
            }
        )
        print(
            f"[peer] rss2email run {n}: {wall:.1f} s ({cpu:.1f} s CPU), "
            f"{mail.count() - before} messages, load {load:.1f} -> {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return runs


def rss2email_keys(messages: list[bytes], canonical_url) -> list[str]:
    import email

    keys = []
    for raw in messages:
        m = email.message_from_bytes(raw)
        link = m.get("X-RSS-URL") or ""
        keys.append(canon(canonical_url, link) if link else f"id:{m.get('X-RSS-ID')}")
    return keys
