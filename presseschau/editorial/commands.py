"""CLI commands of the editorial area: `users add|list|remove|passwd`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import ROLES, UserError, add_user, remove_user, set_password
from presseschau.store.models import User

users_app = typer.Typer(help="Editorial users (log in at /admin/).", no_args_is_help=True)


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
    try:
        with context.database.session() as session:
            add_user(session, name, password, role)
    except UserError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"User {name} ({role}) created.")


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a new password (also lifts a login lockout)."""
    context: AppContext = ctx.obj
    try:
        with context.database.session() as session:
            set_password(session, name, _read_password(password_stdin))
    except UserError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Password of {name} changed.")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users with role and last login."""
    context: AppContext = ctx.obj
    table = Table("name", "role", "last login", "failed logins")
    with context.database.session() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "–"
            table.add_row(*(Text(cell) for cell in (user.name, user.role, last, str(user.failed_logins))))
    Console().print(table)


@users_app.command("remove")
def users_remove(ctx: typer.Context, name: str) -> None:
    """Delete a user."""
    context: AppContext = ctx.obj
    try:
        with context.database.session() as session:
            remove_user(session, name)
    except UserError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"User {name} removed.")


def register(app: typer.Typer) -> None:
    from presseschau.editorial.token_commands import tokens_app

    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
