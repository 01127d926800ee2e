"""Serving the website with uvicorn: the one set-up behind `presseschau serve`, `run` and `demo`."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from presseschau.app import AppContext
from presseschau.web.app import create_app

# uvicorn's own exit status for a server that did not start (the address in use, say).
STARTUP_FAILURE = 3


def address_problem(host: str, port: int) -> str | None:
    """Why the website could not listen on `host`:`port` (one line naming both and what to do),
    or None when it can: checked before the demo or the service starts, not after "Serving"."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        reason = error.strerror
        return f"cannot serve on {host}:{port}: the address {host!r} is unknown ({reason}); choose another with --host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; choose another with --port {port + 1}"
            if error.errno == errno.EACCES:
                return f"port {port} on {host} needs administrator rights; choose one above 1023 with --port 8000"
            return f"cannot serve on {host}:{port}: {error.strerror}; choose another address with --host or --port"
    return None


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
