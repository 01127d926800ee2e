"""The editorial area: `users add|list|remove|passwd`, API `tokens add|list|revoke`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, cells, exit_on, stdout, when
from presseschau.cli.root import app
from presseschau.editorial.tokens import SCOPES, TokenError, create_token, list_tokens, revoke_token
from presseschau.editorial.users import ROLES, UserError, add_user, remove_user, set_password
from presseschau.store.models import User

users_app = typer.Typer(help="Editorial users (log in at /admin/).", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "editor",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user; asks for the password (at least 10 characters)."""
    context: AppContext = ctx.obj
    password = _read_password(password_stdin)
    with exit_on(UserError, code=REFUSED), context.database.session() as session:
        add_user(session, name, password, role)
    typer.echo(f"User {name} ({role}) created.")


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a new password (also lifts a login lockout)."""
    context: AppContext = ctx.obj
    with exit_on(UserError, code=REFUSED), context.database.session() as session:
        set_password(session, name, _read_password(password_stdin))
    typer.echo(f"Password of {name} changed.")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users with role, state (active, locked until …, disabled), last login."""
    context: AppContext = ctx.obj
    table = Table("name", "role", "state", "last login", "failed logins")
    now = datetime.now(UTC)
    with context.database.session() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            table.add_row(
                *cells(user.name, user.role, _state(user, now), when(user.last_login_at), str(user.failed_logins))
            )
    stdout().print(table)


def _state(user: User, now: datetime) -> str:
    """Whether the user can sign in now: an admin must see a locked or disabled account."""
    if user.disabled:
        return "disabled"
    locked = user.locked_until
    if locked is not None and (locked if locked.tzinfo else locked.replace(tzinfo=UTC)) > now:
        return f"locked until {when(locked)}"
    return "active"


@users_app.command("remove")
def users_remove(ctx: typer.Context, name: str) -> None:
    """Delete a user."""
    context: AppContext = ctx.obj
    with exit_on(UserError, code=REFUSED), context.database.session() as session:
        remove_user(session, name)
    typer.echo(f"User {name} removed.")


# tokens ------------------------------------------------------------------------------------------


tokens_app = typer.Typer(help="API tokens for /api/v1/ (hashed at rest, shown once).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("add")
def tokens_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. the client's name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)} (admin may change sources).")] = "editor",
    scope: Annotated[str, typer.Option(help=f"One of: {', '.join(SCOPES)} (read tokens only read).")] = "read",
) -> None:
    """Create a token and print it once: store it now, it cannot be shown again."""
    context: AppContext = ctx.obj
    with exit_on(TokenError, code=REFUSED), context.database.session() as session:
        row, token = create_token(session, name, role, scope, created_by="cli")
    typer.echo(f"Token {row.name} ({row.role}, {row.scope}) created. It is shown only this once:")
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context) -> None:
    """Every token: name, role, scope, start of the token, last use, revoked or not."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        rows = list_tokens(session)
    if not rows:
        typer.echo("No API tokens; create one with `presseschau tokens add NAME`.")
        return
    table = Table("id", "name", "role", "scope", "token", "created", "last used", "state")
    for row in rows:
        table.add_row(
            *cells(
                str(row.id),
                row.name,
                row.role,
                row.scope,
                row.prefix + "…",
                when(row.created_at),
                when(row.last_used_at),
                f"revoked {when(row.revoked_at)}" if row.revoked_at else "active",
            )
        )
    stdout().print(table)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Token name or id.")]) -> None:
    """Revoke a token: every request with it is refused from now on."""
    context: AppContext = ctx.obj
    with exit_on(TokenError, code=REFUSED), context.database.session() as session:
        row = revoke_token(session, name)
        shown = row.name
    typer.echo(f"Token {shown} revoked.")
