"""Publish: slugs, German dates, teasers, feeds, sitemaps and the static site."""
