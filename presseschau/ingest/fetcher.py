"""HTTP fetching with the manners and limits a polite, safe news crawler needs.

One `Fetcher` per run: it keeps the per-host politeness clock and the robots.txt cache. Each
request: URL validated (http/https only), host address checked (see `urls`), robots.txt
consulted, politeness delay waited, conditional headers sent, redirects followed by hand so every
target passes the same checks, the body streamed and aborted beyond `http_max_bytes`.
The transport is injectable (`httpx.MockTransport` in tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self
from urllib.parse import urljoin

import httpx

from presseschau.config import Settings
from presseschau.ingest.encoding import Decoded, decode_bytes
from presseschau.ingest.errors import (
    BlockedAddress,
    ConnectionFailed,
    ExtractionError,
    FetchError,
    HTTPStatusError,
    RobotsDisallowed,
    Timeout,
    TooLarge,
    TooManyRedirects,
)
from presseschau.ingest.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache
from presseschau.ingest.transport import GuardedTransport, shared_ssl_context
from presseschau.ingest.urls import Resolver, check_address_allowed, host_key, validate_url
from presseschau.text import ascii_digits

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A robots.txt Crawl-delay above this is treated as this: some sites ask for minutes.
MAX_CRAWL_DELAY_S = 30.0
ACCEPT_ANY = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_FEED = (
    "application/rss+xml,application/atom+xml,application/feed+json,application/json;q=0.9,"
    "application/xml;q=0.9,text/xml;q=0.9,text/html;q=0.5,*/*;q=0.1"
)


@dataclass(frozen=True)
class FetchResponse:
    url: str
    final_url: str
    status_code: int
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(repr=False)

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def etag(self) -> str | None:
        return _header(self.headers, "etag")

    @property
    def last_modified(self) -> str | None:
        return _header(self.headers, "last-modified")

    @property
    def content_type(self) -> str:
        return _header(self.headers, "content-type") or ""

    def decoded(self) -> Decoded:
        return decode_bytes(self.content, self.content_type, subject=self.final_url)


class Fetcher:
    """The one way ingest talks HTTP. Use as a context manager (closes the client)."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._resolver = resolver
        self._last_request: dict[str, float] = {}
        self._via_proxy = bool(settings.http_proxy)
        if transport is None and settings.http_proxy:
            # Connections go to the configured proxy; targets are checked before each request.
            transport = httpx.HTTPTransport(proxy=settings.http_proxy, verify=shared_ssl_context())
        elif transport is None and not settings.allow_private_addresses:
            transport = GuardedTransport(resolver)
        elif transport is None:
            # What httpx.Client builds itself (trust_env=False below), on the process's TLS context.
            transport = httpx.HTTPTransport(verify=shared_ssl_context(trust_env=False))
        self.client = httpx.Client(
            transport=transport,
            trust_env=False,  # no proxy from the environment around the checks above
            timeout=httpx.Timeout(settings.http_timeout_s),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self.robots = RobotsCache(settings.user_agent, self._load_robots)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    # Public API ----------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = ACCEPT_ANY,
        max_bytes: int | None = None,
    ) -> FetchResponse:
        """GET `url` with every check; a 304 is returned (`not_modified`), other errors raise."""
        requested = validate_url(url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = requested
        for _hop in range(self.settings.http_max_redirects + 1):
            self._check(current)
            status, response_headers, body = self._request(current, headers, max_bytes or self.settings.http_max_bytes)
            if status in REDIRECT_STATUSES and "location" in response_headers:
                current = validate_url(urljoin(current, response_headers["location"]))
                continue
            if status >= 400:
                raise HTTPStatusError(
                    current,
                    status,
                    _status_reason(status, response_headers, current != requested, requested),
                    retry_after_s=retry_after_seconds(response_headers),
                )
            return FetchResponse(requested, current, status, response_headers, body)
        raise TooManyRedirects(requested, f"more than {self.settings.http_max_redirects} redirects (last: {current})")

    # Internals -----------------------------------------------------------------------------------

    def _check(self, url: str) -> None:
        check_address_allowed(url, self.settings.allow_private_addresses, self._resolver, self._via_proxy)
        if self.settings.respect_robots_txt:
            reason = self.robots.verdict(url)
            if reason is not None:
                raise RobotsDisallowed(url, reason)

    def _wait_politely(self, url: str) -> None:
        host = host_key(url)
        delay = self.settings.politeness_delay_s
        crawl_delay = self.robots.crawl_delay(url) if self.settings.respect_robots_txt else None
        if crawl_delay is not None:
            delay = max(delay, min(crawl_delay, MAX_CRAWL_DELAY_S))
        last = self._last_request.get(host)
        if last is not None and delay > 0:
            remaining = last + delay - self._clock()
            if remaining > 0:
                self._sleep(remaining)

    def _request(self, url: str, headers: dict[str, str], max_bytes: int) -> tuple[int, httpx.Headers, bytes]:
        self._wait_politely(url)
        # Per-operation timeouts don't stop a server that drips one byte a second: cap the total.
        deadline = self._clock() + 3 * self.settings.http_timeout_s
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                declared = response.headers.get("content-length")
                if declared and ascii_digits(declared) and int(declared) > max_bytes:
                    raise TooLarge(url, f"Content-Length {int(declared)} bytes exceeds the limit of {max_bytes}")
                chunks: list[bytes] = []
                size = 0
                if response.status_code not in REDIRECT_STATUSES and response.status_code != 304:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise TooLarge(url, f"response exceeds the limit of {max_bytes} bytes; download aborted")
                        if self._clock() > deadline:
                            raise Timeout(url, f"download took longer than {3 * self.settings.http_timeout_s:g} s")
                        chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks)
        except BlockedAddress as error:
            raise BlockedAddress(url, error.reason) from None  # name the URL, not just the host
        except httpx.TimeoutException as error:
            raise Timeout(
                url, f"no answer within {self.settings.http_timeout_s:g} s ({type(error).__name__})"
            ) from None
        except httpx.DecodingError as error:
            raise ConnectionFailed(url, f"invalid content encoding ({error})") from None
        except httpx.HTTPError as error:
            raise ConnectionFailed(url, f"{type(error).__name__}: {error or 'connection failed'}") from None
        finally:
            self._last_request[host_key(url)] = self._clock()

    def _load_robots(self, robots_url: str) -> RobotsAnswer:
        try:
            check_address_allowed(robots_url, self.settings.allow_private_addresses, self._resolver, self._via_proxy)
            status, headers, body = self._request(robots_url, {"Accept": "text/plain,*/*;q=0.5"}, ROBOTS_MAX_BYTES)
            hops = 0
            while status in REDIRECT_STATUSES and "location" in headers and hops < 5:
                hops += 1
                target = validate_url(urljoin(robots_url, headers["location"]))
                check_address_allowed(target, self.settings.allow_private_addresses, self._resolver, self._via_proxy)
                status, headers, body = self._request(target, {"Accept": "text/plain,*/*;q=0.5"}, ROBOTS_MAX_BYTES)
        except TooLarge:
            # RFC 9309 §2.5: parse at least 500 KiB; an oversized file is treated as "no rules".
            return RobotsAnswer(404)
        except FetchError as error:
            return RobotsAnswer(None, error=error.reason)
        text = decode_bytes(body, headers.get("content-type"), robots_url).text if body else ""
        return RobotsAnswer(status, text)


def _header(headers: httpx.Headers, name: str) -> str | None:
    value = headers.get(name)
    return str(value) if value else None


def _status_reason(status: int, headers: httpx.Headers, redirected: bool, requested: str) -> str:
    reason = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip()
    retry_after = retry_after_seconds(headers)
    if retry_after is not None:
        reason += f" (Retry-After {retry_after:g} s)"
    if redirected:
        reason += f" (redirected from {requested})"
    return reason


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    if ascii_digits(value.strip()):
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def page_text(response: FetchResponse) -> str:
    """The decoded HTML of an article page; `ExtractionError` for PDFs, images and the like."""
    media_type = response.content_type.split(";", 1)[0].strip().lower()
    if media_type and not media_type.startswith(_PAGE_TYPES):
        raise ExtractionError(response.final_url, f"not an HTML page (Content-Type {media_type})")
    return response.decoded().text
