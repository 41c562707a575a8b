"""The ``shangyun`` command line (typer + rich)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from api.cli import (
    capacity,
    collect,
    db,
    demo,
    deps,
    inventory,
    migrate,
    mlps,
    plan,
    platform,
    report,
    schedule,
    scheduler,
    serve,
    survey,
    users,
)
from inventory.errors import ShangyunError

app = typer.Typer(
    help="Shangyun (上云): survey machine rooms, plan the move to the government cloud, keep it balanced.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
err_console = Console(emoji=False, stderr=True)


@app.callback()
def check_settings() -> None:
    """Refuse to start on invalid settings (e.g. the development secret in production), naming the setting."""
    from pydantic import ValidationError

    from inventory.settings import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            err_console.print("[red]error:[/] " + escape(error["msg"].removeprefix("Value error, ")))
        raise typer.Exit(2) from None


for group in (survey, inventory, plan, collect, deps, migrate, schedule, scheduler, report, users, capacity, db, serve,
              mlps, platform):
    group.register(app)
app.command("demo")(demo.demo_command)


def main() -> None:
    """Console-script entry point. Every ``ShangyunError`` a command raises is shown as ``error: …`` on
    stderr with exit status 2 (the same errors the API maps to HTTP answers)."""
    import sqlalchemy as sa

    from inventory.db import database_busy

    try:
        sys.exit(app())
    except ShangyunError as exc:
        where = f"{exc.field}: " if exc.field and not exc.message.startswith(exc.field) else ""
        err_console.print(f"[red]error:[/] {escape(where + exc.message)}")
        sys.exit(2)
    except sa.exc.OperationalError as exc:
        if not database_busy(exc):
            raise
        err_console.print("[red]error:[/] the database is busy with another change (SHANGYUN_SQLITE_BUSY_TIMEOUT_S "
                          "passed); nothing was changed, try again")
        sys.exit(2)


if __name__ == "__main__":
    main()
