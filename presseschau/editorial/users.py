"""Editorial users: argon2 password hashes, roles, and lockout after repeated failed logins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.backoff import Backoff
from presseschau.messages import CataloguedError
from presseschau.messages import text as message
from presseschau.store.models import User, utcnow

ROLES = ("editor", "admin")
MIN_PASSWORD_LENGTH = 10
# After this many consecutive failures an account is locked for LOCKOUT (doubling each time, ten
# times at most).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=1)
LOCKOUT_BACKOFF = Backoff(LOCKOUT.total_seconds(), LOCKOUT.total_seconds() * 2**10)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")

_hasher = PasswordHasher()


class UserError(CataloguedError, ValueError):
    """A user could not be created or changed; the catalogued message says why."""


class LoginThrottled(RuntimeError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many failed logins; try again after {until:%H:%M:%S} UTC")
        self.until = until


@dataclass(frozen=True)
class AuthenticatedUser:
    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(message("password_too_short", minimum=MIN_PASSWORD_LENGTH), field="password")
    return _hasher.hash(password)


def add_user(session: Session, name: str, password: str, role: str = "editor") -> User:
    if not _NAME_RE.match(name):
        raise UserError(message("user_name_invalid", name=name), field="name")
    if role not in ROLES:
        raise UserError(message("role_unknown", role=role, roles=ROLES), field="role")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise UserError(message("user_exists", name=name), field="name")
    user = User(name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def _user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(message("user_not_found", name=name))
    return user


def _keep_an_admin(session: Session, user: User, action: str) -> None:
    """Refuse to remove or disable the last admin who can still sign in: nobody could manage users."""
    if user.role != "admin" or user.disabled:
        return
    others = session.scalars(
        select(User.id).where(User.role == "admin", User.disabled.is_(False), User.id != user.id)
    ).first()
    if others is None:
        raise UserError(message("last_admin", name=user.name, action=message(f"user_{action}")))


def set_password(session: Session, name: str, password: str) -> None:
    """A new password (ends the user's sessions, lifts a login lockout)."""
    user = _user(session, name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


def set_disabled(session: Session, name: str, disabled: bool) -> None:
    """Disable an account (no sign-in, open sessions end) or enable it again."""
    user = _user(session, name)
    if disabled:
        _keep_an_admin(session, user, "disable")
        # Sessions carry the generation: they stay ended when the account is enabled again.
        user.session_generation = (user.session_generation or 0) + 1
    user.disabled = disabled


def remove_user(session: Session, name: str) -> None:
    user = _user(session, name)
    _keep_an_admin(session, user, "remove")
    session.delete(user)


def authenticate(session: Session, name: str, password: str, now: datetime | None = None) -> AuthenticatedUser | None:
    """The user if the password is right; None otherwise. Raises LoginThrottled while locked.

    Every path (unknown, disabled, locked, wrong, right) costs exactly one hash verification, so
    timing does not reveal which names exist: a locked account answered in 3 ms, an unknown one in 200.
    """
    now = now or utcnow()
    user = session.scalars(select(User).where(User.name == name)).first()
    usable = user is not None and not user.disabled
    verified = _verify(user.password_hash if user is not None and usable else _DUMMY_HASH, password)
    if user is None or not usable:
        return None
    if user.locked_until is not None and user.locked_until > now:
        raise LoginThrottled(user.locked_until)
    if not verified:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            lockouts = user.failed_logins - MAX_FAILED_LOGINS + 1
            user.locked_until = now + timedelta(seconds=LOCKOUT_BACKOFF.seconds(lockouts))
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return AuthenticatedUser(id=user.id, name=user.name, role=user.role)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("presseschau-dummy-password")
