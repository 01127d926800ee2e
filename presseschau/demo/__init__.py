"""Bundled sample articles (English originals with human German versions) for `presseschau demo`."""
