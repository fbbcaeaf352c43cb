"""The `newswatch` commands that need the alerts package (and maybe the crawler too), one
module per command or command group."""
