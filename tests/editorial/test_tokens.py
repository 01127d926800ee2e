"""API tokens from the CLI: shown once, hashed at rest, listed without the secret, revocable."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.editorial.tokens import authenticate_token, hash_token
from presseschau.store.models import ApiToken


def test_tokens_add_list_revoke(data_dir: Path) -> None:
    cli = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = cli.invoke(app, ["--data", str(data_dir), "tokens", *args])
        return result.exit_code, result.output

    code, out = run("add", "newsroom bot", "--role", "editor", "--scope", "write")
    assert code == 0 and "Token newsroom bot (editor, write) created" in out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("psk_") and len(secret) > 40

    context = AppContext.for_data_dir(data_dir)
    try:
        with context.database.session() as session:
            row = session.scalars(select(ApiToken)).one()
            assert row.token_hash == hash_token(secret) and secret not in (row.prefix, row.token_hash)
            identity = authenticate_token(session, secret)
            assert identity is not None and (identity.role, identity.can_write, identity.is_admin) == (
                "editor",
                True,
                False,
            )
        code, out = run("list")
        assert code == 0 and row.prefix in out and secret not in out and "active" in out
        assert run("add", "newsroom bot")[0] == 2
        code, out = run("add", "x", "--role", "owner")
        assert code == 2 and "unknown role 'owner'" in out
        code, out = run("add", "x", "--scope", "everything")
        assert code == 2 and "unknown scope 'everything'" in out
        code, out = run("revoke", "newsroom bot")
        assert code == 0 and "revoked" in out
        with context.database.session() as session:
            assert authenticate_token(session, secret) is None
        code, out = run("revoke", "nobody")
        assert code == 2 and "no token 'nobody'" in out
    finally:
        context.close()
