"""The API's dependencies: token authentication and roles, rate limits, paging parameters, and the
service functions' errors as HTTP answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, cast

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from presseschau.editorial.tokens import TokenIdentity, authenticate_token
from presseschau.errors import ArticleNotFound
from presseschau.ingest.errors import IngestError, SourceExists, SourceNotFound
from presseschau.ingest.filters import FilterError
from presseschau.messages import CataloguedError, Text, text
from presseschau.web.api.schemas import Problem
from presseschau.web.deps import Db
from presseschau.web.params import MAX_PAGE

MAX_PER_PAGE = 100


class RateLimiter:
    """A token bucket per key: `per_minute` requests, refilled evenly (in-process)."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a request may go ahead (and counts it); else seconds until one may."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, moment)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, moment)
            return 0.0


BEARER = HTTPBearer(auto_error=False, description="An API token from `presseschau tokens add NAME`.")


class ApiLimits:
    """The rate limits of one API app: requests per token, failed authentications per address."""

    def __init__(self, per_minute: int) -> None:
        self.per_token = RateLimiter(per_minute)
        self.per_address = RateLimiter(per_minute)


def api_limits(request: Request) -> ApiLimits:
    return cast(ApiLimits, request.app.state.api_limits)


def _refused(status_code: int, message: Text, headers: dict[str, str] | None = None) -> ServiceError:
    """A refusal of the API's own (token, role, rate): catalogued like the service errors."""
    return ServiceError(status_code, CataloguedError(message), headers=headers)


def _too_many(wait: float) -> ServiceError:
    return _refused(429, text("api_rate_limited"), {"Retry-After": str(int(wait) + 1)})


def identity(
    request: Request,
    database: Db,
    limits: Annotated[ApiLimits, Depends(api_limits)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> TokenIdentity:
    """The token of the request (any role); 401 without a valid one, 429 past the rate limits."""
    address = request.client.host if request.client else "unknown"
    found = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        with database.session() as session:
            found = authenticate_token(session, credentials.credentials)
    if found is None:
        wait = limits.per_address.take(address)
        if wait > 0:
            raise _too_many(wait)
        raise _refused(401, text("api_token_missing"), {"WWW-Authenticate": 'Bearer realm="api"'})
    wait = limits.per_token.take(f"token:{found.id}")
    if wait > 0:
        raise _too_many(wait)
    return found


Reader = Annotated[TokenIdentity, Depends(identity)]


def _writer(who: TokenIdentity, role: str) -> TokenIdentity:
    if not who.can_write:
        raise _refused(403, text("api_token_read_only", name=who.name))
    if role == "admin" and not who.is_admin:
        raise _refused(403, text("api_token_needs_admin", name=who.name, role=who.role))
    return who


def editor_token(who: Reader) -> TokenIdentity:
    """A write token (role editor or admin)."""
    return _writer(who, "editor")


def admin_token(who: Reader) -> TokenIdentity:
    """A write token of role admin."""
    return _writer(who, "admin")


EditorToken = Annotated[TokenIdentity, Depends(editor_token)]
AdminToken = Annotated[TokenIdentity, Depends(admin_token)]


class ServiceError(HTTPException):
    """A catalogued error of a service function as an HTTP answer (`service_error_answer`)."""

    def __init__(self, status_code: int, error: CataloguedError, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code, str(error), headers=headers)
        self.error = error


async def service_error_answer(request: Request, exc: Exception) -> Response:
    """`detail` in English as always (scripts match it), `message` in German for people, and the
    catalogue's `code` and `params` (presseschau.messages) for clients that word it themselves."""
    assert isinstance(exc, ServiceError)
    error = exc.error
    body = {"detail": exc.detail, "message": error.german, "code": error.code, "params": error.params}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


@contextmanager
def service_errors() -> Iterator[None]:
    """The service functions' errors as HTTP answers: 404 unknown, 409 duplicate, 422 invalid."""
    try:
        yield
    except (SourceNotFound, ArticleNotFound) as error:
        raise ServiceError(404, error) from None
    except SourceExists as error:
        raise ServiceError(409, error) from None
    except (IngestError, FilterError) as error:
        raise ServiceError(422, error) from None


PAGE_NUMBER = Query(1, ge=1, le=MAX_PAGE)
PER_PAGE = Query(20, ge=1, le=MAX_PER_PAGE)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}
