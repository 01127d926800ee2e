"""Named errors of the ingest stage: every one says which URL (or input) failed and why.

`FetchError` and its subclasses come from the network layer; `FeedError` and `ExtractionError`
from parsing what was fetched; `IngestError` from the service API (bad input, duplicates).
The `reason` attribute is a short, stable phrase suitable for `fetch_error` / `last_error`.

Subject and reason are catalogued `Text`s (see `presseschau.messages`) wherever a person reads
them (source and article validation, URLs, OPML, filters): `german` renders them for the web,
`code` and `params` name them in API answers. A plain-text reason (the network layer's) stays
English there too.
"""

from __future__ import annotations

from collections.abc import Mapping

from presseschau.messages import CataloguedError, Text, json_value, text


class IngestError(CataloguedError):
    """Base of every error this stage raises on purpose."""

    kind = "error"

    def __init__(self, subject: str | Text, reason: str | Text) -> None:
        super().__init__(text("about", subject=subject, reason=reason))
        self.subject = subject.english() if isinstance(subject, Text) else subject
        self.reason = reason.english() if isinstance(reason, Text) else reason
        self.reason_text = reason if isinstance(reason, Text) else None
        self.subject_text = subject

    @property
    def code(self) -> str:
        """The reason's catalogue code (the error's `kind` for an uncatalogued reason)."""
        return self.reason_text.code if self.reason_text is not None else self.kind

    @property
    def params(self) -> Mapping[str, object]:
        reason = self.reason_text.params if self.reason_text is not None else {"reason": self.reason}
        return {"subject": json_value(self.subject_text), **{name: json_value(value) for name, value in reason.items()}}


class FetchError(IngestError):
    """Fetching `url` failed; `reason` explains how."""

    kind = "fetch_failed"

    @property
    def url(self) -> str:
        return self.subject


class InvalidURL(FetchError):
    """Not an absolute http(s) URL with a host."""

    kind = "invalid_url"


class BlockedAddress(FetchError):
    """The host resolves to a private, loopback, link-local or otherwise reserved address."""

    kind = "blocked_address"


class RobotsDisallowed(FetchError):
    """robots.txt of the host forbids fetching the URL (or could not be read, RFC 9309 §2.3.1.4)."""

    kind = "robots_disallowed"


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx/5xx)."""

    kind = "http_status"

    def __init__(
        self, url: str, status_code: int, reason: str | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(url, reason or f"HTTP {status_code}")
        self.status_code = status_code
        # The server's own wish (429/503); the source backoff honours it.
        self.retry_after_s = retry_after_s


class TooManyRedirects(FetchError):
    kind = "too_many_redirects"


class TooLarge(FetchError):
    """The response exceeds `http_max_bytes`; the download was aborted."""

    kind = "too_large"


class Timeout(FetchError):
    kind = "timeout"


class ConnectionFailed(FetchError):
    """DNS failure, refused connection, TLS or protocol error."""

    kind = "connection_failed"


class FeedError(IngestError):
    """A feed or sitemap could not be parsed (malformed XML/JSON, unknown format)."""

    kind = "malformed_feed"


class ExtractionError(IngestError):
    """A page could not be turned into an article."""

    kind = "extraction_failed"


class NoArticleFound(ExtractionError):
    """The page has no article body (an index page, a login wall, an empty page)."""

    kind = "no_article"


class InvalidEncoding(ExtractionError):
    """The bytes cannot be decoded as text in any plausible encoding."""

    kind = "invalid_encoding"


class InvalidInput(IngestError):
    """A command-line or API argument is unusable (missing file, bad option combination)."""

    kind = "invalid_input"
    # The source field (`name`, `language`, …) the refused value was given for, when one was.
    field: str | None = None


class SourceExists(IngestError):
    kind = "source_exists"


class SourceNotFound(IngestError):
    kind = "source_not_found"
