"""CLI: ``shangyun db`` — the database schema."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console(emoji=False)


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
