"""The web layer stays in small modules: none over 300 lines (issue 24: `app.py` and `api.py` had
grown into grab-bags of cache, middleware, routes, SQL and factory)."""

from __future__ import annotations

from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "presseschau" / "web"
MAX_LINES = 300


def test_no_web_module_over_300_lines() -> None:
    sizes = {path.relative_to(WEB).as_posix(): len(path.read_text().splitlines()) for path in WEB.rglob("*.py")}
    assert len(sizes) > 10  # the folder was found
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
