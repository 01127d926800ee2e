"""Resumable, checksummed downloads and safe archive extraction for model releases."""

from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from presseschau.text import ascii_digits

# progress(done_bytes, total_bytes_or_None)
ProgressCallback = Callable[[int, int | None], None]
_CHUNK = 1 << 20


class DownloadError(Exception):
    """A download failed (network, HTTP status); a partial file is kept for resuming."""


class ChecksumMismatch(DownloadError):
    """The downloaded file's SHA-256 differs from the published one; the file was deleted."""


class UnsafeArchive(DownloadError):
    """An archive member would be written outside the target directory."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    destination: Path,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    client: httpx.Client | None = None,
    timeout_s: float = 60.0,
    proxy: str | None = None,
    max_bytes: int | None = None,
    resume: bool = True,
) -> Path:
    """Download `url` to `destination`, resuming a `<destination>.part` left by an earlier try.

    A resume asks for the rest only of the same file (`If-Range` with the validator the first try
    saw) and checks that the server continues at the right byte (`Content-Range`); anything else
    starts over. With `sha256` the result is verified; a mismatch deletes the file and raises
    ChecksumMismatch. More than `max_bytes` raises DownloadError and deletes the file;
    `resume=False` always starts over (for documents that change, like an index).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    validator_file = destination.with_name(destination.name + ".part.validator")
    if not resume:
        part.unlink(missing_ok=True)
        validator_file.unlink(missing_ok=True)
    own_client = client is None
    http = client or httpx.Client(
        follow_redirects=True, timeout=httpx.Timeout(timeout_s, connect=10.0), proxy=proxy, trust_env=proxy is None
    )
    try:
        for _ in range(2):  # a second try only after a resume the server got wrong
            if _fetch(http, url, part, validator_file, progress, max_bytes):
                break
        else:
            raise DownloadError(f"GET {url}: the server keeps answering resumes at the wrong offset")
    finally:
        if own_client:
            http.close()
    validator_file.unlink(missing_ok=True)
    if sha256:
        actual = sha256_file(part)
        if actual.lower() != sha256.lower():
            part.unlink()
            raise ChecksumMismatch(f"{url}: SHA-256 is {actual}, expected {sha256}")
    part.replace(destination)
    return destination


_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


def _fetch(
    http: httpx.Client,
    url: str,
    part: Path,
    validator_file: Path,
    progress: ProgressCallback | None,
    max_bytes: int | None = None,
) -> bool:
    """One GET into `part` (resuming it when possible); False when the partial file had to go."""
    have = part.stat().st_size if part.exists() else 0
    validator = validator_file.read_text(encoding="utf-8").strip() if have and validator_file.is_file() else ""
    headers = {"Range": f"bytes={have}-"} if have else {}
    if validator:
        headers["If-Range"] = validator  # the file changed on the server: it sends all of it (200)
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and have:
                return True  # the part file is already complete
            if response.status_code not in (200, 206):
                raise DownloadError(f"GET {url}: HTTP {response.status_code}")
            resumed = response.status_code == 206
            if resumed:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if match is None or int(match.group(1)) != have:
                    part.unlink(missing_ok=True)  # bytes from elsewhere in the file: cannot append them
                    validator_file.unlink(missing_ok=True)
                    return False
            else:
                have = 0  # the server ignored Range (or the file changed): start over
                saved = response.headers.get("ETag") or response.headers.get("Last-Modified")
                if saved and not saved.startswith("W/"):  # If-Range needs a strong validator
                    validator_file.write_text(saved, encoding="utf-8")
                else:
                    validator_file.unlink(missing_ok=True)
            length = response.headers.get("Content-Length")
            total = have + int(length) if length and ascii_digits(length) else None
            if max_bytes is not None and total is not None and total > max_bytes:
                part.unlink(missing_ok=True)
                raise DownloadError(f"GET {url}: {total} bytes announced, more than the limit of {max_bytes}")
            with part.open("ab" if resumed else "wb") as handle:
                for block in response.iter_bytes(_CHUNK):
                    handle.write(block)
                    have += len(block)
                    if max_bytes is not None and have > max_bytes:
                        handle.close()
                        part.unlink(missing_ok=True)
                        validator_file.unlink(missing_ok=True)
                        raise DownloadError(f"GET {url}: more than the limit of {max_bytes} bytes")
                    if progress:
                        progress(have, total)
    except httpx.HTTPError as error:
        raise DownloadError(f"GET {url}: {error} ({have} bytes kept in {part} for resuming)") from error
    return True


def extract(archive: Path, target: Path) -> Path:
    """Extract a .zip or .tar(.gz|.xz|.bz2) into `target`; refuses members escaping it."""
    try:
        return _extract(archive, target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise DownloadError(f"{archive}: not a readable archive ({error})") from None


def _extract(archive: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                _check_member(root, member)
            bundle.extractall(target)
    elif ".tar" in name or name.endswith((".tgz", ".txz")):
        with tarfile.open(archive) as bundle:
            for info in bundle.getmembers():
                _check_member(root, info.name)
                if info.issym() or info.islnk():
                    raise UnsafeArchive(f"{archive}: links are not allowed ({info.name})")
            bundle.extractall(target, filter="data")
    else:
        raise DownloadError(f"{archive}: unknown archive type (expected .zip or .tar.*)")
    return target


def _check_member(root: Path, member: str) -> None:
    resolved = (root / member).resolve()
    if resolved != root and root not in resolved.parents:
        raise UnsafeArchive(f"archive member {member!r} would be written outside {root}")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
