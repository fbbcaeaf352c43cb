"""The archive to people: gazetteer, watches, matching, tier statements and delivery."""
