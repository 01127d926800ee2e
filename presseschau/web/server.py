"""Serving the website with uvicorn: the one set-up behind `presseschau serve`, `run` and `demo`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import uvicorn

from presseschau.app import AppContext
from presseschau.web.app import create_app

# uvicorn's own exit status for a server that did not start (the address in use, say).
STARTUP_FAILURE = 3


def serve(
    context: AppContext,
    *,
    workers: int = 1,
    log_level: str = "info",
    on_start: Callable[[uvicorn.Server], None] | None = None,
) -> bool:
    """Serve `context`'s website on the settings' host and port until uvicorn is told to stop.

    Returns False when the server did not start (uvicorn has logged why). `on_start` receives the
    server before it runs, so that a caller with its own signal handling can stop it
    (`server.should_exit = True`). With `workers` > 1 uvicorn supervises that many processes, each
    building its own app from the same data directory: a live app object cannot cross a fork.
    """
    settings = context.settings
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": True,
        "access_log": False,
        "log_level": log_level,
    }
    if workers > 1:
        os.environ["PRESSESCHAU_DATA"] = str(settings.data_dir)
        os.environ["PRESSESCHAU_BASE_URL"] = settings.base_url
        uvicorn.run("presseschau.web.app:app_from_environment", factory=True, workers=workers, **options)
        return True
    server = uvicorn.Server(uvicorn.Config(create_app(context), **options))
    if on_start is not None:
        on_start(server)
    # uvicorn takes over SIGINT/SIGTERM while it runs and shuts down gracefully; afterwards it
    # re-raises the signal to the handler that was installed before (a KeyboardInterrupt by default).
    server.run()
    return bool(server.started)
