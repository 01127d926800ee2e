from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.editorial.users import (
    MAX_FAILED_LOGINS,
    LoginThrottled,
    UserError,
    add_user,
    authenticate,
)
from presseschau.store.models import User, utcnow


def test_passwords_are_hashed_and_verified(context: AppContext) -> None:
    with context.database.session() as session:
        user = add_user(session, "anna", "correct horse battery", role="admin")
        assert user.password_hash.startswith("$argon2")
        assert "correct horse" not in user.password_hash
    with context.database.session() as session:
        assert authenticate(session, "anna", "wrong password!!") is None
        authenticated = authenticate(session, "anna", "correct horse battery")
        assert authenticated is not None and authenticated.is_admin
        assert authenticate(session, "nobody", "correct horse battery") is None


def test_bad_users_are_refused(context: AppContext) -> None:
    with context.database.session() as session:
        with pytest.raises(UserError, match="too short"):
            add_user(session, "bert", "short")
        with pytest.raises(UserError, match="unknown role"):
            add_user(session, "bert", "long enough password", role="owner")
        with pytest.raises(UserError, match="invalid user name"):
            add_user(session, "<script>", "long enough password")
        add_user(session, "bert", "long enough password")
        with pytest.raises(UserError, match="exists already"):
            add_user(session, "bert", "long enough password")


def test_repeated_failures_lock_the_account(context: AppContext) -> None:
    with context.database.session() as session:
        add_user(session, "carla", "the right password")
    now = utcnow()
    with context.database.session() as session:
        for _ in range(MAX_FAILED_LOGINS):
            assert authenticate(session, "carla", "a wrong password", now=now) is None
        # Even the right password is refused while locked.
        with pytest.raises(LoginThrottled):
            authenticate(session, "carla", "the right password", now=now)
    with context.database.session() as session:
        later = now + timedelta(minutes=5)
        assert authenticate(session, "carla", "the right password", now=later) is not None
        user = session.query(User).filter_by(name="carla").one()
        assert user.failed_logins == 0 and user.locked_until is None


def test_users_cli(data_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--data", str(data_dir), "users", "add", "dora", "--role", "admin", "--password-stdin"],
        input="a very good password\n",
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["--data", str(data_dir), "users", "list"])
    assert "dora" in listed.output and "admin" in listed.output
    again = runner.invoke(app, ["--data", str(data_dir), "users", "add", "dora", "--password-stdin"], input="x" * 12)
    assert again.exit_code == 2 and "exists already" in again.output
    # The CLI keeps the admin area's rule: the last admin cannot be removed.
    last = runner.invoke(app, ["--data", str(data_dir), "users", "remove", "dora"])
    assert last.exit_code == 2 and "last admin" in last.output
    runner.invoke(
        app, ["--data", str(data_dir), "users", "add", "emil", "--role", "admin", "--password-stdin"], input="y" * 12
    )
    assert runner.invoke(app, ["--data", str(data_dir), "users", "remove", "dora"]).exit_code == 0


def test_the_last_admin_stays(context: AppContext) -> None:
    from presseschau.editorial.users import remove_user, set_disabled

    with context.database.session() as session:
        add_user(session, "anna", "korrekt pferd batterie", role="admin")
        add_user(session, "erik", "korrekt pferd batterie", role="editor")
    with context.database.session() as session:
        with pytest.raises(UserError, match="last admin"):
            remove_user(session, "anna")
        with pytest.raises(UserError, match="last admin"):
            set_disabled(session, "anna", True)
        add_user(session, "olga", "korrekt pferd batterie", role="admin")
        set_disabled(session, "olga", True)
        with pytest.raises(UserError, match="last admin"):  # a disabled admin cannot manage users
            remove_user(session, "anna")
        set_disabled(session, "erik", True)
        assert authenticate(session, "erik", "korrekt pferd batterie") is None
        set_disabled(session, "olga", False)
        remove_user(session, "anna")
