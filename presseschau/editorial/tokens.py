"""API tokens for /api/v1/: created by an admin, shown once, stored only as a SHA-256, revocable.

A token has a role like a user (`editor`: articles; `admin`: also sources) and a scope: `read`
tokens may only read, `write` tokens may also change what their role allows. Tokens are 256
random bits, so a plain SHA-256 is enough to keep them safe at rest (no password stretching is
needed) and lets a request find its token by hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from presseschau.editorial.users import ROLES
from presseschau.store.models import ApiToken, utcnow
from presseschau.text import ascii_digits

TOKEN_PREFIX = "psk_"
SCOPES = ("read", "write")
SHOWN_PREFIX_LENGTH = 12
# `last_used_at` is written at most this often per token (not on every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class TokenIdentity:
    """Who a request's token speaks for."""

    id: int
    name: str
    role: str
    scope: str

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, name: str, role: str = "editor", scope: str = "read", created_by: str | None = None
) -> tuple[ApiToken, str]:
    """A new token row and the token itself (returned this once; only its hash is stored)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError("a token needs a name of 1 to 100 characters")
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if scope not in SCOPES:
        raise TokenError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        role=role,
        scope=scope,
        token_hash=hash_token(token),
        prefix=token[:SHOWN_PREFIX_LENGTH],
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, name_or_id: str) -> ApiToken:
    """Revoke a token by name (or id); its requests are refused from now on."""
    condition = ApiToken.name == name_or_id
    if ascii_digits(name_or_id):
        condition = or_(condition, ApiToken.id == int(name_or_id))
    row = session.scalars(select(ApiToken).where(condition)).first()
    if row is None:
        raise TokenError(f"no token {name_or_id!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def authenticate_token(session: Session, presented: str, now: datetime | None = None) -> TokenIdentity | None:
    """The identity of a presented token; None when it is unknown or revoked."""
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(presented))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return TokenIdentity(row.id, row.name, row.role, row.scope)
