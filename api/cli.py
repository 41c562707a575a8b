"""The ``shangyun`` command line (typer + rich)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from api.cli_capacity import register as register_capacity
from api.cli_collect import register as register_collect
from api.cli_demo import demo_command
from api.cli_deps import register as register_deps
from api.cli_inventory import register as register_inventory
from api.cli_migrate import register as register_migrate
from api.cli_plan import register as register_plan
from api.cli_report import register as register_report
from api.cli_schedule import register as register_schedule
from api.cli_scheduler import register as register_scheduler
from api.cli_users import register as register_users

app = typer.Typer(
    help="Shangyun (上云): survey machine rooms, plan the move to the government cloud, keep it balanced.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()
err_console = Console(stderr=True)


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


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[str | None, typer.Option(help="database URL (default: SHANGYUN_DATABASE_URL)")] = None,
) -> None:
    """Bring the database schema to the newest revision (Alembic); on PostgreSQL also add the search
    indexes if pg_trgm has become available since."""
    from inventory.db import create_db_engine, current_revision, head_revision, upgrade
    from inventory.search_index import ensure_trigram_indexes
    from inventory.settings import get_settings

    engine = create_db_engine(url or get_settings().database_url)
    before = current_revision(engine)
    upgrade(engine)
    console.print(f"schema {before or 'empty'} → {head_revision()} ({engine.url.render_as_string(hide_password=True)})")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            indexed = ensure_trigram_indexes(conn)
        console.print("free-text search: " + ("indexed (pg_trgm)" if indexed else "[yellow]not indexed[/]: pg_trgm "
                                              "is not available (a database owner can CREATE EXTENSION pg_trgm)"))


register_inventory(app)
register_plan(app)
register_collect(app)
register_deps(app)
register_migrate(app)
register_schedule(app)
register_scheduler(app)
register_report(app)
register_users(app)
register_capacity(app)
app.command("demo")(demo_command)


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())


if __name__ == "__main__":
    main()
