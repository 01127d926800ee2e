"""`presseschau status`: engines configured and used, failures that retry vs. failed for good, pauses."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.store.models import Article, ServiceState, Translation, utcnow


def _setup(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    retry_at = utcnow() + timedelta(hours=2)
    rows = [
        ("done", 1, None, None, "memory"),
        ("queued", 2, "EngineUnavailable: deepl: HTTP 502", retry_at, "deepl"),
        ("failed", 5, "incomplete translation: 1 segment(s) failed", None, "ct2"),
    ]
    with context.database.session() as session:
        for n, (status, attempts, error, next_attempt_at, engine) in enumerate(rows):
            article = Article(url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}", revision=1)
            session.add(article)
            session.flush()
            session.add(
                Translation(
                    article_id=article.id,
                    language="de",
                    status=status,
                    attempts=attempts,
                    error=error,
                    next_attempt_at=next_attempt_at,
                    engine=engine,
                    translated_at=utcnow() if status == "done" else None,
                )
            )
        until = (utcnow() + timedelta(minutes=30)).isoformat()
        since = utcnow().isoformat()
        session.add(
            ServiceState(
                key="pause:deepl",
                value={"subject": "deepl", "reason": "QuotaExceeded: 456", "since": since, "until": until, "count": 1},
            )
        )
    context.close()


def test_status_tells_retrying_from_failed_and_shows_the_engine_used(data_dir: Path) -> None:
    _setup(data_dir)
    runner = CliRunner()
    text = runner.invoke(app, ["--data", str(data_dir), "status"], env={"COLUMNS": "250"})
    assert text.exit_code == 0, text.output
    assert "configured: firefox" in text.output and "latest translations: memory" in text.output
    assert "Translation queue " in text.output and "{'" not in text.output  # counts, not a Python dict
    assert "Translation paused (deepl) until" in text.output and "QuotaExceeded: 456" in text.output
    # The pause's end in the configured time zone with its offset (Europe/Berlin), not bare UTC.
    paused = next(line for line in text.output.splitlines() if "Translation paused" in line)
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d \+0[12]:00:", paused) and "UTC" not in paused, paused
    lines = {line.split("│")[2].strip(): line for line in text.output.splitlines() if line.count("│") >= 6}
    assert "queued" in lines["2"] and "2/5" in lines["2"]  # article 2 will be retried ...
    assert "failed" in lines["3"] and "5/5" in lines["3"]  # ... article 3 failed for good

    as_json = runner.invoke(app, ["--data", str(data_dir), "status", "--json"])
    report = json.loads(as_json.stdout)
    failures = {f["article"]: f for f in report["failures"]}
    assert failures[2]["status"] == "queued" and failures[2]["next_attempt_at"]
    assert failures[3]["status"] == "failed" and failures[3]["next_attempt_at"] is None
    assert (report["engine"], report["last_engine_used"]) == ("firefox", "memory")
    assert [p["subject"] for p in report["paused"]] == ["deepl"]
