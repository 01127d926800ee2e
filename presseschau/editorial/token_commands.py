"""CLI commands for API tokens: `tokens add|list|revoke` (see `presseschau.editorial.tokens`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from presseschau.app import AppContext
from presseschau.editorial.tokens import SCOPES, TokenError, create_token, list_tokens, revoke_token
from presseschau.editorial.users import ROLES

tokens_app = typer.Typer(help="API tokens for /api/v1/ (hashed at rest, shown once).", no_args_is_help=True)


def _fail(error: TokenError) -> typer.Exit:
    typer.echo(f"Error: {error}", err=True)
    return typer.Exit(2)


@tokens_app.command("add")
def tokens_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. the client's name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)} (admin may change sources).")] = "editor",
    scope: Annotated[str, typer.Option(help=f"One of: {', '.join(SCOPES)} (read tokens only read).")] = "read",
) -> None:
    """Create a token and print it once: store it now, it cannot be shown again."""
    context: AppContext = ctx.obj
    try:
        with context.database.session() as session:
            row, token = create_token(session, name, role, scope, created_by="cli")
    except TokenError as error:
        raise _fail(error) from None
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
            str(row.id),
            escape(row.name),
            row.role,
            row.scope,
            row.prefix + "…",
            row.created_at.strftime("%Y-%m-%d %H:%M"),
            row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "–",
            f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active",
        )
    Console(highlight=False, width=max(Console().width, 140)).print(table)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Token name or id.")]) -> None:
    """Revoke a token: every request with it is refused from now on."""
    context: AppContext = ctx.obj
    try:
        with context.database.session() as session:
            row = revoke_token(session, name)
            shown = row.name
    except TokenError as error:
        raise _fail(error) from None
    typer.echo(f"Token {shown} revoked.")
