"""The static site's search index, made by Pagefind (`pagefind[bin]` on PyPI).

Pagefind reads the built article pages (only what is marked `data-pagefind-body`), stems them
with its German (Snowball) stemmer and writes a chunked index: a query downloads the small entry
files, the WebAssembly search and only the index chunks and result fragments it needs, so the
cost of a search grows with the words asked, not with the size of the site (see
bench/search.py: at 10,000 articles a query downloads a few hundred kB, the old one-file index
~40 MB).

The index is built in a private folder from hard links to exactly the article pages of this
build (a page left over from an earlier build is never indexed) and handed back as files for
the build's writer, which writes, keeps or deletes them like every other file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLE_DIR = "pagefind"
# Pagefind's ready-made search interfaces: the site has its own (static/search.js), so left out.
_UI_FILE = re.compile(r"-ui\.(js|css)$|^pagefind-highlight\.js$")
TIMEOUT_S = 600


def executable() -> Path | None:
    """The Pagefind binary (from `pagefind[bin]`, or `PAGEFIND_BINARY_PATH`), None when missing."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        return None
    found = get_executable()
    return found if found is not None and Path(found).is_file() else None


def bundle(outdir: Path, pages: Iterable[str], language: str, url_prefix: str = "") -> dict[str, bytes] | None:
    """Pagefind's files (paths relative to its folder) for the article pages `pages` (paths of
    `index.html` files relative to `outdir`, already written); None when Pagefind is missing or
    fails (the caller then keeps the plain JSON index)."""
    binary = executable()
    if binary is None:
        log.warning("static build: Pagefind is not installed (pip install 'pagefind[bin]'); plain JSON search index")
        return None
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".pagefind-") as work:
        # Under the base URL's path, so result URLs carry it (/presse/<slug>/).
        site = Path(work, "site", *[part for part in url_prefix.split("/") if part])
        target = Path(work, "bundle")
        for relpath in pages:
            _link(outdir / relpath, site / relpath)
        command = [
            str(binary),
            "--site",
            str(Path(work, "site")),
            "--output-path",
            str(target),
            "--force-language",
            language,
            "--silent",
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", b"") or b""
            log.warning("static build: Pagefind failed (%s) %s; plain JSON search index", error, detail[-500:])
            return None
        return {
            path.relative_to(target).as_posix(): path.read_bytes()
            for path in target.rglob("*")
            if path.is_file() and not _UI_FILE.search(path.name)
        }


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links: a copy does the same
        shutil.copyfile(source, target)
