"""Translation memory: exact-match reuse of earlier translations, TMX 1.4 and TSV exchange.

Keys are whitespace-normalized source texts (hashed for the index). Entries may hold inline
HTML (paragraph-level pairs) or plain sentences. Origins rank reviewed > import > machine: a
machine translation never overwrites a human one.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import IO, Literal
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from presseschau.store.db import Database, session_scope
from presseschau.store.models import MemoryEntry, utcnow

ExportFormat = Literal["tsv", "tmx"]
_ORIGIN_RANK = {"machine": 0, "import": 1, "reviewed": 2}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CHUNK = 400  # keeps IN (...) lists under SQLite's variable limit


class MemoryFormatError(ValueError):
    """An import file is not valid TSV/TMX, or holds no pairs for the requested languages."""


def normalize(text: str) -> str:
    # Same result as collapsing `\s+` (str.split uses the same whitespace set), ~4x faster.
    return " ".join(text.split())


def source_hash(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


class TranslationMemory:
    """The memory for one language pair, on a `Database` or any session factory."""

    def __init__(self, database: Database | Callable[[], Session], source_language: str, target_language: str) -> None:
        self._factory: Callable[[], Session] = database.sessions if isinstance(database, Database) else database
        self.source_language = source_language
        self.target_language = target_language
        # The session `reading()` holds, per thread (the memory engine shares one instance).
        self._held = threading.local()

    def _session(self) -> AbstractContextManager[Session]:
        held: Session | None = getattr(self._held, "session", None)
        return nullcontext(held) if held is not None else session_scope(self._factory)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Lookups and covers inside run in one transaction (committed at the end), not one each: a
        document's paragraph, sentence and cover lookups cost ~1 ms of session each, as much as the
        queries. For a few quick lookups only: a counted hit (`uses`) holds SQLite's write lock to
        the end."""
        if getattr(self._held, "session", None) is not None:
            yield
            return
        with session_scope(self._factory) as session:
            self._held.session = session
            try:
                yield
            finally:
                self._held.session = None

    # Lookup ------------------------------------------------------------------------------------

    def lookup(self, sources: Iterable[str], count_use: bool = True) -> dict[str, str]:
        """Exact matches: normalized source -> target, for those of `sources` the memory holds."""
        return self._lookup_normalized({normalize(s) for s in sources if s.strip()}, count_use)

    def _lookup_normalized(self, keys: set[str], count_use: bool) -> dict[str, str]:
        if not keys:  # most documents split no sentence and have no tag texts: no session for nothing
            return {}
        with self._session() as session:
            return self._find(session, keys, count_use)

    def _find(self, session: Session, keys: Iterable[str], count_use: bool) -> dict[str, str]:
        """Entries for already-normalized `keys`, in `session`."""
        by_hash = {hashlib.sha256(key.encode("utf-8")).hexdigest(): key for key in keys}
        found: dict[str, str] = {}
        hashes = list(by_hash)
        hit_ids: list[int] = []
        for i in range(0, len(hashes), _CHUNK):
            rows = session.execute(
                select(MemoryEntry.id, MemoryEntry.source_hash, MemoryEntry.source, MemoryEntry.target).where(
                    MemoryEntry.source_language == self.source_language,
                    MemoryEntry.target_language == self.target_language,
                    MemoryEntry.source_hash.in_(hashes[i : i + _CHUNK]),
                )
            ).all()
            for row in rows:
                if normalize(row.source) == by_hash[row.source_hash]:  # guard against hash collisions
                    found[by_hash[row.source_hash]] = row.target
                    hit_ids.append(row.id)
        if count_use and hit_ids:
            for i in range(0, len(hit_ids), _CHUNK):
                session.execute(
                    update(MemoryEntry)
                    .where(MemoryEntry.id.in_(hit_ids[i : i + _CHUNK]))
                    .values(uses=MemoryEntry.uses + 1)
                    .execution_options(synchronize_session=False)
                )
        return found

    def cover(self, text: str, max_words: int = 300) -> list[tuple[str, str]] | None:
        """Cover `text` left to right with the longest entries matching at whitespace boundaries.

        Returns the (source, target) pieces, or None when some position starts no entry. This
        bridges segmentation mismatches: an entry holding two sentences, or a sentence the
        segmenter split or merged differently from how the memory was filled.
        """
        return self.cover_many([text], max_words)[0]

    def cover_many(self, texts: Sequence[str], max_words: int = 300) -> list[list[tuple[str, str]] | None]:
        """`cover` for several texts at once: one query per step for all of them, so a document's
        paragraphs cost a few queries, not a few per paragraph (most new text fails at step one)."""
        words = [normalize(text).split(" ") for text in texts]
        pieces: list[list[tuple[str, str]] | None] = [[] if w != [""] else None for w in words]
        position = [0] * len(texts)
        active = [i for i, p in enumerate(pieces) if p is not None]
        with self._session() as session:
            while active:
                # Joined with single spaces from normalized words, so already normalized: no regex
                # pass over these O(n²) characters.
                candidates = {
                    i: [
                        " ".join(words[i][position[i] : end])
                        for end in range(position[i] + 1, min(len(words[i]), position[i] + max_words) + 1)
                    ]
                    for i in active
                }
                hits = self._find(session, {c for options in candidates.values() for c in options}, count_use=False)
                still: list[int] = []
                for i in active:
                    best = next((c for c in reversed(candidates[i]) if c in hits), None)
                    covered = pieces[i]
                    if best is None or covered is None:
                        pieces[i] = None
                        continue
                    covered.append((best, hits[best]))
                    position[i] += best.count(" ") + 1
                    if position[i] < len(words[i]):
                        still.append(i)
                active = still
        return pieces

    # Storing -----------------------------------------------------------------------------------

    def store(
        self,
        pairs: Iterable[tuple[str, str]],
        engine: str | None = None,
        model: str | None = None,
        origin: str = "machine",
    ) -> int:
        """Add or update entries; returns how many were written. Lower-ranked origins never win."""
        if origin not in _ORIGIN_RANK:
            raise ValueError(f"unknown origin {origin!r}; expected one of {sorted(_ORIGIN_RANK)}")
        wanted: dict[str, tuple[str, str]] = {}
        for source, target in pairs:
            if normalize(source) and target.strip():
                wanted[source_hash(source)] = (normalize(source), target.strip())
        if not wanted:
            return 0
        written = 0
        with self._session() as session:
            hashes = list(wanted)
            existing: dict[str, MemoryEntry] = {}
            for i in range(0, len(hashes), _CHUNK):
                for entry in session.scalars(
                    select(MemoryEntry).where(
                        MemoryEntry.source_language == self.source_language,
                        MemoryEntry.target_language == self.target_language,
                        MemoryEntry.source_hash.in_(hashes[i : i + _CHUNK]),
                    )
                ):
                    existing[entry.source_hash] = entry
            new_rows: list[dict[str, str | None]] = []
            for digest, (source, target) in wanted.items():
                current = existing.get(digest)
                if current is None:
                    new_rows.append(
                        {
                            "source_language": self.source_language,
                            "target_language": self.target_language,
                            "source_hash": digest,
                            "source": source,
                            "target": target,
                            "engine": engine,
                            "model": model,
                            "origin": origin,
                        }
                    )
                elif _ORIGIN_RANK[origin] >= _ORIGIN_RANK.get(current.origin, 0) and current.target != target:
                    current.target, current.engine, current.model, current.origin = target, engine, model, origin
                    current.updated_at = utcnow()
                    written += 1
            if new_rows:
                # One executemany: ORM objects were flushed one INSERT each (a document's few
                # hundred sentences cost a few hundred statements); nothing reads them back here.
                session.execute(insert(MemoryEntry), new_rows)
                written += len(new_rows)
        return written

    def import_pairs(self, pairs: Iterable[tuple[str, str]], origin: str = "import") -> int:
        return self.store(pairs, engine=None, model=None, origin=origin)

    def import_file(
        self,
        path: str | Path,
        source_language: str | None = None,
        target_language: str | None = None,
        origin: str = "import",
    ) -> int:
        """Import a TMX (by extension .tmx) or TSV file; returns the entries written."""
        path = Path(path)
        src = source_language or self.source_language
        tgt = target_language or self.target_language
        memory = (
            self
            if (src, tgt) == (self.source_language, self.target_language)
            else (TranslationMemory(self._factory, src, tgt))
        )
        try:
            raw = path.read_text(encoding="utf-8-sig")
            pairs = read_tmx(raw, src, tgt) if path.suffix.lower() == ".tmx" else read_tsv(raw)
        except UnicodeDecodeError as error:
            raise MemoryFormatError(f"{path}: not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise MemoryFormatError(f"cannot read {path}: {error.strerror or error}") from None
        except MemoryFormatError as error:
            raise MemoryFormatError(f"{path}: {error}") from None
        if not pairs:
            raise MemoryFormatError(f"{path}: no {src}→{tgt} translation pairs found")
        return memory.import_pairs(pairs, origin=origin)

    # Export and statistics ---------------------------------------------------------------------

    def entries(self) -> list[MemoryEntry]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(MemoryEntry)
                    .where(
                        MemoryEntry.source_language == self.source_language,
                        MemoryEntry.target_language == self.target_language,
                    )
                    .order_by(MemoryEntry.id)
                )
            )

    def export(self, destination: str | Path | IO[str], format: ExportFormat = "tsv") -> int:
        entries = self.entries()
        if format == "tmx":
            text = write_tmx(
                [(e.source, e.target, e.origin) for e in entries], self.source_language, self.target_language
            )
        else:
            text = "".join(f"{_tsv_field(e.source)}\t{_tsv_field(e.target)}\n" for e in entries)
        if isinstance(destination, str | Path):
            Path(destination).write_text(text, encoding="utf-8")
        else:
            destination.write(text)
        return len(entries)

    def stats(self) -> dict[str, int]:
        with self._session() as session:
            rows = session.execute(
                select(MemoryEntry.origin, func.count(), func.coalesce(func.sum(MemoryEntry.uses), 0))
                .where(
                    MemoryEntry.source_language == self.source_language,
                    MemoryEntry.target_language == self.target_language,
                )
                .group_by(MemoryEntry.origin)
            ).all()
        result = {"entries": 0, "uses": 0}
        for origin, count, uses in rows:
            result[origin] = int(count)
            result["entries"] += int(count)
            result["uses"] += int(uses)
        return result


def _tsv_field(text: str) -> str:
    # TSV holds one pair per line: tabs and newlines inside a segment become spaces.
    return normalize(text.replace("\t", " "))


def read_tsv(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise MemoryFormatError(f"line {number}: expected source<TAB>target")
        pairs.append((parts[0], parts[1]))
    return pairs


def _lang_matches(value: str | None, language: str) -> bool:
    return value is not None and value.lower().replace("_", "-").split("-")[0] == language.lower().split("-")[0]


def _seg_text(seg: ElementTree.Element) -> str:
    # <seg> may contain TMX inline elements (<bpt>, <ph>, ...); keep their text content.
    return "".join(seg.itertext())


def read_tmx(raw: str, source_language: str, target_language: str) -> list[tuple[str, str]]:
    try:
        root = ElementTree.parse(io.StringIO(raw)).getroot()
    except ElementTree.ParseError as error:
        raise MemoryFormatError(f"not valid TMX: {error}") from error
    pairs = []
    for tu in root.iter("tu"):
        source = target = None
        for tuv in tu.iter("tuv"):
            lang = tuv.get(_XML_LANG) or tuv.get("lang")
            seg = tuv.find("seg")
            if seg is None:
                continue
            if _lang_matches(lang, source_language):
                source = _seg_text(seg)
            elif _lang_matches(lang, target_language):
                target = _seg_text(seg)
        if source and target:
            pairs.append((source, target))
    return pairs


def write_tmx(entries: Iterable[tuple[str, str, str]], source_language: str, target_language: str) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<tmx version="1.4">',
        f'  <header creationtool="presseschau" creationtoolversion="0.1" segtype="sentence" o-tmf="presseschau"'
        f' adminlang="en" srclang="{source_language}" datatype="plaintext"/>',
        "  <body>",
    ]
    for source, target, origin in entries:
        lines.append(f'    <tu><prop type="x-origin">{escape(origin)}</prop>')
        lines.append(f'      <tuv xml:lang="{source_language}"><seg>{escape(source)}</seg></tuv>')
        lines.append(f'      <tuv xml:lang="{target_language}"><seg>{escape(target)}</seg></tuv>')
        lines.append("    </tu>")
    lines += ["  </body>", "</tmx>", ""]
    return "\n".join(lines)
