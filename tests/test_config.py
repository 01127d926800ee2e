from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.config import load_settings


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
