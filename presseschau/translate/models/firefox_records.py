"""Firefox Translations models: the files of one model, Mozilla's model records, pulling and importing.

A Firefox Translations model (Marian "intgemm" int8, SSRU decoder; run by `fxtranslate`) is a
directory of plain files:

- `model.<pair>.intgemm.alphas.bin` (or `.intgemm8.bin`): the weights;
- `vocab.<pair>.spm` (one shared SentencePiece vocabulary) or `srcvocab.<pair>.spm` and
  `trgvocab.<pair>.spm` (split vocabularies, e.g. CJK);
- `lex.50.50.<pair>.s2t.bin`: an optional lexical shortlist that speeds up decoding.

Mozilla publishes them through Remote Settings, the service Firefox itself reads: a records
document lists every file (language pair, version, architecture, SHA-256 of the decompressed
file) with an attachment (`location` below the attachments server, zstd-compressed, its own
SHA-256 and size). `pull` reads the records, picks the current production model of a pair,
downloads its files through presseschau's own downloader (proxy, resume, size limit), verifies
both hashes, decompresses and installs the model with its metadata. An operator can re-host the
records and files (`firefox_records_url`, `firefox_attachments_url`), as Mozilla asks of production
users.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presseschau.config import FIREFOX_ATTACHMENTS_URL, FIREFOX_RECORDS_URL
from presseschau.translate.models.download import DownloadError, ProgressCallback, download, sha256_file
from presseschau.translate.models.filter_expressions import Environment, Platform, UnreadableExpression, evaluate
from presseschau.translate.models.meta import ModelMeta

log = logging.getLogger("presseschau.translate")

RECORDS_URL = FIREFOX_RECORDS_URL
ATTACHMENTS_URL = FIREFOX_ATTACHMENTS_URL
LICENSE = "MPL-2.0"
PIVOT_LANGUAGE = "en"
# Architectures Mozilla trains, fastest first; `firefox_architecture` chooses the preference.
ARCHITECTURES = ("tiny", "base-memory", "base")
# The records document lists every file of every pair (a few MB); a model file is tens of MB.
RECORDS_MAX_BYTES = 64 * 1024 * 1024
FILE_MAX_BYTES = 512 * 1024 * 1024
# Measured with the en→pt tiny model: output stays complete up to ~100 SentencePiece tokens and
# degrades beyond (133 tokens in, a third of the text lost). Longer sentences are split before.
FIREFOX_MAX_INPUT_TOKENS = 100

# Published quality on FLORES-200 dev, measured with sacrebleu from Mozilla's published outputs
# (../shared/eval/flores-dev/SCORES.md); shown by `models list`.
PUBLISHED_QUALITY = {
    ("en", "de", "tiny"): "FLORES-200 dev BLEU 39.1, chrF 64.6, COMET-22 0.855 (published outputs)",
    ("en", "de", "base-memory"): "FLORES-200 dev BLEU 40.0, chrF 65.5, COMET-22 0.865 (published outputs)",
}


class FirefoxModelError(Exception):
    """A Firefox model cannot be found, pulled or installed; the message says what is missing and how to get it."""


def architecture_preference(first: str) -> tuple[str, ...]:
    """The architectures to look for, `first` (the `firefox_architecture` setting) first."""
    return (first, *(name for name in ARCHITECTURES if name != first))


def model_name(source_language: str, target_language: str) -> str:
    return f"firefox-{source_language}-{target_language}"


def parse_model_name(name: str) -> tuple[str, str] | None:
    """(source, target) of a name like `firefox-en-de`; None for any other name."""
    match = re.fullmatch(r"firefox-([a-z]{2,3}(?:_[a-z]+)?)-([a-z]{2,3}(?:_[a-z]+)?)", name)
    return (match.group(1), match.group(2)) if match else None


# The files of one model ------------------------------------------------------------------------


@dataclass(frozen=True)
class FirefoxFiles:
    model: Path
    source_vocab: Path
    target_vocab: Path
    shortlist: Path | None

    def names(self) -> dict[str, str | None]:
        return {
            "model": self.model.name,
            "source_vocab": self.source_vocab.name,
            "target_vocab": self.target_vocab.name,
            "shortlist": self.shortlist.name if self.shortlist else None,
        }


def _one(directory: Path, patterns: Iterable[str]) -> Path | None:
    for pattern in patterns:
        found = sorted(p for p in directory.glob(pattern) if p.is_file())
        if found:
            return found[0]
    return None


def find_files(directory: Path) -> FirefoxFiles | None:
    """The model files in `directory` (uncompressed), or None when it holds no Firefox model."""
    if not directory.is_dir():
        return None
    model = _one(directory, ("model.*.intgemm*.bin", "model.*.bin"))
    shared = _one(directory, ("vocab.*.spm",))
    source_vocab = _one(directory, ("srcvocab.*.spm",)) or shared
    target_vocab = _one(directory, ("trgvocab.*.spm",)) or shared
    if model is None or source_vocab is None or target_vocab is None:
        return None
    return FirefoxFiles(model, source_vocab, target_vocab, _one(directory, ("lex.*.s2t.bin", "lex.*.bin")))


def is_firefox_model(directory: Path) -> bool:
    return find_files(directory) is not None


def pair_from_file_name(path: Path) -> tuple[str, str] | None:
    """`model.enpt.intgemm.alphas.bin` -> ("en", "pt"): Mozilla names files by the two-letter pair."""
    parts = path.name.split(".")
    if len(parts) > 1 and re.fullmatch(r"[a-z]{4}", parts[1]):
        return parts[1][:2], parts[1][2:]
    return None


def decompress(data: bytes, name: str, expected_sha256: str | None = None) -> bytes:
    """zstd (`.zst`, Remote Settings attachments) or gzip (`.gz`, the models repository) bytes."""
    if name.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise FirefoxModelError(f"{name}: not a readable gzip file ({error})") from None
    from fxtranslate import discovery

    try:
        return discovery.verify_and_decompress(data, expected_sha256)
    except ValueError as error:
        raise FirefoxModelError(f"{name}: {error}") from None


# Mozilla's records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRecord:
    """One file of one model version, as listed in the records."""

    name: str
    file_type: str  # model | vocab | srcvocab | trgvocab | lex | (others ignored)
    source_language: str
    target_language: str
    version: str
    architecture: str | None
    location: str
    sha256: str | None  # of the (compressed) attachment
    size: int | None
    decompressed_sha256: str | None
    # Meant for the configured Firefox (`firefox_platform`, channel release): no filter expression,
    # or one that holds there (`filter_expressions.evaluate`).
    production: bool
    filter_expression: str = ""
    # Why the record is not for the configured Firefox (its filter, or that it cannot be read).
    ineligible: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any], environment: Environment | None = None) -> ModelRecord | None:
        attachment = raw.get("attachment")
        if not isinstance(attachment, dict) or not isinstance(attachment.get("location"), str):
            return None
        expression = str(raw.get("filter_expression") or "").strip()
        ineligible = _ineligible(expression, environment or Environment())
        try:
            return cls(
                name=str(raw["name"]),
                file_type=str(raw["fileType"]),
                source_language=str(raw.get("sourceLanguage") or raw["fromLang"]),
                target_language=str(raw.get("targetLanguage") or raw["toLang"]),
                version=str(raw["version"]),
                architecture=str(raw["architecture"]) if raw.get("architecture") else None,
                location=attachment["location"],
                sha256=str(attachment["hash"]) if attachment.get("hash") else None,
                size=int(attachment["size"]) if isinstance(attachment.get("size"), int) else None,
                decompressed_sha256=str(raw["decompressedHash"]) if raw.get("decompressedHash") else None,
                production=ineligible is None,
                filter_expression=expression,
                ineligible=ineligible,
            )
        except (KeyError, TypeError, ValueError):
            return None


def _ineligible(expression: str, environment: Environment) -> str | None:
    """None when a record with `expression` is for `environment`, else why not."""
    try:
        if evaluate(expression, environment):
            return None
        return f"filter {expression!r} excludes {environment.platform} {environment.channel}"
    except UnreadableExpression as error:
        return f"filter {expression!r} cannot be read ({error})"


def _version_key(version: str) -> tuple[tuple[int, ...], int, int]:
    """Release versions above their pre-releases: 3.1 > 3.1b2 > 3.1a1 > 3.0."""
    match = re.fullmatch(r"(\d+(?:\.\d+)*)(?:([ab])(\d+))?", version)
    if match is None:
        return (), -1, 0
    numbers = tuple(int(part) for part in match.group(1).split("."))
    stage = {"a": 0, "b": 1, None: 2}[match.group(2)]
    return numbers, stage, int(match.group(3) or 0)


def parse_records(body: str, source: str = "records", environment: Environment | None = None) -> list[ModelRecord]:
    """The model-file records Firefox would use: those of a version this engine runs.

    The version gate is fxtranslate's own (`discovery.model_pairs`), asked per record, so a model
    format fxtranslate cannot run is never downloaded."""
    from fxtranslate import discovery

    try:
        document = json.loads(body)
    except ValueError as error:
        raise FirefoxModelError(f"{source}: not JSON ({error})") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise FirefoxModelError(f"{source}: no `data` list of records")
    supported: dict[str, bool] = {}

    def runs(raw: dict[str, Any], version: str) -> bool:
        # fxtranslate gates pairs by their weights' record; asked once per version, as a model file.
        if version not in supported:
            try:
                supported[version] = bool(discovery.model_pairs(json.dumps({"data": [{**raw, "fileType": "model"}]})))
            except ValueError:
                supported[version] = False
        return supported[version]

    records = []
    for raw in data:
        if not isinstance(raw, dict):
            continue
        record = ModelRecord.from_json(raw, environment)
        if record is not None and runs(raw, record.version):
            records.append(record)
    return records


def choose_model(
    records: list[ModelRecord], source_language: str, target_language: str, preference: Iterable[str] = ARCHITECTURES
) -> list[ModelRecord] | None:
    """The files of the production model for a pair: the preferred architecture, newest version.

    Returns None when the records hold no complete model (weights and vocabulary) for the pair."""
    candidates: dict[tuple[str, str | None], dict[str, ModelRecord]] = {}
    for record in records:
        if (record.source_language, record.target_language) != (source_language, target_language):
            continue
        if not record.production:
            continue
        files = candidates.setdefault((record.version, record.architecture), {})
        files.setdefault(record.file_type, record)
    complete = {
        key: files
        for key, files in candidates.items()
        if "model" in files and ("vocab" in files or {"srcvocab", "trgvocab"} <= set(files))
    }
    if not complete:
        return None
    order = list(preference)

    def rank(key: tuple[str, str | None]) -> tuple[int, tuple[tuple[int, ...], int, int]]:
        version, architecture = key
        preferred = order.index(architecture) if architecture in order else len(order)
        return -preferred, _version_key(version)

    best = max(complete, key=rank)
    wanted = ("model", "vocab", "srcvocab", "trgvocab", "lex")
    return [complete[best][kind] for kind in wanted if kind in complete[best]]


def available_pairs(records: list[ModelRecord]) -> set[tuple[str, str]]:
    return {(r.source_language, r.target_language) for r in records if r.production and r.file_type == "model"}


def route(records: list[ModelRecord], source_language: str, target_language: str) -> list[tuple[str, str]] | None:
    """The legs to install for a pair: direct, else through English (fr→en→de), as Firefox does."""
    pairs = available_pairs(records)
    if (source_language, target_language) in pairs:
        return [(source_language, target_language)]
    via = PIVOT_LANGUAGE
    if source_language != via and target_language != via and {(source_language, via), (via, target_language)} <= pairs:
        return [(source_language, via), (via, target_language)]
    return None


@dataclass(frozen=True)
class FirefoxSource:
    """Where models come from: Mozilla's servers, or an operator's mirror of them."""

    records_url: str = RECORDS_URL
    attachments_url: str = ATTACHMENTS_URL
    proxy: str | None = None
    # The Firefox whose models to install (`firefox_platform`): records filtered to another are skipped.
    platform: Platform = "desktop"


def fetch_records(source: FirefoxSource, scratch: Path, client: Any = None) -> list[ModelRecord]:
    """The records of `source` (read through a file in `scratch`, never kept)."""
    target = scratch / "records.json"
    try:
        download(
            source.records_url, target, client=client, proxy=source.proxy, max_bytes=RECORDS_MAX_BYTES, resume=False
        )
    except DownloadError as error:
        raise FirefoxModelError(f"cannot read Firefox Translations model records: {error}") from None
    try:
        return parse_records(target.read_text(encoding="utf-8"), source.records_url, Environment(source.platform))
    finally:
        target.unlink(missing_ok=True)


def pull_model(
    source: FirefoxSource,
    models_dir: Path,
    source_language: str,
    target_language: str,
    preference: Iterable[str] = ARCHITECTURES,
    progress: ProgressCallback | None = None,
    client: Any = None,
    records: list[ModelRecord] | None = None,
) -> list[Path]:
    """Install the model(s) for a pair (two for a pivot) and return their directories.

    Models already installed are kept as they are."""
    models_dir.mkdir(parents=True, exist_ok=True)
    downloads = models_dir / ".downloads"
    if records is None:
        records = fetch_records(source, downloads, client)
    legs = route(records, source_language, target_language)
    if legs is None:
        _refuse_ineligible(records, source_language, target_language, source.platform)
        known = ", ".join(f"{s}-{t}" for s, t in sorted(available_pairs(records))) or "none"
        raise FirefoxModelError(
            f"Mozilla publishes no Firefox Translations model for {source_language}→{target_language}, "
            f'directly or through {PIVOT_LANGUAGE} (published pairs: {known}); use engine "ct2" with an '
            f"OPUS-MT or NLLB model instead"
        )
    installed = []
    for leg_source, leg_target in legs:
        target = models_dir / model_name(leg_source, leg_target)
        if is_firefox_model(target):
            installed.append(target)
            continue
        files = choose_model(records, leg_source, leg_target, preference)
        if files is None:
            _refuse_ineligible(records, leg_source, leg_target, source.platform)
            raise FirefoxModelError(f"the records list no complete model for {leg_source}→{leg_target}")
        installed.append(_install_from_records(source, files, target, downloads, progress, client))
    return installed


def _refuse_ineligible(records: list[ModelRecord], source_language: str, target_language: str, platform: str) -> None:
    """`FirefoxModelError` naming the records of a pair that exist but are not for the configured
    Firefox (their filter expressions), and the setting that chooses it; nothing when there are none."""
    wanted = {(source_language, target_language)}
    if source_language != PIVOT_LANGUAGE and target_language != PIVOT_LANGUAGE:
        wanted |= {(source_language, PIVOT_LANGUAGE), (PIVOT_LANGUAGE, target_language)}
    skipped = [r for r in records if (r.source_language, r.target_language) in wanted and r.ineligible]
    if not skipped:
        return
    shown = sorted(
        {f"{r.source_language}-{r.target_language} {r.version} {r.architecture or ''}: {r.ineligible}" for r in skipped}
    )
    raise FirefoxModelError(
        f"no Firefox Translations model for {source_language}→{target_language} is published for "
        f'firefox_platform = "{platform}" (channel release); {len(skipped)} record(s) are for another '
        f"Firefox: {'; '.join(shown[:6])}{' …' if len(shown) > 6 else ''}. Set firefox_platform in "
        "presseschau.toml (desktop or android) to use them"
    )


def _install_from_records(
    source: FirefoxSource,
    files: list[ModelRecord],
    target: Path,
    downloads: Path,
    progress: ProgressCallback | None,
    client: Any,
) -> Path:
    first = files[0]
    total = sum(r.size or 0 for r in files) or None
    done_before = 0

    def file_progress(done: int, _total: int | None) -> None:
        if progress:
            progress(done_before + done, total)

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pull-") as scratch:
        staging = Path(scratch) / "model"
        staging.mkdir()
        for record in files:
            url = source.attachments_url.rstrip("/") + "/" + record.location.lstrip("/")
            archive = downloads / Path(record.location).name
            limit = (record.size + 1024) if record.size else FILE_MAX_BYTES
            try:
                download(
                    url,
                    archive,
                    sha256=record.sha256,
                    progress=file_progress,
                    client=client,
                    proxy=source.proxy,
                    max_bytes=limit,
                )
            except DownloadError as error:
                raise FirefoxModelError(f"{record.name}: {error}") from None
            compressed = archive.read_bytes()
            name = record.name.removesuffix(".zst").removesuffix(".gz")
            (staging / name).write_bytes(decompress(compressed, Path(record.location).name, record.decompressed_sha256))
            archive.unlink(missing_ok=True)
            done_before += len(compressed)
        found = find_files(staging)
        if found is None:
            names = sorted(record.name for record in files)
            raise FirefoxModelError(f"the records' files for {target.name} do not form a model: {names}")
        meta = firefox_meta(
            target.name,
            first.source_language,
            first.target_language,
            found,
            architecture=first.architecture,
            version=first.version,
            origin=f"{source.records_url} ({first.source_language}-{first.target_language} {first.version})",
        )
        meta.write(staging)
        staging.replace(target)
    log.warning("installed Firefox Translations model %s (%s %s)", target.name, first.architecture, first.version)
    return target


def firefox_meta(
    name: str,
    source_language: str,
    target_language: str,
    files: FirefoxFiles,
    architecture: str | None,
    version: str | None,
    origin: str,
) -> ModelMeta:
    return ModelMeta(
        name=name,
        format="firefox",
        source_languages=[source_language],
        target_languages=[target_language],
        max_input_tokens=FIREFOX_MAX_INPUT_TOKENS,
        license=LICENSE,
        origin=origin,
        sha256=sha256_file(files.model),
        architecture=architecture,
        version=version,
        quality=PUBLISHED_QUALITY.get((source_language, target_language, architecture or "")),
        files=files.names(),
    )


def import_directory(
    source_dir: Path,
    models_dir: Path,
    name: str | None = None,
    source_language: str | None = None,
    target_language: str | None = None,
) -> Path:
    """Install a directory of a Firefox model's files (plain, `.gz` or `.zst`) under `models_dir`."""
    if not source_dir.is_dir():
        raise FirefoxModelError(f"{source_dir} is not a directory")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".import-") as scratch:
        staging = Path(scratch) / "model"
        staging.mkdir()
        for path in sorted(source_dir.iterdir()):
            if not path.is_file():
                continue
            if path.name.endswith((".gz", ".zst")):
                plain = path.name.removesuffix(".gz").removesuffix(".zst")
                (staging / plain).write_bytes(decompress(path.read_bytes(), path.name))
            else:
                shutil.copy2(path, staging / path.name)
        files = find_files(staging)
        if files is None:
            raise FirefoxModelError(
                f"{source_dir}: no Firefox Translations model (needs model.*.bin and vocab.*.spm, "
                f"optionally lex.*.s2t.bin; plain, .gz or .zst)"
            )
        pair = pair_from_file_name(files.model)
        source_language = source_language or (pair[0] if pair else None)
        target_language = target_language or (pair[1] if pair else None)
        if not source_language or not target_language:
            raise FirefoxModelError(f"{files.model.name}: cannot tell the language pair; give --from and --to")
        info = _model_info(source_dir)
        target = models_dir / (name or model_name(source_language, target_language))
        if target.exists():
            raise FirefoxModelError(f"a model named {target.name!r} is already installed at {target}")
        meta = firefox_meta(
            target.name,
            source_language,
            target_language,
            files,
            architecture=info.get("type"),
            version=str(info["version"]) if "version" in info else None,
            origin=str(source_dir.resolve()),
        )
        meta.write(staging)
        staging.replace(target)
    return target


def _model_info(directory: Path) -> dict[str, Any]:
    """`model_info.json` of releases that ship one (architecture as `type`, `version`)."""
    path = directory / "model_info.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
