"""Collection spread over Celery workers, with the daemon as the only archive writer.

- ``jobs``: what a task carries (sources, conditional-GET validators, robots.txt files,
  the articles a source already has) and how the daemon stores what comes back;
- ``crawl_job``: the crawl of one task, run in a fresh process (``python -m
  crawler.cluster.crawl_job``), so a worker never restarts a Twisted reactor;
- ``app``: the Celery app built from ``[cluster]``, the task, per-source locks, versions;
- ``dispatch``: the daemon's side (send due sources, receive and store results).
"""
