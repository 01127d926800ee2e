"""The root of the `presseschau` command: global options, storage faults as one line, `init`.

Every other command is a module-level function in this package's stage modules, registered on
`app` (or on a group of it) where it is defined."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from presseschau import __version__
from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, exit_on, fail, use_timezone
from presseschau.config import CONFIG_FILE_NAME, SettingsError
from presseschau.logging_setup import configure_logging
from presseschau.store.faults import describe_fault


class _StorageFaultsAsOneLine(TyperGroup):
    """Every command: a full disk, a read-only data directory or a lock held too long ends it with
    one line naming the file and the cause and exit status 3, never a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except Exception as error:
            context = ctx.obj if isinstance(ctx.obj, AppContext) else None
            line = describe_fault(error, context.settings if context is not None else None)
            if line is None:
                raise
            logging.getLogger("presseschau").debug("storage fault", exc_info=True)
            raise fail(line, STORAGE_FAULT_EXIT) from None


STORAGE_FAULT_EXIT = 3


def _flags_without_type(display_type_rich: Callable[[TyperOption, Any], str | None]) -> Any:
    """Typer's help names a flag's type `<bool>` (`--failed <bool>`), as if it took a value: a
    flag shows none, like click's plain help."""

    def display(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else display_type_rich(self, ctx)

    return display


TyperOption.display_type_rich = _flags_without_type(TyperOption.display_type_rich)  # type: ignore[method-assign]

# Options of the main command that may also follow the command (`presseschau demo --data DIR`).
GLOBAL_VALUE_OPTIONS = ("--data",)
GLOBAL_FLAGS = ("--verbose", "-v", "--json-logs")


def hoist_global_options(args: list[str]) -> list[str]:
    """`args` with every global option moved before the command, so that it may be given anywhere:
    click only reads a group's options before its subcommand. Arguments after `--` stay put."""
    leading: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_FLAGS:
            leading.append(arg)
        elif name in GLOBAL_VALUE_OPTIONS:
            if "=" in arg:
                leading.append(arg)
            else:
                leading.extend(args[index : index + 2])
                index += 1
        else:
            rest.append(arg)
        index += 1
    return leading + rest


class _MainGroup(_StorageFaultsAsOneLine):
    """Storage faults as one line (see the base class), and global options anywhere on the line."""

    # Any: typer ships its own copy of click, whose Context type is not public.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))


app = typer.Typer(
    name="presseschau",
    cls=_MainGroup,
    help="Turn English news and commentary into a German publication: ingest, translate, publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_CONFIG_TEXT = """\
# presseschau configuration. Every key can also be set as PRESSESCHAU_<KEY> in the environment.
# target_language = "de"
# timezone = "Europe/Berlin"
# database_url = "postgresql+psycopg://user@127.0.0.1/presseschau"
# engine = "firefox"        # firefox | ct2 | deepl | libretranslate | llm | memory
# model = "opus-mt-en-de"
# glossary_path = "glossary.tsv"
# site_title = "Presseschau"
# base_url = "http://127.0.0.1:8000"
# static_output_dir = "site"
# default_reuse = "full"            # full | excerpt | quote | headline; per source: sources set --reuse
# reuse_if_no_derivatives = "quote" # the cap for articles whose licence forbids adaptations (CC ND)
# bilingual_reading = true          # the English original per paragraph, where the mode is full
"""


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"presseschau {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", envvar="PRESSESCHAU_DATA", help="Data directory (default ./presseschau-data)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Write logs as JSON lines.")] = False,
    version: Annotated[
        bool | None, typer.Option("--version", callback=version_callback, is_eager=True, help="Show version.")
    ] = None,
) -> None:
    configure_logging(verbose=verbose, json_lines=json_logs)
    with exit_on(SettingsError, code=REFUSED):
        context = AppContext.for_data_dir(data)
    ctx.obj = context
    use_timezone(context.settings.timezone)
    ctx.call_on_close(context.close)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory, a commented presseschau.toml and the database schema."""
    context: AppContext = ctx.obj
    settings = context.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config_path = settings.data_dir / CONFIG_FILE_NAME
    if not config_path.exists():
        config_path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    context.database  # noqa: B018 -- creating it runs the migrations
    typer.echo(f"Data directory: {settings.data_dir}")
    typer.echo(f"Configuration:  {config_path}")
    typer.echo(f"Database:       {context.database.engine.url.render_as_string(hide_password=True)} (schema current)")
