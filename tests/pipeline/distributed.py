"""Helpers to run the Celery pipeline as real worker processes against PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis

# One Redis database per pytest-xdist worker (gw0 → 15, gw1 → 14, …; 15 without xdist), emptied by
# each test that uses it: two workers' Redis tests never see each other's queues.
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
REDIS_TEST_URL = os.environ.get("PRESSESCHAU_TEST_REDIS", f"redis://127.0.0.1:6379/{15 - _XDIST_WORKER}")
TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"


def fresh_broker() -> str:
    """This worker's test Redis database, emptied (databases 15 downwards are reserved for presseschau's tests)."""
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    return REDIS_TEST_URL


def pipeline_env(database_url: str, broker_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PRESSESCHAU_DATABASE_URL": database_url,
        "PRESSESCHAU_BROKER_URL": broker_url,
        "PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES": "true",
        "PRESSESCHAU_POLITENESS_DELAY_S": "0",
        "PRESSESCHAU_ENGINE": "ct2",
        "PRESSESCHAU_MODEL": str(TINY_MODEL),
        # Short leases: a killed worker's article is taken over quickly.
        "PRESSESCHAU_LEASE_SECONDS": "30",
    }


def start_worker(
    data: Path, env: dict[str, str], queues: str, log: Path, beat: bool = False
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "presseschau", "--data", str(data), "worker", "--queues", queues,
               "--loglevel", "WARNING"] + (["--beat"] if beat else [])  # fmt: skip
    with log.open("ab") as out:
        # Own session: SIGKILL goes to the worker and its pool child alike, as when a machine dies.
        return subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_hard(process)
