"""`presseschau serve`: the website as its own process."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, fail
from presseschau.cli.params import port_option
from presseschau.cli.root import app
from presseschau.config import settings_for_server
from presseschau.web.server import STARTUP_FAILURE, address_problem, serve


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: settings.host).")] = None,
    port: Annotated[int | None, port_option("Port (default: settings.port).", "--port")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Server processes (behind a reverse proxy; default 1).")
    ] = 1,
) -> None:
    """Run the website (uvicorn)."""
    context: AppContext = ctx.obj
    context = context.with_settings(settings_for_server(context.settings, host, port))
    problem = address_problem(context.settings.host, context.settings.port)
    if problem:
        raise fail(problem, REFUSED)
    context.database.ensure_current()
    started = True
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the server has shut down gracefully
        started = serve(context, workers=workers)
    if not started:
        raise typer.Exit(STARTUP_FAILURE)
