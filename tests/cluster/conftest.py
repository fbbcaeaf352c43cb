"""Fixtures of the cluster tests (in cluster_support.py, which the tests also import)."""

from support.cluster import cluster_config, redis_server, redis_url, site, workers  # noqa: F401
