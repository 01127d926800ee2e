""".ci/run: the test suite first, then the container lane; CI fails when either fails, with the
suite's own status when the suite failed, and says which part failed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("suite", "lane", "status", "message"),
    [
        (0, 0, 0, "CI: passed"),
        (5, 0, 5, "FAILED: the test suite (scripts/test.sh) exited with status 5"),
        (0, 3, 1, "FAILED: the container lane (scripts/container-test.sh) exited with status 3"),
        (4, 2, 4, "the container lane (scripts/container-test.sh) failed as well (status 2)"),
    ],
)
def test_ci_run_statuses(tmp_path: Path, suite: int, lane: int, status: int, message: str) -> None:
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "scripts").mkdir()
    order = tmp_path / "order"
    # Stand-ins for the two parts that record that they ran, and in which order.
    for name, code in (("test.sh", suite), ("container-test.sh", lane)):
        (tmp_path / "scripts" / name).write_text(f"echo {name} >> '{order}'\nexit {code}\n")
    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, check=False)
    assert result.returncode == status
    assert message in result.stdout + result.stderr
    assert order.read_text().split() == ["test.sh", "container-test.sh"]


def test_ci_run_calls_the_real_scripts() -> None:
    text = (REPO / ".ci" / "run").read_text()
    assert text.index("bash scripts/test.sh") < text.index("bash scripts/container-test.sh")
    assert (REPO / "scripts" / "container-test.sh").stat().st_mode & 0o111
