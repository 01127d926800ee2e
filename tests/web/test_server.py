"""`presseschau serve` (cli/web.py over the one uvicorn set-up in web/server.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from presseschau.app import AppContext
from tests.publish.factories import make_article


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_answer(url: str, process: subprocess.Popen[bytes], log_path: Path) -> httpx.Response:
    """The first answer of the server `process` at `url`, waiting up to a minute while it starts."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"no answer from {url}:\n{log_path.read_text()}")


def test_serve_says_why_and_refuses_when_the_address_is_taken(data_dir: Path) -> None:
    # Checked before anything starts (issue 23 item 13): one line naming the port and another to
    # pick, the refusal status 2 (a start that still fails later, a race, keeps its status 3).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        command = [sys.executable, "-m", "presseschau", "--data", str(data_dir), "serve", "--port", str(port)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use; choose another with --port {port + 1}" in result.stderr


@pytest.mark.slow
def test_serve_with_several_worker_processes(data_dir: Path, tmp_path: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        made = make_article(session, context.settings, title_de="Ein Artikel für mehrere Prozesse")
    context.close()
    port = _free_port()
    command = [sys.executable, "-m", "presseschau", "--data", str(data_dir), "serve", "--port", str(port),
               "--workers", "2"]  # fmt: skip
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    try:
        page = _first_answer(f"http://127.0.0.1:{port}/{made.slug}/", process, log_path)
        assert page.status_code == 200 and "Ein Artikel für mehrere Prozesse" in page.text
        # The supervisor keeps two server processes, each with its own app from the same data directory.
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True)
        assert len(children.stdout.split()) >= 2, log_path.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.slow  # seconds of real work: the full suite runs it, --fast leaves it out
def test_run_serves_the_site_and_stops_on_sigterm(data_dir: Path, tmp_path: Path) -> None:
    # `run` hands the server to its own signal handler (web/server.py `on_start`): SIGTERM stops
    # the server and the stage workers, and the process ends normally.
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        made = make_article(session, context.settings, title_de="Ein Artikel für den Dienst")
    context.close()
    port = _free_port()
    command = [sys.executable, "-m", "presseschau", "--data", str(data_dir), "run", "--port", str(port)]
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    try:
        page = _first_answer(f"http://127.0.0.1:{port}/{made.slug}/", process, log_path)
        assert page.status_code == 200 and "Ein Artikel für den Dienst" in page.text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
