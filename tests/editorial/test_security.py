"""Signed sessions, CSRF tokens, the secret key file and the per-address login throttle."""

from __future__ import annotations

import pytest

from presseschau.app import AppContext
from presseschau.editorial.security import (
    AddressThrottle,
    Signer,
    load_secret_key,
    password_fingerprint,
    secret_key_file,
)

KEY = b"k" * 64


def test_session_round_trip_expiry_and_tampering() -> None:
    signer = Signer(KEY)
    token = signer.new_session(7, "abc", lifetime_s=60, now=1000.0)
    session = signer.read_session(token, now=1059.0)
    assert session is not None and (session.user_id, session.fingerprint, session.expires) == (7, "abc", 1060)
    assert signer.read_session(token, now=1060.0) is None  # expired
    body, mac = token.split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for bad in (None, "", "x", f"{forged_body}.{mac}", f"{body}.{mac[:-1]}", token + ".x", "a" * 2000):
        assert signer.read_session(bad, now=1000.0) is None, bad
    # Another key signs differently.
    assert Signer(b"o" * 64).read_session(token, now=1000.0) is None
    # Each session gets its own nonce, so its own CSRF token.
    other = signer.read_session(signer.new_session(7, "abc", 60, now=1000.0), now=1000.0)
    assert other is not None and other.nonce != session.nonce


def test_csrf_tokens_are_bound_and_purpose_separated() -> None:
    signer = Signer(KEY)
    token = signer.csrf_token("nonce-1")
    assert signer.check_csrf("nonce-1", token)
    assert not signer.check_csrf("nonce-2", token)
    assert not signer.check_csrf(None, token) and not signer.check_csrf("nonce-1", None)
    assert not signer.check_csrf("nonce-1", token + "x") and not signer.check_csrf("nonce-1", "ä")
    # A session token's signature is no CSRF token for anything (different purpose label).
    assert signer.csrf_token("nonce-1") != signer.new_session(1, "f", 60).split(".")[1]


def test_secret_key_is_created_once_with_private_mode(context: AppContext) -> None:
    path = secret_key_file(context.settings)
    assert not path.exists()
    key = load_secret_key(context.settings)
    assert path.stat().st_mode & 0o777 == 0o600 and len(key) >= 32
    assert load_secret_key(context.settings) == key
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="too short"):
        load_secret_key(context.settings)


def test_password_fingerprint_changes_with_the_hash() -> None:
    assert password_fingerprint("$argon2id$a") != password_fingerprint("$argon2id$b")
    assert len(password_fingerprint("x")) == 16


def test_address_throttle_slides() -> None:
    throttle = AddressThrottle(limit=3, window_s=100.0)
    for moment in (0.0, 10.0, 20.0):
        assert throttle.retry_after("1.2.3.4", now=moment) == 0.0
        throttle.record_failure("1.2.3.4", now=moment)
    assert throttle.retry_after("1.2.3.4", now=30.0) == pytest.approx(70.0)
    assert throttle.retry_after("5.6.7.8", now=30.0) == 0.0  # other addresses are not affected
    assert throttle.retry_after("1.2.3.4", now=100.5) == 0.0  # the oldest failure left the window
    throttle.record_failure("1.2.3.4", now=101.0)
    assert throttle.retry_after("1.2.3.4", now=101.0) == pytest.approx(9.0)
    throttle.reset("1.2.3.4")
    assert throttle.retry_after("1.2.3.4", now=101.0) == 0.0
