"""An HTTP transport that checks addresses at connect time, closing the DNS-rebinding gap.

`urls.check_address_allowed` runs before each request for a clear early error, but the HTTP
client resolves the host again when it connects; a hostile DNS server can answer "public" the
first time and "127.0.0.1" the second. This transport's network backend resolves the host
itself, refuses non-public answers, and connects to the checked address (TLS still verifies
the certificate against the host name, which httpcore passes separately).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from functools import cache
from typing import Any

import httpcore
import httpx

from presseschau.ingest.errors import BlockedAddress, ConnectionFailed
from presseschau.ingest.urls import Resolver, default_resolver, is_public_address


@cache
def shared_ssl_context(trust_env: bool = True) -> ssl.SSLContext:
    """One TLS client context per process (and `trust_env`), shared by every fetcher: building one
    loads certifi's CA bundle, ~20 ms, and a `Fetcher` (one per poll) built two."""
    return httpx.create_ssl_context(trust_env=trust_env)


class GuardedBackend(httpcore.NetworkBackend):
    """A sync network backend that connects only to public addresses."""

    def __init__(self, resolver: Resolver | None = None) -> None:
        self._inner = httpcore.SyncBackend()
        self._resolver = resolver or default_resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise ConnectionFailed(host, f"cannot resolve host {host!r} ({error})") from None
        blocked = [address for address in addresses if not is_public_address(address)]
        if blocked or not addresses:
            raise BlockedAddress(
                host, f"host {host!r} resolved at connect time to non-public address {', '.join(blocked) or '(none)'}"
            )
        last_error: Exception | None = None
        for address in dict.fromkeys(addresses):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """`httpx.HTTPTransport` whose connections go through `GuardedBackend` (no proxy support)."""

    def __init__(self, resolver: Resolver | None = None) -> None:
        super().__init__(verify=shared_ssl_context())
        # The pool httpx built uses the default backend; replace it with one using ours.
        self._pool = httpcore.ConnectionPool(ssl_context=shared_ssl_context(), network_backend=GuardedBackend(resolver))
