"""How every command speaks: one error-exit helper, plain-text tables, dates, the progress bar.

Names, titles, URLs and reasons come from outside and may look like Rich console markup
("[/i]", "[red]"): they are always printed as text, never interpreted. They may also hold control
characters (an ESC sequence retitles or clears the terminal) and bidi overrides: `echo`, `cells`,
`fail` and the progress notes print them through `terminal_safe` (escaped, bidi balanced).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from presseschau.text import terminal_safe

# Exit statuses: 1 the work failed, 2 the command line or its input was refused (click's own
# usage errors use 2 as well), 3 storage faults (see `root.py`).
FAILED = 1
REFUSED = 2


def fail(message: str, code: int = FAILED) -> typer.Exit:
    """Print `Error: message` as one line on stderr and return the exit to raise:
    `raise fail("source 3: no such source") from None`."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        Text("Error: ", style="red") + Text(terminal_safe(message))
    )
    return typer.Exit(code)


@contextmanager
def exit_on(*errors: type[Exception], code: int = FAILED, suffix: str = "") -> Iterator[None]:
    """Turn the named errors of a stage into `fail(...)`: one line, no traceback."""
    try:
        yield
    except errors as error:
        raise fail(f"{error}{suffix}", code) from None


def stdout() -> Console:
    """A console for tables on stdout, wide enough that URLs are not cut."""
    return Console(highlight=False, soft_wrap=False, width=max(Console().width, 140))


def echo(message: object = "", err: bool = False) -> None:
    """`typer.echo` for text that may hold outside values: printed terminal-safe (see above)."""
    typer.echo(terminal_safe(str(message)), err=err)


def cells(*values: str) -> tuple[Text, ...]:
    """Table cells as plain text (see the module's docstring)."""
    return tuple(Text(terminal_safe(value)) for value in values)


# The configured time zone (settings.timezone), set once per command by the root callback: every
# time the CLI prints is local, with its offset ("2026-12-06 06:29 +01:00"), never bare UTC.
_timezone: ZoneInfo | None = None


def use_timezone(name: str) -> None:
    global _timezone
    try:
        _timezone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        _timezone = None


def when(value: datetime | None) -> str:
    """`2026-12-06 06:29 +01:00` in the configured time zone (stored times are UTC)."""
    if value is None:
        return "–"
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if _timezone is not None:
        moment = moment.astimezone(_timezone)
    return moment.strftime("%Y-%m-%d %H:%M %z")[:-2] + ":" + moment.strftime("%z")[-2:]


@contextmanager
def quiet_logger(name: str, unless: bool) -> Iterator[None]:
    """`name`'s warnings held back for the length of the block (the command prints the outcome
    itself, once); left as they are when `unless` (--verbose)."""
    logger = logging.getLogger(name)
    previous = logger.level
    if not unless:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def verbose() -> bool:
    """Whether --verbose was given (the root logger then logs debug details)."""
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


def counts_text(by_status: dict[str, int] | None) -> str:
    """`done 9, failed 1`, not a Python dict."""
    return ", ".join(f"{status} {count}" for status, count in sorted((by_status or {}).items())) or "none"


@contextmanager
def progress_bar(console: Console, description: str, total: int | None, transient: bool = False) -> Iterator[Any]:
    """A rich progress bar on stderr; yields a callable `advance(n=1, note=None)`. `transient`:
    the bar disappears when done (the caller prints the outcome)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),  # notes name sources, titles, URLs: text
        console=console,
        transient=transient,
        # Not on a terminal: a bar that disappears anyway would leave only an empty line.
        disable=not console.is_terminal and (transient or (total is not None and total <= 1)),
    )
    with progress:
        task = progress.add_task(description, total=total, note="")

        def advance(n: int = 1, note: str | None = None) -> None:
            progress.update(task, advance=n, note=terminal_safe((note or "")[:60]))

        yield advance
