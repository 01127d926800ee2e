"""The document translator: title + paragraphs in, the same structure translated out.

Per document, in order:
1. paragraph-level memory: a paragraph (inline HTML, whitespace-normalized) or title with an
   exact memory entry is used as is;
2. the rest is stripped to plain text plus tag spans (`markup`), split into sentences
   (`segment`); sentences found in the memory are reused, and runs of missed sentences are
   covered with longer memory entries where possible (segmentation mismatches);
3. what is left goes to the engine: sentences over the engine's input limit are split at clause
   boundaries, glossary terms are substituted, identical segments are sent once, batches are
   bounded by token count;
4. every engine output passes a coverage check (empty or implausibly short/long output is
   retried alone; what still fails is reported and the document is not complete);
5. tags are re-attached to the translated words, German typography is applied, and new
   translations are stored in the memory.

Tags: engines that translate inline HTML (`translate_html`: DeepL, LibreTranslate) get each
sentence with its tags as marker elements and place them themselves, in context; the tags then go
where the engine put them. Everything else, and any answer that lost or duplicated a marker, is
aligned (`markup.transfer_tags`): the tag's own text is translated separately and searched in the
translation. Either way no tag is ever dropped.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from presseschau.content import Paragraph
from presseschau.translate.engines.base import (
    BatchesInternally,
    DeclaresTermSubstitution,
    Engine,
    EngineError,
    KeepsOrder,
    Pivots,
    RetriesDifferently,
    TranslatesHtml,
    TranslationMissing,
    UnescapesHtmlAnswers,
)
from presseschau.translate.glossary import Glossary, Term
from presseschau.translate.markup import InlineTag, clip_tags, parse_inline, render_inline, transfer_tags
from presseschau.translate.memory import TranslationMemory, normalize
from presseschau.translate.segment import split_long, split_sentences
from presseschau.translate.typography import convert_numbers, german_text, missing_numbers

log = logging.getLogger("presseschau.translate")

# Kinds whose content is code, not prose: passed through untranslated.
UNTRANSLATED_KINDS = frozenset({"pre"})


@dataclass
class Document:
    title: str
    paragraphs: list[Paragraph]


@dataclass
class TranslationReport:
    """Facts about one document translation; JSON-serializable for `Translation.report`."""

    engine: str = ""
    model: str | None = None
    # The language a chained engine translated through (fr→en→de: "en"); None for a direct model.
    pivot: str | None = None
    segments_total: int = 0
    engine_calls: int = 0
    engine_segments: int = 0
    engine_seconds: float = 0.0
    memory_hits: int = 0
    memory_paragraph_hits: int = 0
    memory_cover_hits: int = 0
    split_sentences: list[dict[str, Any]] = field(default_factory=list)
    glossary_enforced: int = 0
    glossary_not_enforced: list[dict[str, Any]] = field(default_factory=list)
    coverage_retries: list[dict[str, Any]] = field(default_factory=list)
    failed_segments: list[dict[str, Any]] = field(default_factory=list)
    numbers_missing: list[dict[str, Any]] = field(default_factory=list)
    markup_tags: int = 0
    markup_approximate: int = 0
    markup_by_engine: int = 0  # tags the engine placed itself (translate_html)
    untranslated_blocks: int = 0

    @property
    def complete(self) -> bool:
        return not self.failed_segments

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["complete"] = self.complete
        return data

    def summary(self) -> str:
        parts = [
            f"{self.segments_total} segments",
            f"{self.memory_hits + self.memory_cover_hits} from memory",
            f"{self.memory_paragraph_hits} paragraphs from memory",
            f"{self.engine_segments} by {self.engine} in {self.engine_calls} calls ({self.engine_seconds:.1f} s)",
        ]
        if self.pivot:
            parts.append(f"through {self.pivot} (pivot)")
        if self.split_sentences:
            parts.append(f"{len(self.split_sentences)} long sentences split")
        if self.coverage_retries:
            parts.append(f"{len(self.coverage_retries)} coverage retries")
        if self.glossary_not_enforced:
            parts.append(f"{len(self.glossary_not_enforced)} glossary terms not enforced")
        if self.numbers_missing:
            parts.append(f"{len(self.numbers_missing)} segments lost numbers")
        if self.failed_segments:
            parts.append(f"{len(self.failed_segments)} FAILED segments")
        return ", ".join(parts)


@dataclass
class TranslatedDocument:
    title: str
    paragraphs: list[Paragraph]
    report: TranslationReport
    complete: bool


@dataclass
class _Sentence:
    start: int
    end: int
    source: str
    pieces: list[str] = field(default_factory=list)
    translation: str | None = None
    keys: list[str] = field(default_factory=list)  # the job of each piece


# The marker id of a tag sent to an engine as markup: `<a id="m3">`.
_MARKER_ID = re.compile(r'(?<![\w-])id="m(\d+)"')
# Characters whose escaping an engine that unescapes its HTML answers (LibreTranslate) would
# undo: text with them goes to such an engine without markup.
_MARKUP_UNSAFE = frozenset("<>&")


@dataclass
class _Unit:
    index: int | None  # None: the title
    kind: str
    html: str
    text: str = ""
    tags: list[InlineTag] = field(default_factory=list)
    sentences: list[_Sentence] = field(default_factory=list)
    output: str | None = None  # final inline HTML (paragraph-level hit or pass-through)


@dataclass
class _Job:
    source: str
    engine_input: str
    terms: list[Term]
    required: bool
    unit: int | None
    output: str | None = None
    problem: str | None = None
    # Sent as inline HTML (`translate_html`): the number of marker tags in `engine_input`, and
    # from a complete answer, per marker the text the engine put inside it and where.
    markers: int = 0
    hints: list[tuple[str, int]] | None = None
    marked_texts: list[str] = field(default_factory=list)  # the source text inside each marker
    marker_names: list[str] = field(default_factory=list)  # and its tag name


class DocumentTranslator:
    def __init__(
        self,
        engine: Engine,
        memory: TranslationMemory | None = None,
        glossary: Glossary | None = None,
        source_language: str = "en",
        target_language: str = "de",
        max_batch_tokens: int | None = None,
        min_length_ratio: float = 0.5,
        max_length_ratio: float = 4.0,
        store_in_memory: bool = True,
        retry_lost_numbers: bool = True,
    ) -> None:
        self.engine = engine
        self.memory = memory
        self.glossary = glossary
        self.source_language = source_language
        self.target_language = target_language
        # Tokens per engine call. Engines that batch internally (ct2) ask for large calls via
        # `call_tokens`: one big call lets CTranslate2 sort and batch everything at once, which
        # measured ~20 % faster than many 2,048-token calls.
        self.max_batch_tokens = max_batch_tokens or (
            int(engine.call_tokens) if isinstance(engine, BatchesInternally) else 2048
        )
        self.min_length_ratio = min_length_ratio
        self.max_length_ratio = max_length_ratio
        self.store_in_memory = store_in_memory
        self.retry_lost_numbers = retry_lost_numbers

    # Public ------------------------------------------------------------------------------------

    def translate(self, document: Document) -> TranslatedDocument:
        report = TranslationReport(
            engine=self.engine.name,
            model=self.engine.model,
            pivot=self.engine.pivot if isinstance(self.engine, Pivots) else None,
        )
        units = self._units(document)
        # The memory's lookups (paragraphs, sentences, covers, split pieces, tag texts) in one
        # transaction; it ends before the engine runs.
        with self.memory.reading() if self.memory is not None else nullcontext():
            self._paragraph_memory(units, report)
            pending = [u for u in units if u.output is None]
            for unit in pending:
                unit.text, unit.tags = parse_inline(unit.html)
                report.markup_tags += len(unit.tags)
                unit.sentences = [
                    _Sentence(s, e, unit.text[s:e]) for s, e in split_sentences(unit.text, self.source_language)
                ]
            self._sentence_memory(pending, report)
            jobs = self._engine_jobs(pending, report)
        self._run_engine(jobs, report)
        self._check_coverage(jobs, report)
        self._span_jobs_for_lost_markup(jobs, report)
        engine_placed = self._assemble(pending, jobs, report)
        if self.memory is not None and self.store_in_memory:
            self._store(jobs, engine_placed)

        title = document.title
        paragraphs: list[Paragraph] = []
        for unit in units:
            assert unit.output is not None
            if unit.index is None:
                title = html.unescape(unit.output)
            else:
                paragraphs.append(Paragraph(unit.kind, unit.output))
        complete = report.complete
        if not complete:
            log.warning("incomplete translation: %s", report.summary())
        return TranslatedDocument(title, paragraphs, report, complete)

    # Steps -------------------------------------------------------------------------------------

    def _units(self, document: Document) -> list[_Unit]:
        units: list[_Unit] = []
        if document.title.strip():
            units.append(_Unit(None, "h1", html.escape(document.title.strip(), quote=False)))
        for index, paragraph in enumerate(document.paragraphs):
            unit = _Unit(index, paragraph.kind, paragraph.html)
            if paragraph.kind in UNTRANSLATED_KINDS or not paragraph.text.strip():
                unit.output = paragraph.html
            units.append(unit)
        return units

    def _paragraph_memory(self, units: list[_Unit], report: TranslationReport) -> None:
        candidates = [u for u in units if u.output is None]
        report.untranslated_blocks = len(units) - len(candidates)
        if self.memory is None or not candidates:
            return
        keys = {id(u): normalize(u.html if u.index is not None else html.unescape(u.html)) for u in candidates}
        found = self.memory.lookup(keys.values())
        for unit in candidates:
            hit = found.get(keys[id(unit)])
            if hit is not None:
                target = hit if unit.index is not None else html.escape(hit, quote=False)
                target = self._repair_terms_html(unit, target, report)
                unit.output = self._typography_html(target)
                report.memory_paragraph_hits += 1

    def _sentence_memory(self, units: list[_Unit], report: TranslationReport) -> None:
        report.segments_total = sum(len(u.sentences) for u in units)
        if self.memory is None:
            return
        found = self.memory.lookup(s.source for u in units for s in u.sentences)
        for unit in units:
            for sentence in unit.sentences:
                hit = found.get(normalize(sentence.source))
                if hit is not None:
                    sentence.translation = self._postedit(sentence.source, hit, unit, report, from_memory=True)
                    report.memory_hits += 1
        self._cover_runs(units, report)

    def _cover_runs(self, units: list[_Unit], report: TranslationReport) -> None:
        """Fill sentences the memory missed with longer entries covering them exactly.

        First whole paragraphs (an entry may span two of our sentences while a neighbour has its
        own entry), then each run of consecutive missed sentences; each step asks the memory
        once for the whole document.
        """
        assert self.memory is not None
        missing = [u for u in units if any(s.translation is None for s in u.sentences)]
        whole = self.memory.cover_many([u.text for u in missing])
        runs: list[tuple[_Unit, list[_Sentence]]] = []
        for unit, pieces in zip(missing, whole, strict=True):
            if pieces is not None:
                report.memory_cover_hits += sum(1 for s in unit.sentences if s.translation is None)
                unit.sentences = self._sentences_from_pieces(unit, 0, pieces, report)
                continue
            run: list[_Sentence] = []
            for sentence in [*unit.sentences, None]:
                if sentence is not None and sentence.translation is None:
                    run.append(sentence)
                    continue
                # A run spanning the whole paragraph already failed as the whole paragraph.
                if run and (run[0].start, run[-1].end) != (unit.sentences[0].start, unit.sentences[-1].end):
                    runs.append((unit, run))
                run = []
        covered = self.memory.cover_many([unit.text[run[0].start : run[-1].end] for unit, run in runs])
        replacements: dict[int, tuple[_Sentence, list[_Sentence]]] = {}
        for (unit, run), pieces in zip(runs, covered, strict=True):
            if pieces is not None:
                report.memory_cover_hits += len(run)
                replacements[id(run[0])] = (run[-1], self._sentences_from_pieces(unit, run[0].start, pieces, report))
        if not replacements:
            return
        for unit in missing:
            result: list[_Sentence] = []
            skip_until: _Sentence | None = None
            for sentence in unit.sentences:
                if skip_until is not None:
                    if sentence is skip_until:
                        skip_until = None
                    continue
                if id(sentence) in replacements:
                    last, sentences = replacements[id(sentence)]
                    result.extend(sentences)
                    if last is not sentence:
                        skip_until = last
                    continue
                result.append(sentence)
            unit.sentences = result

    def _sentences_from_pieces(
        self, unit: _Unit, start: int, pieces: list[tuple[str, str]], report: TranslationReport
    ) -> list[_Sentence]:
        """Sentences of `unit.text` from `start` on, one per memory piece, translated by it."""
        words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", unit.text[start:])]
        sentences: list[_Sentence] = []
        position = 0
        for source, target in pieces:
            count = len(source.split())
            first, last = words[position][0], words[position + count - 1][1]
            position += count
            sentence = _Sentence(first, last, unit.text[first:last])
            sentence.translation = self._postedit(sentence.source, target, unit, report, from_memory=True)
            sentences.append(sentence)
        return sentences

    def _markup_job(self, unit: _Unit, sentence: _Sentence) -> _Job | None:
        """The sentence with its tags as markers, for an engine that places tags itself; None
        where it has no tags or is sent as plain text (split, or text HTML could misread)."""
        if not isinstance(self.engine, TranslatesHtml) or sentence.pieces != [sentence.source]:
            return None
        tags = [t for t in clip_tags(unit.tags, sentence.start, sentence.end) if not t.point]
        unescaping = isinstance(self.engine, UnescapesHtmlAnswers) and self.engine.unescapes_html_answers
        if not tags or (unescaping and _MARKUP_UNSAFE & set(sentence.source)):
            return None
        job = self._job(sentence.source, True, unit.index)
        if job.engine_input != job.source:
            return None  # glossary placeholders in the text: offsets no longer match the tags
        marked = [replace(tag, open_html=f'<{tag.name} id="m{number}">') for number, tag in enumerate(tags)]
        marked_up = render_inline(sentence.source, marked)
        if self.engine.count_tokens(marked_up) > self.engine.max_input_tokens:
            return None  # the markers would push it over the engine's (request) limit
        job.engine_input, job.markers = marked_up, len(marked)
        job.marked_texts = [sentence.source[tag.start : tag.end] for tag in tags]
        job.marker_names = [tag.name for tag in tags]
        return job

    def _engine_jobs(self, units: list[_Unit], report: TranslationReport) -> dict[str, _Job]:
        jobs: dict[str, _Job] = {}
        limit = self.engine.max_input_tokens
        missed_pieces: list[tuple[_Unit, _Sentence]] = []
        # Tags an engine places itself (inside one marked-up sentence) need no separate translation
        # of their text; DeepL, for one, bills every character.
        engine_placed: set[tuple[int | None, int, int]] = set()
        for unit in units:
            for sentence in unit.sentences:
                if sentence.translation is not None:
                    continue
                tokens = self.engine.count_tokens(sentence.source)
                if tokens > limit:
                    spans = split_long(sentence.source, self.engine.count_tokens, limit)
                    sentence.pieces = [sentence.source[s:e] for s, e in spans]
                    report.split_sentences.append(
                        {
                            "paragraph": unit.index,
                            "tokens": tokens,
                            "limit": limit,
                            "pieces": len(spans),
                            "start": sentence.source[:80],
                        }
                    )
                else:
                    sentence.pieces = [sentence.source]
                missed_pieces.append((unit, sentence))
        # Split pieces were stored on earlier runs: look them up before calling the engine.
        split_found: dict[str, str] = {}
        if self.memory is not None:
            split_found = self.memory.lookup(p for _, s in missed_pieces if len(s.pieces) > 1 for p in s.pieces)
            report.memory_hits += len(split_found)
        for unit, sentence in missed_pieces:
            markup = self._markup_job(unit, sentence)
            if markup is not None:
                key = "html:" + normalize(markup.engine_input)
                jobs.setdefault(key, markup)
                sentence.keys = [key]
                engine_placed.update(
                    (unit.index, t.start, t.end)
                    for t in unit.tags
                    if not t.point and sentence.start <= t.start and t.end <= sentence.end
                )
                continue
            sentence.keys = [normalize(piece) for piece in sentence.pieces]
            for piece in sentence.pieces:
                key = normalize(piece)
                if key in split_found and key not in jobs:
                    jobs[key] = _Job(piece, piece, [], True, unit.index, output=split_found[key])
                    jobs[key].problem = "memory"  # marks a memory result: not sent, not re-stored
                elif key not in jobs:
                    jobs[key] = self._job(piece, True, unit.index)
        # Texts under tags (link texts, emphasis) are translated too, to find them in the target.
        optional: dict[str, _Job] = {}
        for unit in units:
            for tag in unit.tags:
                inner = unit.text[tag.start : tag.end].strip()
                if tag.point or not inner or normalize(inner) in jobs:
                    continue
                if (unit.index, tag.start, tag.end) in engine_placed:
                    continue
                if any(inner == s.source.strip() for s in unit.sentences):
                    continue
                optional.setdefault(normalize(inner), self._job(inner, False, unit.index))
        self._tag_texts_from_memory(optional)
        for key, job in optional.items():
            jobs.setdefault(key, job)
        return jobs

    def _tag_texts_from_memory(self, optional: dict[str, _Job]) -> None:
        """Tag-text jobs the memory already holds: answered from it, not sent (uses not counted)."""
        if not optional or self.memory is None:
            return
        found = self.memory.lookup(optional, count_use=False)
        for key, job in optional.items():
            if key in found:
                job.output, job.problem = found[key], "memory"

    def _span_jobs_for_lost_markup(self, jobs: dict[str, _Job], report: TranslationReport) -> None:
        """Where an engine's answer lost its markers, its tags are aligned after all, which needs
        the tag texts translated on their own (as for any engine without an HTML mode)."""
        optional: dict[str, _Job] = {}
        for job in list(jobs.values()):
            if not job.markers or job.hints is not None or job.problem is not None:
                continue  # placed by the engine, or failed (the source text stands in, tags as they are)
            for inner in job.marked_texts:
                key = normalize(inner)
                if inner.strip() and key not in jobs and inner.strip() != job.source.strip():
                    optional.setdefault(key, self._job(inner.strip(), False, job.unit))
        if not optional:
            return
        self._tag_texts_from_memory(optional)
        jobs.update(optional)
        self._run_engine(optional, report)

    def _job(self, source: str, required: bool, unit: int | None) -> _Job:
        # Engines that look text up (memory) must see the source unchanged; terms are still checked.
        substitutes = not isinstance(self.engine, DeclaresTermSubstitution) or self.engine.substitute_terms
        if self.glossary is None or not substitutes:
            return _Job(source, source, [], required, unit)
        prepared = self.glossary.prepare(source)
        return _Job(source, prepared.text, prepared.applied, required, unit)

    def _run_engine(self, jobs: dict[str, _Job], report: TranslationReport) -> None:
        todo = [job for job in jobs.values() if job.output is None and job.problem is None]
        # Plain text and marked-up sentences go in separate calls (`translate_batch`, `translate_html`).
        for group in ([job for job in todo if not job.markers], [job for job in todo if job.markers]):
            sized = [(self.engine.count_tokens(job.engine_input), job) for job in group]
            if not (isinstance(self.engine, KeepsOrder) and self.engine.keep_order):
                # Similar lengths per call: less padding, and a tighter length-derived decoding limit.
                # Engines that use the preceding text as context (LLMs) set `keep_order` instead.
                sized.sort(key=lambda item: item[0])
            batch: list[_Job] = []
            budget = 0
            for tokens, job in sized:
                if batch and budget + tokens > self.max_batch_tokens:
                    self._call(batch, report)
                    batch, budget = [], 0
                batch.append(job)
                budget += tokens
            if batch:
                self._call(batch, report)

    def _call(self, batch: Sequence[_Job], report: TranslationReport) -> None:
        """One engine call for jobs of one kind: all plain text, or all marked up."""
        inputs = [job.engine_input for job in batch]
        translate: Callable[[Sequence[str], str, str], list[str]] = self.engine.translate_batch
        if batch[0].markers and isinstance(self.engine, TranslatesHtml):  # only such engines get markers
            translate = self.engine.translate_html
        started = time.perf_counter()
        try:
            outputs: Sequence[str | None] = translate(inputs, self.source_language, self.target_language)
        except TranslationMissing as missing:
            outputs = missing.partial
        finally:
            report.engine_seconds += time.perf_counter() - started
            report.engine_calls += 1
        if len(outputs) != len(batch):
            raise EngineError(f"engine {self.engine.name} returned {len(outputs)} outputs for {len(batch)} segments")
        report.engine_segments += len(batch)
        for job, output in zip(batch, outputs, strict=True):
            if output is not None and job.markers:
                output = self._read_markup(job, output)
            job.output = output
            job.problem = "not translated by the engine" if output is None else self._coverage_problem(job, output)

    @staticmethod
    def _read_markup(job: _Job, answer: str) -> str:
        """The plain text of a marked-up answer; `job.hints` where it kept every marker once."""
        text, tags = parse_inline(answer)
        found: dict[int, tuple[str, int]] = {}
        complete = True
        for tag in tags:
            marker = _MARKER_ID.search(tag.open_html)
            number = int(marker.group(1)) if marker else -1
            inner = text[tag.start : tag.end]
            if not 0 <= number < job.markers or number in found or tag.name != job.marker_names[number]:
                complete = False
            elif f"</{tag.name}>" not in answer or not inner.strip():
                complete = False  # unclosed (it would run to the end), or around nothing but space
            else:
                found[number] = (inner, tag.start)
        if complete and sorted(found) == list(range(job.markers)):
            job.hints = [found[number] for number in range(job.markers)]
        else:
            job.hints = None
            log.info("engine answer lost markup (%d of %d tags): aligning instead", len(found), job.markers)
            text = re.sub(r"\s{2,}", " ", text)  # where a dropped tag stood between two spaces
        return text

    def _retry(self, job: _Job, report: TranslationReport) -> None:
        """Translate one segment alone; engines with a `translate_retry` method decode it differently."""
        if not isinstance(self.engine, RetriesDifferently) or job.markers:
            self._call([job], report)
            return
        started = time.perf_counter()
        try:
            output: str | None = self.engine.translate_retry(
                job.engine_input, self.source_language, self.target_language
            )
        except TranslationMissing:
            output = None
        finally:
            report.engine_seconds += time.perf_counter() - started
            report.engine_calls += 1
        report.engine_segments += 1
        job.output = output
        job.problem = "not translated by the engine" if output is None else self._coverage_problem(job, output)

    def _coverage_problem(self, job: _Job, output: str) -> str | None:
        source, target = job.source.strip(), output.strip()
        if not any(ch.isalnum() for ch in source):
            return None
        if not target:
            return "empty output"
        if len(source) >= 20 and len(target) < self.min_length_ratio * len(source):
            return f"output too short ({len(target)} chars for {len(source)})"
        if len(target) > max(80.0, self.max_length_ratio * len(source)):
            return f"output too long ({len(target)} chars for {len(source)})"
        return None

    def _check_coverage(self, jobs: dict[str, _Job], report: TranslationReport) -> None:
        # An engine that loses numbers in many segments does so systematically; retrying each one
        # alone would double the work for nothing. A few losses are worth a second try.
        number_retries = max(5, len(jobs) // 10) if self.retry_lost_numbers else 0
        for job in jobs.values():
            if job.problem is None and job.required and job.output is not None:
                if number_retries and self._retry_lost_numbers(job, report):
                    number_retries -= 1
                continue
            if job.problem in (None, "memory"):
                continue
            if not job.required:
                continue  # a tag-text translation only guides tag placement; its failure is harmless
            first_problem = job.problem
            retry: _Job | None = None
            if job.output is not None:  # None: the engine said it has no translation; a retry won't change that
                retry = replace(job, output=None, problem=None, hints=None)
                self._retry(retry, report)
            recovered = retry is not None and retry.problem is None and retry.output is not None
            if retry is not None:
                report.coverage_retries.append(
                    {"paragraph": job.unit, "source": job.source[:200], "reason": first_problem, "recovered": recovered}
                )
            if recovered and retry is not None:
                job.output, job.problem, job.hints = retry.output, None, retry.hints
            else:
                reason = retry.problem if retry is not None and retry.problem else first_problem
                report.failed_segments.append({"paragraph": job.unit, "source": job.source[:200], "reason": reason})
                job.problem = f"failed: {reason}"

    def _retry_lost_numbers(self, job: _Job, report: TranslationReport) -> bool:
        """A translation that lost a number of its source ("13", "2019") is retried alone once
        (returns whether it was).

        The better of the two outputs is kept; numbers still missing are reported with the
        segment (`numbers_missing`) and flag the translation for review, without failing it --
        some conversions legitimately change digits ("5 p.m." → "17 Uhr")."""
        assert job.output is not None
        lost = missing_numbers(job.source, job.output)
        if not lost:
            return False
        retry = replace(job, output=None, problem=None, hints=None)
        self._retry(retry, report)
        still_lost = lost
        if retry.problem is None and retry.output is not None:
            still_lost = missing_numbers(job.source, retry.output)
            if len(still_lost) < len(lost):
                job.output, job.hints = retry.output, retry.hints
        report.coverage_retries.append(
            {
                "paragraph": job.unit,
                "source": job.source[:200],
                "reason": f"numbers lost: {', '.join(lost)}",
                "recovered": not still_lost,
            }
        )
        return True

    def _assemble(self, units: list[_Unit], jobs: dict[str, _Job], report: TranslationReport) -> list[tuple[str, str]]:
        """Each unit's output HTML. Returns (source, output) of the paragraphs whose tags the engine
        placed: their sentences' memory entries are plain text, and would be aligned next time."""
        engine_placed: list[tuple[str, str]] = []
        span_translations = {
            job.source.strip(): job.output
            for job in jobs.values()
            if not job.required and job.output and job.problem in (None, "memory")
        }
        for unit in units:
            parts: list[str] = []
            placed: list[InlineTag] = []
            offset = 0
            by_engine, clean = 0, True
            for number, sentence in enumerate(unit.sentences):
                hints: dict[InlineTag, tuple[str, int]] = {}
                clipped = clip_tags(unit.tags, sentence.start, sentence.end)
                if sentence.translation is None:
                    outputs = []
                    for piece, key in zip(sentence.pieces, sentence.keys, strict=True):
                        job = jobs[key]
                        clean = clean and job.problem in (None, "memory")
                        text = job.output if job.output and job.output.strip() else piece  # never a hole
                        outputs.append(self._postedit(piece, text, unit, report, job=job))
                        if job.hints is not None and job.problem is None:
                            marked = [t for t in clipped if not t.point]  # as in `_markup_job`
                            lead = len(text) - len(text.lstrip())
                            hints = {t: (inner, at - lead) for t, (inner, at) in zip(marked, job.hints, strict=True)}
                    sentence.translation = " ".join(o.strip() for o in outputs)
                translation = sentence.translation.strip()
                tags = clipped + self._orphan_voids(unit, number)
                if tags:
                    placement = transfer_tags(sentence.source, tags, translation, span_translations, hints)
                    report.markup_approximate += placement.approximate
                    report.markup_by_engine += placement.by_engine
                    by_engine += placement.by_engine
                    placed += [replace(t, start=t.start + offset, end=t.end + offset) for t in placement.tags]
                parts.append(translation)
                offset += len(translation) + 1
            text = " ".join(parts)
            if self._german:
                text = german_text(text)
            unit.output = render_inline(text, placed)
            if by_engine and clean and unit.index is not None:
                engine_placed.append((unit.html, unit.output))
        return engine_placed

    def _orphan_voids(self, unit: _Unit, number: int) -> list[InlineTag]:
        """Line breaks (and empty elements) between sentences belong to the sentence after them (or
        the last one)."""
        sentence = unit.sentences[number]
        previous_end = unit.sentences[number - 1].end if number else -1
        is_last = number == len(unit.sentences) - 1
        orphans = []
        for tag in unit.tags:
            if not tag.point:
                continue
            if previous_end <= tag.start < sentence.start:
                orphans.append(replace(tag, start=0, end=0))
            elif is_last and tag.start >= sentence.end:
                length = sentence.end - sentence.start
                orphans.append(replace(tag, start=length, end=length))
        return orphans

    def _postedit(
        self,
        source: str,
        target: str,
        unit: _Unit,
        report: TranslationReport,
        from_memory: bool = False,
        job: _Job | None = None,
    ) -> str:
        """Glossary repair and number formats for one segment's translation."""
        if self.glossary is not None:
            terms = job.terms if job is not None and job.terms else self.glossary.terms_in(source)
            if terms:
                target, missing = self.glossary.repair(target, terms)
                report.glossary_enforced += len(terms) - len(missing)
                for term in missing:
                    report.glossary_not_enforced.append(
                        {"paragraph": unit.index, "term": term.source, "target": term.target, "segment": source[:120]}
                    )
        engine_output = job is not None and job.problem is None and not from_memory
        if self._german and engine_output:
            # Memory entries are German already (human or post-edited); only raw engine output
            # may still carry English number formats.
            target = convert_numbers(target, source)
        if engine_output:
            lost = missing_numbers(source, target)
            if lost:
                report.numbers_missing.append({"paragraph": unit.index, "numbers": lost, "segment": source[:120]})
        return target

    def _repair_terms_html(self, unit: _Unit, target_html: str, report: TranslationReport) -> str:
        """Glossary repair on the text between the tags of a paragraph-level memory entry."""
        if self.glossary is None:
            return target_html
        source_text, _ = parse_inline(unit.html)
        terms = self.glossary.terms_in(source_text)
        if not terms:
            return target_html
        glossary = self.glossary
        parts = re.split(r"(<[^>]+>)", target_html)
        parts = [p if p.startswith("<") else glossary.repair(p, terms)[0] for p in parts]
        target_html = "".join(parts)
        _, missing = glossary.repair(parse_inline(target_html)[0], terms)
        report.glossary_enforced += len(terms) - len(missing)
        for term in missing:
            report.glossary_not_enforced.append(
                {"paragraph": unit.index, "term": term.source, "target": term.target, "segment": source_text[:120]}
            )
        return target_html

    def _typography_html(self, fragment: str) -> str:
        if not self._german:
            return fragment
        text, tags = parse_inline(fragment)
        return render_inline(german_text(text), tags)

    @property
    def _german(self) -> bool:
        return self.target_language.split("-")[0].lower() == "de"

    def _store(self, jobs: dict[str, _Job], paragraphs: list[tuple[str, str]]) -> None:
        assert self.memory is not None
        # Paragraphs whose tags the engine placed are stored whole, with their markup: a re-run
        # then costs nothing and publishes the same links (sentence entries would be aligned).
        pairs = list(paragraphs)
        for job in jobs.values():
            if not job.output or job.problem is not None:
                continue
            output = job.output
            # Stored as published: glossary repaired, number formats converted.
            if self.glossary is not None and job.terms:
                output, _ = self.glossary.repair(output, job.terms)
            if self._german:
                output = convert_numbers(output, job.source)
            # Not stored: what an engine put inside a tag. It is right in its sentence only ("trat"
            # for "resigned" in "trat … zurück"), and memory entries must stand on their own.
            pairs.append((job.source, output))
        if pairs:
            self.memory.store(pairs, engine=self.engine.name, model=self.engine.model)
