"""Model management against a loopback HTTP server serving the tiny model in OPUS-MT release format."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from presseschau.cli import app
from presseschau.config import Settings
from presseschau.translate.engines import EngineNotReady, ModelNotFound, clear_engine_cache, get_engine
from presseschau.translate.models import catalog
from presseschau.translate.models.catalog import CATALOG, ModelStore
from presseschau.translate.models.download import ChecksumMismatch, download

from .conftest import TINY_RELEASE


def serve_release(httpserver: HTTPServer, seen_ranges: list[str | None]) -> str:
    payload = TINY_RELEASE.read_bytes()

    def handler(request: Request) -> Response:
        seen_ranges.append(request.headers.get("Range"))
        header = request.headers.get("Range")
        if header:
            start = int(header.removeprefix("bytes=").split("-")[0])
            return Response(
                payload[start:],
                status=206,
                headers={"Content-Range": f"bytes {start}-{len(payload) - 1}/{len(payload)}"},
            )
        return Response(payload, status=200)

    httpserver.expect_request("/models/tiny-en-de.zip").respond_with_handler(handler)
    return httpserver.url_for("/models/tiny-en-de.zip")


def tiny_entry(url: str, sha256: str | None) -> catalog.CatalogEntry:
    return replace(CATALOG["opus-mt-en-de"], name="tiny-en-de", url=url, sha256=sha256, max_input_tokens=128)


def test_pull_downloads_verifies_converts_and_translates(httpserver: HTTPServer, tmp_path: Path) -> None:
    ranges: list[str | None] = []
    url = serve_release(httpserver, ranges)
    digest = hashlib.sha256(TINY_RELEASE.read_bytes()).hexdigest()
    progress: list[int] = []
    store = ModelStore(tmp_path / "models")
    path = store.pull(tiny_entry(url, digest), progress=lambda done, total: progress.append(done))
    assert (path / "model.bin").is_file() and (path / "source.spm").is_file()
    meta = json.loads((path / "presseschau-model.json").read_text())
    assert meta["sha256"] == digest and meta["origin"] == url and meta["max_input_tokens"] == 128
    assert progress[-1] == TINY_RELEASE.stat().st_size
    assert [m.name for m in store.installed()] == ["tiny-en-de"]
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", ct2_threads=1)
    engine = get_engine("ct2", settings, "tiny-en-de")
    assert engine.model == "tiny-en-de"
    assert len(engine.translate_batch(["Hello world.", "Second."], "en", "de")) == 2
    assert get_engine("ct2", settings, str(path)) is engine  # one shared instance per model and device
    clear_engine_cache()


def test_download_resumes_a_partial_file(httpserver: HTTPServer, tmp_path: Path) -> None:
    ranges: list[str | None] = []
    url = serve_release(httpserver, ranges)
    payload = TINY_RELEASE.read_bytes()
    target = tmp_path / "tiny.zip"
    (tmp_path / "tiny.zip.part").write_bytes(payload[:1000])
    download(url, target, sha256=hashlib.sha256(payload).hexdigest())
    assert ranges == ["bytes=1000-"]
    assert target.read_bytes() == payload


def test_resume_starts_over_when_the_file_changed_or_the_server_resumes_wrongly(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    payload = TINY_RELEASE.read_bytes()
    seen: list[dict[str, str | None]] = []
    etag = '"v1"'  # the server's file version throughout
    state = {"offset_error": 0}

    def handler(request: Request) -> Response:
        seen.append({"range": request.headers.get("Range"), "if_range": request.headers.get("If-Range")})
        header = request.headers.get("Range")
        if header and request.headers.get("If-Range") in (None, etag):
            start = int(header.removeprefix("bytes=").split("-")[0]) + state["offset_error"]
            content_range = f"bytes {start}-{len(payload) - 1}/{len(payload)}"
            return Response(payload[start:], status=206, headers={"Content-Range": content_range})
        return Response(payload, status=200, headers={"ETag": etag})

    httpserver.expect_request("/m.zip").respond_with_handler(handler)
    url, target = httpserver.url_for("/m.zip"), tmp_path / "m.zip"
    digest = hashlib.sha256(payload).hexdigest()
    # A first try that broke off after 1,000 bytes of version "v1".
    (tmp_path / "m.zip.part").write_bytes(payload[:1000])
    (tmp_path / "m.zip.part.validator").write_text('"v0"')
    download(url, target, sha256=digest)  # the server's file is now "v1": If-Range gets it whole
    assert seen[-1] == {"range": "bytes=1000-", "if_range": '"v0"'} and target.read_bytes() == payload
    # A server that resumes at the wrong byte: the partial file is dropped and fetched again.
    target.unlink()
    seen.clear()
    (tmp_path / "m.zip.part").write_bytes(payload[:1000])
    state["offset_error"] = 7
    download(url, target, sha256=digest)
    assert [s["range"] for s in seen] == ["bytes=1000-", None] and target.read_bytes() == payload


def test_default_model_is_pulled_on_first_use(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = serve_release(httpserver, [])
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", replace(tiny_entry(url, None), name="opus-mt-en-de"))
    settings = Settings(data_dir=tmp_path, ct2_threads=1)
    clear_engine_cache()
    engine = get_engine("ct2", settings)  # nothing installed: the catalog's default is pulled
    assert engine.model == "opus-mt-en-de"
    assert (tmp_path / "models" / "opus-mt-en-de" / "model.bin").is_file()
    assert "downloading opus-mt-en-de" in caplog.text and "installed opus-mt-en-de" in caplog.text
    assert len(engine.translate_batch(["Hello world."], "en", "de")) == 1
    clear_engine_cache()
    # A download that is no model release is an engine that is not ready, with the reason.
    httpserver.expect_request("/broken.zip").respond_with_data(b"not a zip archive", status=200)
    broken = replace(tiny_entry(httpserver.url_for("/broken.zip"), None), name="opus-mt-en-de")
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", broken)
    with pytest.raises(EngineNotReady, match="no en→de model available"):
        get_engine("ct2", Settings(data_dir=tmp_path / "other", ct2_threads=1))
    clear_engine_cache()


def test_checksum_mismatch_deletes_the_file(httpserver: HTTPServer, tmp_path: Path) -> None:
    url = serve_release(httpserver, [])
    with pytest.raises(ChecksumMismatch):
        download(url, tmp_path / "tiny.zip", sha256="0" * 64)
    assert not (tmp_path / "tiny.zip").exists() and not (tmp_path / "tiny.zip.part").exists()


def test_import_release_archive_and_directory_then_remove(tmp_path: Path, tiny_model: Path) -> None:
    store = ModelStore(tmp_path / "models")
    from_zip = store.import_path(TINY_RELEASE, name="from-zip")
    assert (from_zip / "model.bin").is_file()
    copied = store.import_path(tiny_model, name="copy")
    assert json.loads((copied / "presseschau-model.json").read_text())["max_input_tokens"] == 128
    assert store.resolve("copy") == copied
    store.remove("copy")
    with pytest.raises(ModelNotFound):
        store.resolve("copy")
    with pytest.raises(ModelNotFound, match="models pull opus-mt-en-de"):
        store.resolve("opus-mt-en-de")


def test_first_use_without_network_says_how_to_get_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 on loopback refuses connections: the default model cannot be pulled.
    unreachable = replace(CATALOG["opus-mt-en-de"], url="http://127.0.0.1:9/opus-2020-02-26.zip")
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", unreachable)
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(EngineNotReady) as caught:
        get_engine("ct2", settings)
    message = str(caught.value)
    assert "presseschau models pull opus-mt-en-de" in message
    assert "models import" in message and "--engine memory" in message


def test_models_cli_pull_list_remove(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = serve_release(httpserver, [])
    monkeypatch.setitem(CATALOG, "tiny-en-de", tiny_entry(url, None))
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    result = runner.invoke(app, [*data, "models", "pull", "tiny-en-de"])
    assert result.exit_code == 0, result.output
    assert "installed tiny-en-de" in result.stdout
    result = runner.invoke(app, [*data, "models", "list"])
    assert "tiny-en-de" in result.output and "opus-mt-en-de" in result.output
    result = runner.invoke(app, [*data, "engines"])
    assert "ct2" in result.output and "memory" in result.output
    result = runner.invoke(app, [*data, "models", "remove", "tiny-en-de"])
    assert result.exit_code == 0
    assert ModelStore(tmp_path / "data" / "models").installed() == []


def test_download_through_a_configured_proxy(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_release(httpserver, [])
    proxied_url = "http://models.invalid/models/tiny-en-de.zip"  # a name only the proxy "resolves"
    target = download(proxied_url, tmp_path / "tiny.zip", proxy=httpserver.url_for("").rstrip("/"))
    assert target.read_bytes() == TINY_RELEASE.read_bytes()
    assert httpserver.log[-1][0].headers["Host"] == "models.invalid"
