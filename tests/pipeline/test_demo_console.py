"""What a newcomer sees of `presseschau demo` on a machine without network: a handful of lines
(each engine tried, in a few words, and the outcome), the details only with --verbose; a busy
port said at once, in one line."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from presseschau.cli import app
from presseschau.translate import engines
from presseschau.translate.engines.base import EngineError

OFFLINE = {
    "firefox": "no Firefox Translations model for en→de (cannot read Firefox Translations model records: GET "
    "https://models.example/records: [Errno -2] Name or service not known). Get it with `presseschau models "
    "pull firefox-en-de` on a machine with internet access, or `presseschau models import DIR`",
    "ct2": "no en→de model available (GET https://models.example/opus.zip: [Errno -2] Name or service not known). "
    "Get one with `presseschau models pull opus-mt-en-de`",
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(name: str, *args: object, **kwargs: object) -> object:
        # As the real engines do when they try to pull their model.
        logging.getLogger("presseschau.translate").warning("downloading %s (≈300 MB) -- once only", name)
        raise EngineError(OFFLINE[name])

    monkeypatch.setattr(engines, "get_engine", no_model)


def test_demo_says_in_a_few_lines_why_it_uses_the_memory(offline: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(tmp_path / "d"), "demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) <= 6, result.output
    assert "  firefox: no Firefox Translations model for en→de" in lines
    assert "  ct2: no en→de model available" in lines
    assert any("presseschau models pull firefox-en-de" in line for line in lines)
    assert "downloading" not in result.output and "Name or service" not in result.output
    assert "German articles published" in lines[-1]


def test_demo_verbose_gives_the_details(offline: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(tmp_path / "d"), "demo", "--no-serve", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "Name or service not known" in result.output


def test_a_busy_port_is_one_line_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["--data", str(tmp_path / "d"), "demo", "--port", str(port)])
        served = CliRunner().invoke(app, ["--data", str(tmp_path / "d"), "serve", "--port", str(port)])
    assert result.exit_code == 2 and served.exit_code == 2
    expected = f"Error: port {port} on 127.0.0.1 is already in use; choose another with --port {port + 1}"
    assert result.output.strip() == expected
    assert served.output.strip() == expected
