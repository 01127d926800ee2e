"""Ingest: fetch sources (feeds, sitemaps, pages, files) and extract articles.

One module per concern: `urls` (validation, normalization, address safety), `transport`
(connect-time address check), `robots`, `encoding`, `fetcher` (HTTP with limits and manners),
`feeds` (RSS/Atom/JSON Feed, format detection), `sitemaps`, `extract` (trafilatura -> paragraphs),
`language`, `dates`, `errors`, `service` (the public API) and `commands` (the CLI), plus
`evaluation` (the extraction benchmark).
"""
