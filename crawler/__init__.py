"""The web to the archive: crawling, feed parsing, extraction, dedupe and the archive itself."""
