"""The `newswatch` commands that need only the crawler, one module per command, and the
pieces every command shares (context.py: the config and archive; output.py: tables and JSON)."""
