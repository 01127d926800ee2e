"""Settings from secret files: `PRESSESCHAU_<NAME>_FILE` (compose `secrets:`, systemd credentials)."""

from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.config import SettingsError, load_settings


def test_a_setting_comes_from_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "database_url"
    secret.write_text("postgresql+psycopg://app:p%40ss@db/presseschau\n", encoding="utf-8")
    monkeypatch.setenv("PRESSESCHAU_DATABASE_URL_FILE", str(secret))
    monkeypatch.setenv("PRESSESCHAU_METRICS_TOKEN_FILE", str(secret))
    settings = load_settings(tmp_path / "data")
    assert settings.database_url == "postgresql+psycopg://app:p%40ss@db/presseschau"  # the line break dropped
    assert settings.metrics_token == settings.database_url


def test_the_variable_itself_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "port"
    secret.write_text("9000", encoding="utf-8")
    monkeypatch.setenv("PRESSESCHAU_PORT_FILE", str(secret))
    assert load_settings(tmp_path / "data").port == 9000
    monkeypatch.setenv("PRESSESCHAU_PORT", "9001")
    assert load_settings(tmp_path / "data").port == 9001


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        (b"\xff\xfe\x00bad", "can't decode"),
        (b"not a number", "(environment variable PRESSESCHAU_PORT_FILE)"),
    ],
)
def test_an_unusable_secret_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, reason: str
) -> None:
    secret = tmp_path / "secret"
    if content is not None:
        secret.write_bytes(content)
    monkeypatch.setenv("PRESSESCHAU_PORT_FILE", str(secret))
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path / "data")
    assert reason in str(error.value)
    if content is None or b"\xff" in content:
        assert f"PRESSESCHAU_PORT_FILE: cannot read {secret}" in str(error.value)
