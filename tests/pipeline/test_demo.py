"""`presseschau demo` brings up the German site with every sample article, complete."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html

from presseschau.content import html_to_text
from presseschau.pipeline.demo import load_samples, memory_pairs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"demo exited early with status {process.returncode}")
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _normalize(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_bundled_samples_are_parallel() -> None:
    samples = load_samples()
    assert len(samples) >= 8
    pairs = memory_pairs(samples)  # raises DemoDataError naming the sample on any mismatch
    assert len(pairs) > 8 * 8
    assert all(source != target for source, target in pairs)


@pytest.mark.slow
def test_demo_serves_every_sample_in_full_german(tmp_path: Path) -> None:
    data, port = tmp_path / "data", _free_port()
    log_path = tmp_path / "demo.log"
    command = [sys.executable, "-m", "presseschau", "--data", str(data), "demo", "--port", str(port)]
    german_by_title: dict[str, list[str]] = {}
    pairs = dict(memory_pairs(load_samples()))
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            home = _wait_for(f"http://127.0.0.1:{port}/", process, timeout=180)
            assert home.status_code == 200
            tree = lxml_html.fromstring(home.text)
            # Canonical links and feeds point at the port served, not at the default one.
            assert tree.xpath("//link[@rel='canonical']/@href") == [f"http://127.0.0.1:{port}/"]
            links = {_normalize(a.text_content()): a.get("href") for a in tree.iter("a") if a.get("href")}
            with sqlite3.connect(data / "presseschau.sqlite3") as connection:
                rows = connection.execute(
                    "SELECT t.title, t.paragraphs, t.engine FROM translations t "
                    "JOIN publications p ON p.translation_id = t.id WHERE p.status = 'published'"
                ).fetchall()
            assert len(rows) == len(load_samples())
            import json

            for title, paragraphs_json, engine in rows:
                assert engine == "memory"
                german_by_title[_normalize(html_to_text(title))] = [
                    _normalize(html_to_text(p["html"])) for p in json.loads(paragraphs_json)
                ]
            for title, paragraphs in german_by_title.items():
                assert title in links, f"home page does not list {title!r}"
                page = httpx.get(httpx.URL(f"http://127.0.0.1:{port}/").join(links[title]), timeout=10)
                assert page.status_code == 200
                page_text = _normalize(lxml_html.fromstring(page.text).text_content())
                for paragraph in paragraphs:
                    assert paragraph in page_text, f"{title}: paragraph missing: {paragraph[:80]}"
                # Said at the top, without jargon ("Übersetzungsspeicher").
                assert "Aus dem Englischen · aus gespeicherten Übersetzungen" in page_text
                assert "Übersetzungsspeicher" not in page_text
                # Each sample outlet is a source: its page and feed are linked from the article.
                source_links = lxml_html.fromstring(page.text).xpath("//a[starts-with(@href, '/quelle/')]/@href")
                assert source_links, f"{title}: no link to its source"
                source_page = httpx.get(f"http://127.0.0.1:{port}{source_links[0]}", timeout=10)
                assert source_page.status_code == 200
            # Every German paragraph is a human translation from the bundled memory, never engine output.
            german_texts = {_normalize(html_to_text(t)) for t in pairs.values()}
            for paragraphs in german_by_title.values():
                assert set(paragraphs) <= german_texts
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log_path.read_text()

    # A second run is idempotent: no new rows, no re-translation.
    with sqlite3.connect(data / "presseschau.sqlite3") as connection:
        before = connection.execute("SELECT count(*), max(updated_at) FROM translations").fetchone()
        articles_before = connection.execute("SELECT count(*) FROM articles").fetchone()
    again = subprocess.run(
        [sys.executable, "-m", "presseschau", "--data", str(data), "demo", "--no-serve"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(data / "presseschau.sqlite3") as connection:
        assert connection.execute("SELECT count(*), max(updated_at) FROM translations").fetchone() == before
        assert connection.execute("SELECT count(*) FROM articles").fetchone() == articles_before
        # The sample outlets' sources are paused: nothing ever polls the fictional hosts. The fifth is the
        # review sample's outlet (an injected fault, held by `auto-unless-risky`).
        assert connection.execute("SELECT count(*), max(enabled) FROM sources").fetchone() == (5, 0)
        held = "SELECT count(*) FROM publications WHERE status = 'held'"
        assert connection.execute(held).fetchone() == (1,)


@pytest.mark.slow  # seconds of real work: the full suite runs it, --fast leaves it out
def test_an_interrupted_then_killed_demo_publishes_every_sample_on_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from presseschau.cli import app
    from presseschau.pipeline.service import HOSTNAME
    from presseschau.translate import queue
    from presseschau.translate.translating import translate_with_fallback

    data = tmp_path / "data"
    command = ["--data", str(data), "demo", "--no-serve", "--engine", "memory"]
    original = translate_with_fallback  # what the queue calls, replaced below
    calls = []

    def ctrl_c_at_the_third_article(*args: Any, **kwargs: Any) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(queue, "translate_with_fallback", ctrl_c_at_the_third_article)
    interrupted = CliRunner().invoke(app, command)
    assert interrupted.exit_code != 0 and len(calls) == 3, interrupted.output
    monkeypatch.setattr(queue, "translate_with_fallback", original)
    database = data / "presseschau.sqlite3"
    with sqlite3.connect(database) as connection:
        # Ctrl-C gave the article back at once instead of leaving it leased.
        assert connection.execute("SELECT count(*) FROM translations WHERE status = 'in_progress'").fetchone() == (0,)
        # A kill -9 at the same moment would have: simulate its lease, held by a process now gone.
        finished = subprocess.Popen(["true"])
        finished.wait()
        connection.execute(
            "UPDATE translations SET status = 'in_progress', lease_owner = ?, lease_expires_at = '2999-01-01 00:00:00',"
            " attempts = 1 WHERE id = (SELECT min(id) FROM translations WHERE status = 'queued')",
            (f"{HOSTNAME}:{finished.pid}:translate:dead",),
        )

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    samples = len(load_samples())
    assert f"{samples} German articles published" in again.output, again.output
