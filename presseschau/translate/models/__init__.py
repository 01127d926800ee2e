"""Model management: the catalog of real models and the store of installed ones (`catalog`), their
metadata file (`meta`), Mozilla's Firefox Translations records (`firefox_records`, with the
records' filter expressions in `filter_expressions`), resumable checksummed downloads
(`download`), and which model an engine loads (`resolution`).

Below the engines: an engine asks `resolution` for its model directories; nothing here imports
an engine.
"""
