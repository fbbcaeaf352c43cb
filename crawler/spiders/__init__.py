"""Scrapy spiders: one per source kind, each turning responses into article items."""
