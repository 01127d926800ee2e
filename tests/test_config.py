from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.config import load_settings, settings_for_server


def test_defaults(data_dir: Path) -> None:
    settings = load_settings(data_dir)
    assert settings.target_language == "de"
    assert settings.timezone == "Europe/Berlin"
    assert settings.effective_database_url == f"sqlite:///{data_dir / 'presseschau.sqlite3'}"


def test_toml_file_then_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (data_dir / "presseschau.toml").write_text('target_language = "fr"\ntimezone = "Europe/Paris"\n')
    settings = load_settings(data_dir)
    assert (settings.target_language, settings.timezone) == ("fr", "Europe/Paris")
    monkeypatch.setenv("PRESSESCHAU_TARGET_LANGUAGE", "it")
    assert load_settings(data_dir).target_language == "it"


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSESCHAU_DATA", str(tmp_path / "elsewhere"))
    assert load_settings().data_dir == tmp_path / "elsewhere"


def test_server_address_becomes_base_url_unless_configured(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = settings_for_server(load_settings(data_dir), None, 8765)
    assert (served.port, served.base_url) == (8765, "http://127.0.0.1:8765")
    assert settings_for_server(load_settings(data_dir), "0.0.0.0", 9000).base_url == "http://127.0.0.1:9000"
    (data_dir / "presseschau.toml").write_text('base_url = "https://presse.example"\n')
    assert settings_for_server(load_settings(data_dir), None, 8765).base_url == "https://presse.example"
    monkeypatch.setenv("PRESSESCHAU_BASE_URL", "https://env.example/presse")
    assert settings_for_server(load_settings(data_dir), None, 8765).base_url == "https://env.example/presse"
