"""robots.txt, fetched once per host and run, interpreted by `urllib.robotparser`.

Status handling follows RFC 9309: 4xx means "no rules" (allow all); 5xx or a network failure
means "unreachable" (disallow all for now -- the next run asks again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

from presseschau.ingest.urls import host_key

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class RobotsAnswer:
    status: int | None  # None: the request itself failed
    body: str = ""
    error: str | None = None


class RobotsCache:
    """Per-host robots rules; `load(robots_url)` is the fetch callback (no robots check itself)."""

    def __init__(self, user_agent: str, load: Callable[[str], RobotsAnswer]) -> None:
        self.user_agent = user_agent
        self._load = load
        self._rules: dict[str, tuple[RobotFileParser, str | None]] = {}

    def verdict(self, url: str) -> str | None:
        """None when `url` may be fetched, else the reason it may not."""
        host = host_key(url)
        if host not in self._rules:
            self._rules[host] = self._fetch_rules(host)
        parser, unreachable = self._rules[host]
        if unreachable:
            return unreachable
        if parser.can_fetch(self.user_agent, url):
            return None
        return f"disallowed by {host}/robots.txt for user agent {self._product_token()!r}"

    def crawl_delay(self, url: str) -> float | None:
        entry = self._rules.get(host_key(url))
        if entry is None:
            return None
        delay = entry[0].crawl_delay(self.user_agent)
        return float(delay) if delay is not None else None

    def _product_token(self) -> str:
        return self.user_agent.split("/", 1)[0].strip()

    def _fetch_rules(self, host: str) -> tuple[RobotFileParser, str | None]:
        parser = RobotFileParser(f"{host}/robots.txt")
        answer = self._load(f"{host}/robots.txt")
        if answer.status is None or answer.status >= 500:
            why = answer.error or f"HTTP {answer.status}"
            log.info("robots.txt of %s unreachable (%s): not fetching from it this run", host, why)
            return parser, f"{host}/robots.txt unreachable ({why}); RFC 9309 says to assume full disallow"
        # A 4xx means "no robots.txt": parsing no lines yields a parser that allows everything.
        parser.parse([] if answer.status >= 400 else answer.body.splitlines())
        return parser, None
