"""CLI: ``shangyun db`` — the database: schema upgrades, verified copies, backups and restores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

console = Console(emoji=False)


if TYPE_CHECKING:
    from inventory.dbcopy.backup import Manifest
    from inventory.dbcopy.copy import CopyReport
    from inventory.dbcopy.copy import Progress as ProgressCallback

db_app = typer.Typer(help="The database: schema, copies, backups.", no_args_is_help=True)
T = TypeVar("T")
FROM_HELP = "database URL to read (default: SHANGYUN_DATABASE_URL)"


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


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A progress bar per table, and one plain line as each table is done (readable in a log)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def step(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total or 1)
            bar.update(tasks[table], completed=done if total else 1)
            if done >= total:
                bar.console.print(f"copied {table}: {done} row(s)", highlight=False)

        yield step


def _verification(report: CopyReport) -> None:
    from rich.table import Table

    table = Table(title=f"verification: {report.source} → {report.target}", title_justify="left")
    table.add_column("table", no_wrap=True)
    for name in ("rows source", "rows target"):
        table.add_column(name, justify="right")
    for name in ("digest source", "digest target", "ok"):
        table.add_column(name, no_wrap=True)
    for check in report.checks:
        table.add_row(check.table, str(check.source_rows), str(check.target_rows), check.source_digest[:12],
                      check.target_digest[:12], "[green]ok[/]" if check.ok else "[red]DIFFERS[/]")
    console.print(table)
    verdict = "[green]verified[/]" if report.ok else "[red]NOT verified, rolled back[/]"
    console.print(f"{len(report.checks)} tables, {report.rows} rows, {report.seconds:.1f} s: {verdict}")


def _copy_or_show(action: Callable[[], T]) -> T:
    """Run a copy; on a verification failure print its table, then let the error end the command."""
    from inventory.dbcopy.copy import CopyVerificationError

    try:
        return action()
    except CopyVerificationError as exc:
        _verification(exc.report)
        raise


@db_app.command("copy")
def db_copy(
    to: Annotated[str, typer.Option("--to", help="database URL to write (SQLite or PostgreSQL)")],
    source: Annotated[str | None, typer.Option("--from", help=FROM_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help="replace a target that already holds rows")] = False,
    batch_rows: Annotated[int, typer.Option(min=1, max=100_000, help="rows read and written at a time")] = 5000,
) -> None:
    """Copy every table, every row, to another database, then verify each table (rows and a content
    digest computed the same way on both sides). The target is written in one transaction: on any
    difference or interruption it is left as it was. Exits non-zero when verification fails."""
    from inventory.dbcopy.copy import copy_database
    from inventory.settings import get_settings

    with _progress() as step:
        report = _copy_or_show(lambda: copy_database(source or get_settings().database_url, to, force=force,
                                                     batch_rows=batch_rows, progress=step))
    _verification(report)


def _manifest_line(path: Path, manifest: Manifest) -> str:
    return (f"{path}: revision {manifest.revision}, taken {manifest.taken_at} from {manifest.source}, "
            f"{len(manifest.tables)} tables, {manifest.rows} rows")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="backup file to write (a portable SQLite file)")],
    source: Annotated[str | None, typer.Option("--from", help=FROM_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing file")] = False,
) -> None:
    """Take a consistent backup while Shangyun runs: SQLite's online backup, or from PostgreSQL a
    verified copy into a SQLite file. The file records its schema revision and every table's row count
    and digest; it appears only once complete."""
    from inventory.dbcopy.backup import backup
    from inventory.settings import get_settings

    with _progress() as step:
        manifest = backup(source or get_settings().database_url, file, force=force, progress=step)
    console.print("backed up " + _manifest_line(file, manifest), highlight=False)


@db_app.command("verify")
def db_verify(file: Annotated[Path, typer.Argument(help="backup file")]) -> None:
    """Check a backup file is whole and restorable by this Shangyun, without restoring it."""
    from inventory.dbcopy.backup import verify_backup

    console.print("verified " + _manifest_line(file, verify_backup(file)), highlight=False)


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="backup file written by `shangyun db backup`")],
    to: Annotated[str | None, typer.Option("--to", help="database URL to restore into (default: "
                                                         "SHANGYUN_DATABASE_URL)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace a target that already holds rows")] = False,
    batch_rows: Annotated[int, typer.Option(min=1, max=100_000, help="rows read and written at a time")] = 5000,
) -> None:
    """Restore a backup into a database, verified table by table. An older backup is upgraded to this
    Shangyun's schema on the way; a newer one is refused."""
    from inventory.dbcopy.backup import restore
    from inventory.settings import get_settings

    with _progress() as step:
        manifest, report = _copy_or_show(lambda: restore(file, to or get_settings().database_url, force=force,
                                                         batch_rows=batch_rows, progress=step))
    console.print("restored " + _manifest_line(file, manifest), highlight=False)
    _verification(report)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
