"""CLI: ``shangyun user`` — people who use the API and dashboard, their roles and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from inventory.errors import InvalidInputError

user_app = typer.Typer(help="Users and API tokens (用户).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)


@user_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="admin | operator | finance | department | viewer")],
    department: Annotated[str | None, typer.Option(help="department code (department users only)")] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Add a user; the password is asked for (or read from stdin) and stored as an Argon2 hash."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.users import add_user

    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else typer.prompt("password", hide_input=True, confirmation_prompt=True))
    with session_scope() as session:
        add_user(session, username, password, role, department, Actor.cli(), name)
    console.print(f"user {username} ({role}{' of ' + department if department else ''}) added", markup=False)


@user_app.command("token")
def token_command(
    username: Annotated[str, typer.Argument(help="the user the token acts for")],
    name: Annotated[str, typer.Option(help="what the token is for, e.g. grafana")] = "api",
    days: Annotated[float, typer.Option(min=0.001, max=3650, help="expires after this many days")] = 90.0,
) -> None:
    """Issue an API token (90 days unless --days says otherwise); printed once, only its keyed hash is kept."""
    import datetime as dt

    from inventory.db import session_scope
    from inventory.users import issue_token

    with session_scope() as session:
        token = issue_token(session, _user(session, username), name, dt.timedelta(days=days))
    sys.stdout.write(token + "\n")


def _user(session: Any, username: str) -> Any:
    from inventory.users import find_user

    user = find_user(session, username)
    if user is None:
        raise InvalidInputError(f"no user {username!r}", field="username")
    return user


def _set_active(username: str, active: bool) -> None:
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.users import set_active

    with session_scope() as session:
        set_active(session, _user(session, username), active, Actor.cli())
    console.print(f"user {username} {'enabled' if active else 'disabled'}", markup=False)


@user_app.command("disable")
def disable_command(username: Annotated[str, typer.Argument(help="the user to disable")]) -> None:
    """Disable a user: logins fail and every token stops working (within 30 s on running servers)."""
    _set_active(username, False)


@user_app.command("enable")
def enable_command(username: Annotated[str, typer.Argument(help="the user to enable")]) -> None:
    """Enable a disabled user again."""
    _set_active(username, True)


@user_app.command("tokens")
def tokens_command(username: Annotated[str, typer.Argument(help="whose tokens")]) -> None:
    """A user's tokens: id, name, created and expiry (never the tokens themselves)."""
    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import ApiToken

    table = Table(title=f"tokens of {username}")
    for column in ("id", "name", "created", "expires"):
        table.add_column(column)
    with session_scope() as session:
        user = _user(session, username)
        for t in session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id))):
            table.add_row(str(t.id), t.name, f"{t.created_at:%Y-%m-%d %H:%M}",
                          f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never")
    console.print(table)


@user_app.command("revoke")
def revoke_command(
    username: Annotated[str, typer.Argument(help="whose token")],
    token_id: Annotated[int | None, typer.Argument(help="the token's id (`shangyun user tokens`); all if left out")]
    = None,
) -> None:
    """Revoke one of a user's tokens, or all of them (within 30 s on running servers)."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.users import revoke_tokens

    with session_scope() as session:
        count = revoke_tokens(session, _user(session, username), Actor.cli(), token_id=token_id)
    if token_id is not None and not count:
        raise InvalidInputError(f"{username} has no token #{token_id}", field="token_id")
    console.print(f"{count} token(s) of {username} revoked", markup=False)


@user_app.command("passwd")
def passwd_command(
    username: Annotated[str, typer.Argument(help="whose password")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Set a user's password (the policy applies); their login sessions end."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.users import set_password

    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else typer.prompt("new password", hide_input=True, confirmation_prompt=True))
    with session_scope() as session:
        set_password(session, _user(session, username), password, Actor.cli())
    console.print(f"password of {username} changed", markup=False)


@user_app.command("list")
def list_command() -> None:
    """Users with their roles and departments."""
    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import Department, User

    table = Table(title="users 用户")
    for column in ("username", "role", "department", "active"):
        table.add_column(column)
    with session_scope() as session:
        codes = {d.id: d.code for d in session.exec(select(Department))}
        for u in session.exec(select(User).order_by(col(User.username))):
            table.add_row(u.username, u.role, codes.get(u.department_id, "") if u.department_id else "",
                          "yes" if u.active else "no")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
