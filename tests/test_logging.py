from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from presseschau.logging_setup import configure_logging


def test_logs_go_to_the_current_stderr_even_after_it_was_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(json_lines=True)
    logging.getLogger("presseschau.test").info("one", extra={"article": 7})
    first.close()  # e.g. a test runner's captured stream
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("presseschau.test").warning("two")
    record = json.loads(second.getvalue())
    assert (record["message"], record["level"]) == ("two", "warning")


def test_json_lines_carry_extra_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(json_lines=True)
    logging.getLogger("presseschau.test").info("fetched", extra={"article": 7, "source": "Loopback"})
    record = json.loads(stream.getvalue())
    assert record["article"] == 7 and record["source"] == "Loopback" and record["logger"] == "presseschau.test"


def test_extractor_noise_is_silenced_unless_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging()
    logging.getLogger("trafilatura.core").error("discarding data: x")
    logging.getLogger("presseschau.ingest").warning("kept")
    assert "discarding" not in stream.getvalue() and "kept" in stream.getvalue()
    configure_logging(verbose=True)
    logging.getLogger("trafilatura.core").error("discarding data: y")
    assert "discarding data: y" in stream.getvalue()
