"""Benchmark of OPML import and export of sources.

    python bench/opml.py                     # 5,000 feeds, private addresses allowed (no DNS)
    python bench/opml.py --feeds 200 --dns   # with the private-address check (DNS for every host)

Generates an OPML file of N feeds in 10 categories and measures, in a fresh SQLite data directory:
importing it, importing it again (every feed a duplicate), and exporting every source.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from presseschau.app import AppContext
from presseschau.ingest.opml import export_opml, import_opml


def opml_document(feeds: int) -> bytes:
    outlines = "".join(
        f'<outline text="Kategorie {i % 10}"><outline text="Feed {i}" xmlUrl="https://feed{i}.bench.example/rss"/>'
        "</outline>"
        for i in range(feeds)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--dns", action="store_true", help="check every host for private addresses (DNS)")
    args = parser.parse_args()
    document = opml_document(args.feeds)
    with tempfile.TemporaryDirectory() as data_dir:
        context = AppContext.for_data_dir(data_dir, allow_private_addresses=not args.dns)
        context.database  # noqa: B018 -- migrations outside the timing
        started = time.perf_counter()
        first = import_opml(context.database, context.settings, document, "bench.opml")
        imported = time.perf_counter() - started
        started = time.perf_counter()
        second = import_opml(context.database, context.settings, document, "bench.opml")
        reimported = time.perf_counter() - started
        started = time.perf_counter()
        exported = export_opml(context.database, context.settings)
        export_s = time.perf_counter() - started
        context.close()
    print(f"{args.feeds} feeds{' (with DNS checks)' if args.dns else ''}:")
    print(f"  import    {imported:7.2f} s  ({len(first.added)} added)")
    print(f"  re-import {reimported:7.2f} s  ({len(second.duplicates)} duplicates reported, none added)")
    print(f"  export    {export_s:7.2f} s  ({len(exported) // 1024} KiB)")


if __name__ == "__main__":
    main()
