"""CLI: ``shangyun user`` — people who use the API and dashboard, their roles and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from inventory.errors import InvalidInputError

user_app = typer.Typer(help="Users and API tokens (用户).", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)


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
    days: Annotated[float | None, typer.Option(min=0.001, help="expires after this many days (default: never)")]
    = None,
) -> None:
    """Issue an API token; it is printed once and only its keyed hash is kept."""
    import datetime as dt

    from sqlmodel import select

    from inventory.db import session_scope
    from inventory.models import User
    from inventory.users import issue_token

    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise InvalidInputError(f"no user {username!r}")
        token = issue_token(session, user, name, dt.timedelta(days=days) if days else None)
    sys.stdout.write(token + "\n")


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
