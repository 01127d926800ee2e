"""The catalog of real models, and the local store of installed models.

An installed model is a directory under `models_dir` holding either a CTranslate2 model
(`model.bin`, vocabularies, its SentencePiece models; engine `ct2`) or a Firefox Translations model
(`model.*.intgemm*.bin`, `vocab.*.spm`, `lex.*.s2t.bin`; engine `firefox`, see
`presseschau.translate.models.firefox_records`), plus `presseschau-model.json` (name, format, languages, limits,
license, where it came from and the checksum of what was downloaded).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from presseschau.config import Settings
from presseschau.messages import Text, text
from presseschau.translate.errors import EngineNotReady, ModelNotFound
from presseschau.translate.models import firefox_records as firefox
from presseschau.translate.models.download import ProgressCallback, download, extract, sha256_file
from presseschau.translate.models.meta import META_FILE, ModelMeta

ReleaseFormat = Literal["opus-mt", "ct2", "transformers", "firefox"]


class ModelInstallError(Exception):
    """A model could not be converted or installed (bad release layout, missing converter, ...)."""


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    format: ReleaseFormat
    # Archive URL (opus-mt, ct2) or Hugging Face model id (transformers).
    url: str
    download_size: str
    license: str
    quality: str
    source_languages: tuple[str, ...] = ("en",)
    target_languages: tuple[str, ...] = ("de",)
    max_input_tokens: int = 200
    # Published SHA-256 of the archive where one is known; else the first download's checksum is
    # recorded in the model's metadata (trust on first use) and shown by `models list`.
    sha256: str | None = None
    # Language-token scheme of multilingual models: "nllb" or "m2m100".
    language_tokens: str | None = None
    default: bool = False


CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry(
            name="firefox-en-de",
            description="Firefox Translations English→German (Mozilla; Marian int8, tiny architecture by "
            "default); engine firefox. Any pair Mozilla publishes pulls as firefox-SRC-TRG",
            format="firefox",
            url=firefox.RECORDS_URL,
            download_size="≈25 MB (tiny)",
            license=firefox.LICENSE,
            quality=firefox.PUBLISHED_QUALITY[("en", "de", "tiny")],
            max_input_tokens=firefox.FIREFOX_MAX_INPUT_TOKENS,
            default=True,
        ),
        CatalogEntry(
            name="opus-mt-en-de",
            description="OPUS-MT English→German (Helsinki-NLP, Marian transformer-base, 74 M parameters)",
            format="opus-mt",
            url="https://object.pouta.csc.fi/OPUS-MT-models/en-de/opus-2020-02-26.zip",
            download_size="≈300 MB",
            license="CC-BY-4.0",
            quality="FLORES-200 dev BLEU 36.3, COMET-22 0.842 (published)",
            default=True,
        ),
        CatalogEntry(
            name="opus-mt-tc-big-en-de",
            description="OPUS-MT Tatoeba-Challenge transformer-big English→German (opusTCv20210807+bt)",
            format="opus-mt",
            url="https://object.pouta.csc.fi/Tatoeba-MT-models/eng-deu/opusTCv20210807+bt-2021-12-08.zip",
            download_size="≈1.2 GB",
            license="CC-BY-4.0",
            quality="Tatoeba-test eng-deu BLEU 43.7 (published); stronger than opus-mt-en-de, ~3x slower",
        ),
        CatalogEntry(
            name="nllb-200-distilled-600m",
            description="Meta NLLB-200 distilled, 600 M parameters, 200 languages (converted from Transformers)",
            format="transformers",
            url="facebook/nllb-200-distilled-600M",
            download_size="≈2.5 GB",
            license="CC-BY-NC-4.0 (non-commercial use only)",
            quality="FLORES-200 dev en→de BLEU 33.9, COMET-22 0.850 (published)",
            source_languages=("*",),
            target_languages=("*",),
            max_input_tokens=256,
            language_tokens="nllb",
        ),
        CatalogEntry(
            name="m2m100-418m",
            description="Meta M2M-100, 418 M parameters, 100 languages (converted from Transformers)",
            format="transformers",
            url="facebook/m2m100_418M",
            download_size="≈1.9 GB",
            license="MIT",
            quality="weaker than NLLB-200 on FLORES (published); for language pairs OPUS-MT lacks",
            source_languages=("*",),
            target_languages=("*",),
            max_input_tokens=256,
            language_tokens="m2m100",
        ),
    )
}


def default_model_for(source_language: str, target_language: str) -> CatalogEntry | None:
    """The CTranslate2 model the `ct2` engine pulls for a pair (Firefox models are the `firefox` engine's)."""
    ct2_entries = [entry for entry in CATALOG.values() if entry.format != "firefox"]
    for entry in ct2_entries:
        if entry.default and source_language in entry.source_languages and target_language in entry.target_languages:
            return entry
    for entry in ct2_entries:
        if "*" in entry.source_languages:
            return entry
    return None


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    meta: ModelMeta
    size_bytes: int


def is_ct2_model(path: Path) -> bool:
    return (path / "model.bin").is_file()


def model_format(path: Path) -> Literal["ct2", "firefox"] | None:
    """Which engine runs the model directory `path` (None: not a model directory)."""
    if is_ct2_model(path):
        return "ct2"
    if firefox.is_firefox_model(path):
        return "firefox"
    return None


def read_meta(path: Path) -> ModelMeta:
    """The model's metadata; a directory without `presseschau-model.json` gets it from its files."""
    meta = ModelMeta.read(path)
    if not (path / META_FILE).is_file() and model_format(path) == "firefox":
        meta.format = "firefox"
        meta.license = firefox.LICENSE
        meta.max_input_tokens = firefox.FIREFOX_MAX_INPUT_TOKENS
        files = firefox.find_files(path)
        pair = firefox.pair_from_file_name(files.model) if files else None
        if pair:
            meta.source_languages, meta.target_languages = [pair[0]], [pair[1]]
    return meta


class ModelStore:
    """Installed models under one directory; pulls from the catalog (and Mozilla's records) and imports."""

    def __init__(
        self, models_dir: Path, proxy: str | None = None, firefox_source: firefox.FirefoxSource | None = None
    ) -> None:
        self.models_dir = models_dir
        self.proxy = proxy  # forward proxy for downloads (settings.http_proxy)
        self.firefox_source = firefox_source or firefox.FirefoxSource(proxy=proxy)

    @classmethod
    def for_settings(cls, settings: Settings) -> ModelStore:
        """The configured store: `models_dir`, downloads through `http_proxy`, Firefox models from
        `firefox_records_url` / `firefox_attachments_url`."""
        source = firefox.FirefoxSource(
            settings.firefox_records_url,
            settings.firefox_attachments_url,
            settings.http_proxy,
            settings.firefox_platform,
        )
        return cls(settings.effective_models_dir, settings.http_proxy, source)

    def installed(self, format: Literal["ct2", "firefox"] | None = None) -> list[InstalledModel]:
        """Installed models (of one format, when given), by name."""
        if not self.models_dir.is_dir():
            return []
        models = []
        for path in sorted(self.models_dir.iterdir()):
            if path.name.startswith(".") or not path.is_dir():
                continue
            found = model_format(path)
            if found is None or (format is not None and found != format):
                continue
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            models.append(InstalledModel(path.name, path, read_meta(path), size))
        return models

    def resolve(self, name_or_path: str, format: Literal["ct2", "firefox"] = "ct2") -> Path:
        """A model directory of `format` for an installed name or a path to a model directory."""
        candidate = Path(name_or_path).expanduser()
        if model_format(candidate) == format:
            return candidate.resolve()
        installed = self.models_dir / name_or_path
        if "/" not in name_or_path and model_format(installed) == format:
            return installed
        engine = "firefox" if format == "firefox" else "ct2"
        found = model_format(candidate) or ("/" not in name_or_path and model_format(installed))
        if found:
            raise ModelNotFound(f"model {name_or_path!r} is a {found} model; the {engine} engine cannot run it")
        if name_or_path in CATALOG or firefox.parse_model_name(name_or_path):
            raise ModelNotFound(
                f"model {name_or_path!r} is not installed: run `presseschau models pull {name_or_path}`"
            )
        what = (
            "a Firefox Translations model directory (model.*.bin, vocab.*.spm)"
            if format == "firefox"
            else ("a CTranslate2 model directory (with model.bin)")
        )
        raise ModelNotFound(
            f"no model {name_or_path!r}: not an installed model in {self.models_dir}, not a catalog name "
            f"({', '.join(CATALOG)}), and not {what}"
        )

    def remove(self, name: str) -> None:
        path = self.models_dir / name
        if "/" in name or name.startswith(".") or model_format(path) is None:
            raise ModelNotFound(f"no installed model {name!r} in {self.models_dir}")
        shutil.rmtree(path)

    def pull_firefox(
        self,
        source_language: str,
        target_language: str,
        preference: tuple[str, ...] = firefox.ARCHITECTURES,
        progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> list[Path]:
        """Install the Firefox model(s) for a pair from Mozilla's records (two legs for a pivot)."""
        try:
            return firefox.pull_model(
                self.firefox_source, self.models_dir, source_language, target_language, preference, progress, client
            )
        except firefox.FirefoxModelError as error:
            raise ModelInstallError(str(error)) from error

    def pull(
        self,
        entry: CatalogEntry | str,
        progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> Path:
        """Download, verify, convert and install a catalog model; returns its directory."""
        if isinstance(entry, str):
            pair = firefox.parse_model_name(entry)
            if pair is not None:
                return self.pull_firefox(*pair, progress=progress, client=client)[-1]
            if entry not in CATALOG:
                raise ModelNotFound(f"{entry!r} is not in the model catalog ({', '.join(CATALOG)})")
            entry = CATALOG[entry]
        if entry.format == "firefox":
            return self.pull_firefox(
                entry.source_languages[0], entry.target_languages[0], progress=progress, client=client
            )[-1]
        target = self.models_dir / entry.name
        if is_ct2_model(target):
            return target
        if entry.format == "transformers":
            return self._convert_transformers(entry, target)
        downloads = self.models_dir / ".downloads"
        archive_name = entry.url.rstrip("/").rsplit("/", 1)[-1] or f"{entry.name}.zip"
        archive = download(
            entry.url, downloads / archive_name, sha256=entry.sha256, progress=progress, client=client, proxy=self.proxy
        )
        checksum = entry.sha256 or sha256_file(archive)
        meta = ModelMeta(
            name=entry.name,
            source_languages=list(entry.source_languages),
            target_languages=list(entry.target_languages),
            max_input_tokens=entry.max_input_tokens,
            license=entry.license,
            origin=entry.url,
            sha256=checksum,
            language_tokens=entry.language_tokens,
        )
        path = self.import_path(archive, name=entry.name, meta=meta)
        archive.unlink(missing_ok=True)
        return path

    def import_path(
        self,
        source: Path,
        name: str | None = None,
        meta: ModelMeta | None = None,
        source_language: str | None = None,
        target_language: str | None = None,
    ) -> Path:
        """Install a CTranslate2 model directory, an OPUS-MT release directory, an archive of either,
        or a directory of a Firefox Translations model's files (plain, .gz or .zst)."""
        source = source.expanduser()
        if not source.exists():
            raise ModelNotFound(f"{source} does not exist")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        if source.is_dir() and _is_firefox_release(source):
            try:
                return firefox.import_directory(source, self.models_dir, name, source_language, target_language)
            except firefox.FirefoxModelError as error:
                raise ModelInstallError(str(error)) from error
        with tempfile.TemporaryDirectory(dir=self.models_dir, prefix=".import-") as scratch:
            release = source
            if source.is_file():
                release = _single_root(extract(source, Path(scratch) / "release"))
            if name is None:
                name = source.name.split(".")[0] if source.is_file() else source.name
            target = self.models_dir / name
            if target.exists():
                raise ModelInstallError(f"a model named {name!r} is already installed at {target}")
            staging = Path(scratch) / "model"
            if is_ct2_model(release):
                shutil.copytree(release, staging)
            elif (release / "decoder.yml").is_file():
                convert_opus_mt(release, staging)
            else:
                raise ModelInstallError(
                    f"{source}: neither a CTranslate2 model (model.bin) nor an OPUS-MT/Marian release (decoder.yml)"
                )
            existing = ModelMeta.read(staging)
            final = meta or existing
            final.name = name
            if meta is None and not (staging / META_FILE).exists():
                final.origin = str(source)
            final.write(staging)
            staging.replace(target)
        return target

    def _convert_transformers(self, entry: CatalogEntry, target: Path) -> Path:
        try:
            from ctranslate2.converters import TransformersConverter
        except ImportError as error:  # pragma: no cover - depends on the installed ctranslate2
            raise ModelInstallError(f"this CTranslate2 lacks the Transformers converter: {error}") from error
        try:
            import transformers  # type: ignore[import-not-found]  # noqa: F401
        except ImportError as error:
            raise ModelInstallError(
                f"{entry.name} is converted from Hugging Face Transformers: `pip install transformers torch` first"
            ) from error
        with tempfile.TemporaryDirectory(dir=self.models_dir, prefix=".convert-") as scratch:
            staging = Path(scratch) / "model"
            TransformersConverter(entry.url).convert(str(staging), quantization="float16")
            spm = next(iter(staging.glob("*.model")), None)
            meta = ModelMeta(
                name=entry.name,
                source_languages=list(entry.source_languages),
                target_languages=list(entry.target_languages),
                max_input_tokens=entry.max_input_tokens,
                license=entry.license,
                origin=f"https://huggingface.co/{entry.url}",
                language_tokens=entry.language_tokens,
                source_spm=spm.name if spm else "sentencepiece.bpe.model",
                target_spm=spm.name if spm else "sentencepiece.bpe.model",
            )
            meta.write(staging)
            staging.replace(target)
        return target


def _is_firefox_release(directory: Path) -> bool:
    """A directory with a Firefox model's weights, plain or compressed (`model.ende.intgemm.alphas.bin.gz`)."""
    return (
        any(directory.glob("model.*.bin"))
        or any(directory.glob("model.*.bin.gz"))
        or any(directory.glob("model.*.bin.zst"))
    )


def _single_root(path: Path) -> Path:
    """Archives often wrap their files in one folder: descend into it."""
    children = [c for c in path.iterdir() if not c.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return path


def convert_opus_mt(release: Path, output: Path, quantization: str = "float16") -> None:
    """Convert an OPUS-MT (Marian) release with CTranslate2's own converter; keep its SentencePiece models."""
    from ctranslate2.converters import OpusMTConverter

    for needed in ("source.spm", "target.spm"):
        if not (release / needed).is_file():
            raise ModelInstallError(f"{release}: OPUS-MT release without {needed}")
    try:
        OpusMTConverter(str(release)).convert(str(output), quantization=quantization)
    except Exception as error:  # the converter raises bare ValueError/KeyError/... on bad releases
        raise ModelInstallError(f"{release}: conversion failed: {error}") from error
    for spm in ("source.spm", "target.spm"):
        shutil.copy2(release / spm, output / spm)


def firefox_not_ready_message(source_language: str, target_language: str, reason: str | Text) -> Text:
    name = firefox.model_name(source_language, target_language)
    return text("no_firefox_model", source=source_language, target=target_language, reason=reason, name=name)


def not_ready_message(source_language: str, target_language: str, reason: str | Text) -> Text:
    entry = default_model_for(source_language, target_language)
    name = entry.name if entry else "NAME"
    return text("no_model", source=source_language, target=target_language, reason=reason, name=name)


__all__ = ["CATALOG", "CatalogEntry", "EngineNotReady", "ModelInstallError", "ModelMeta", "ModelStore"]
