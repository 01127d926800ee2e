from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.config import SettingsError, load_settings, settings_for_server


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


def test_bad_configuration_is_one_clear_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from presseschau.cli import app
    from presseschau.config import SettingsError

    config = data_dir / "presseschau.toml"
    config.write_text('http_timeout_s = "abc"\n')
    with pytest.raises(SettingsError, match=r"presseschau\.toml, key 'http_timeout_s': .*number.*'abc'"):
        load_settings(data_dir)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "articles", "list"])
    assert result.exit_code == 2 and "key 'http_timeout_s'" in result.output and "Traceback" not in result.output
    config.write_text("http_timeout_s = \n")
    with pytest.raises(SettingsError, match="is not valid TOML"):
        load_settings(data_dir)
    config.write_text("")
    monkeypatch.setenv("PRESSESCHAU_BEAM_SIZE", "x")
    with pytest.raises(SettingsError, match="environment variable PRESSESCHAU_BEAM_SIZE"):
        load_settings(data_dir)


def test_unknown_keys_are_reported(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    (data_dir / "presseschau.toml").write_text('engin = "deepl"\n')
    load_settings(data_dir)
    assert "unknown setting(s) 'engin' ignored" in caplog.text


def test_a_story_window_beyond_a_year_is_refused(data_dir: Path) -> None:
    # A huge window overflowed the date arithmetic, and grouping failed (logged) on every publish.
    (data_dir / "presseschau.toml").write_text("story_window_hours = 1000000000000\n")
    with pytest.raises(SettingsError, match=r"key 'story_window_hours': .*8760"):
        load_settings(data_dir)
