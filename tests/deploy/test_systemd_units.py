"""The systemd units in deploy/systemd/: `systemd-analyze verify` finds nothing to say about them,
their sandbox is on, and `systemd-analyze security` rates them OK (exposure at most 4.0 of 10;
its threshold counts in tenths).

Both run against a scratch root (`--root`) that holds the units, systemd's own unit files and the
installed `presseschau` command at the units' path, so nothing on this machine is touched.
scripts/test.sh installs systemd where `systemd-analyze` is missing; the tests do not skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = ("presseschau.service", "presseschau-worker.service", "presseschau-beat.service")
EXECUTABLE = "opt/presseschau/bin/presseschau"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch root with systemd's units, ours, and the `presseschau` command where they expect it."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(Path("/usr/lib/systemd/system"), root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(UNITS_DIR / unit, root / "etc/systemd/system" / unit)
    command = root / EXECUTABLE
    command.parent.mkdir(parents=True)
    shutil.copy(Path(sys.executable).parent / "presseschau", command)
    return root


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: install Debian's systemd (scripts/test.sh does)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, check=False)


def directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (UNITS_DIR / unit).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize("unit", UNITS)
def test_units_verify_without_a_word(root: Path, unit: str) -> None:
    result = analyze("verify", f"--root={root}", unit)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""  # unknown keys are only warned about: none allowed


def test_verify_does_catch_a_misspelt_directive(root: Path) -> None:
    broken = root / "etc/systemd/system/presseschau-broken.service"
    broken.write_text((UNITS_DIR / UNITS[0]).read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    result = analyze("verify", f"--root={root}", broken.name)
    assert "Unknown key 'NoNewPrivilege'" in result.stderr
    broken.unlink()


@pytest.mark.parametrize("unit", UNITS)
def test_units_are_sandboxed(unit: str) -> None:
    found = directives(unit)
    assert found["ProtectSystem"] == ["strict"]
    assert found["ReadWritePaths"] == ["/var/lib/presseschau"]
    assert found["NoNewPrivileges"] == ["yes"]
    assert found["User"] == ["presseschau"]
    assert found["Environment"] == ["PRESSESCHAU_DATA=/var/lib/presseschau"]
    assert all(command.startswith(f"/{EXECUTABLE} ") for command in found["ExecStart"] + found["ExecStartPre"])


@pytest.mark.parametrize("unit", UNITS)
def test_units_exposure_is_rated_ok(root: Path, unit: str) -> None:
    result = analyze("security", "--offline=yes", f"--root={root}", "--threshold=40", "--no-pager", unit)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_the_units_commands_exist() -> None:
    """Every subcommand the units start is a command of this version."""
    from typer.core import TyperGroup
    from typer.main import get_command

    from presseschau.cli import app

    cli = get_command(app)
    assert isinstance(cli, TyperGroup)  # an app of several commands
    names = set(cli.commands)
    for unit in UNITS:
        for command in directives(unit)["ExecStart"] + directives(unit)["ExecStartPre"]:
            assert command.split()[1] in names, command
