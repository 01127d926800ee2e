"""Admin-area security: signed session tokens, CSRF tokens and a per-address login throttle.

Sessions are stateless signed cookies (HMAC-SHA256 over a small JSON payload) so that any number
of web processes can check them with nothing but the secret key file in the data directory. The
payload names the user id, expiry, a random session nonce and a fingerprint of the password hash:
changing a password (`presseschau users passwd`) therefore ends every session of that user, and
deleting a user ends them too because each request loads the user again. Signing out records
the session's nonce in the database (`RevokedSession`) until the session would have expired, so a
copied cookie dies with the sign-out on every process.

CSRF tokens are derived from the session nonce (HMAC with a separate purpose label), so they are
bound to one session and need no storage. Before login there is no session: the login form is
bound to a random pre-session cookie instead (against login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from presseschau.config import Settings

SECRET_BYTES = 32


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_key_file(settings: Settings) -> Path:
    path = settings.secret_key_path
    return path if path.is_absolute() else settings.data_dir / path


def load_secret_key(settings: Settings) -> bytes:
    """The signing key, created on first use with mode 0600 (readable by the service user only)."""
    path = secret_key_file(settings)
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(SECRET_BYTES).encode("ascii")
        try:
            # O_EXCL: when two processes start together, exactly one writes the key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_secret_key(settings)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key
    if len(key) < SECRET_BYTES:
        raise ValueError(f"secret key file {path} is too short (at least {SECRET_BYTES} bytes)")
    return key


def password_fingerprint(password_hash: str, session_generation: int = 0) -> str:
    """A short digest of the stored hash and the user's session generation: sessions carry it, so a
    password change, and disabling the account, revokes them (generation 0: sessions signed before
    generations existed stay valid)."""
    bound = password_hash if not session_generation else f"{password_hash}|{session_generation}"
    return hashlib.sha256(bound.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SessionData:
    user_id: int
    nonce: str
    expires: int
    fingerprint: str


class Signer:
    """Signs and checks session tokens and CSRF tokens with one secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, payload: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode("ascii") + b"\x00" + payload, hashlib.sha256).digest()

    def new_session(self, user_id: int, fingerprint: str, lifetime_s: int, now: float | None = None) -> str:
        data = {
            "u": user_id,
            "n": secrets.token_urlsafe(16),
            "e": int((now if now is not None else time.time()) + lifetime_s),
            "f": fingerprint,
        }
        payload = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return _b64encode(payload) + "." + _b64encode(self._mac("session", payload))

    def read_session(self, token: str | None, now: float | None = None) -> SessionData | None:
        """The session in `token` when its signature is right and it has not expired; else None."""
        if not token or token.count(".") != 1 or len(token) > 1000:
            return None
        body, signature = token.split(".")
        try:
            payload, mac = _b64decode(body), _b64decode(signature)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            data = json.loads(payload)
            session = SessionData(int(data["u"]), str(data["n"]), int(data["e"]), str(data["f"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (now if now is not None else time.time()):
            return None
        return session

    def csrf_token(self, binding: str) -> str:
        """The CSRF token for a session nonce (or a pre-session cookie value)."""
        return _b64encode(self._mac("csrf", binding.encode("utf-8")))

    def check_csrf(self, binding: str | None, token: str | None) -> bool:
        if not binding or not token:
            return False
        return hmac.compare_digest(self.csrf_token(binding).encode("ascii"), token.encode("utf-8", "replace"))


class AddressThrottle:
    """At most `limit` failed logins per client address within `window_s` (in-process, sliding).

    This complements the per-account lockout in `users.authenticate`: it stops one address from
    guessing across many account names, which a per-account counter cannot see.
    """

    def __init__(self, limit: int = 10, window_s: float = 600.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, address: str, now: float | None = None) -> float:
        """Seconds until `address` may try again; 0 when it may now."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            failures = self._recent(address, moment)
            if len(failures) < self.limit:
                if not failures:
                    self._failures.pop(address, None)  # keep the table small
                return 0.0
            return max(0.0, failures[0] + self.window_s - moment)

    def record_failure(self, address: str, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        with self._lock:
            self._recent(address, moment).append(moment)

    def reset(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
