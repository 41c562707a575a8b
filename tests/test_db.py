"""Schema management: Alembic migrations equal the models on both databases; SQLite runs in WAL mode
and upgrades itself; a stale PostgreSQL schema is refused with advice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import inventory.models  # noqa: F401
from inventory.db import SchemaOutOfDateError, create_db_engine, current_revision, ensure_schema, head_revision
from inventory.search_index import include_in_comparison
from tests.conftest import run_cli


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False,
                                                         "include_object": include_in_comparison})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_embedded_sqlite_upgrades_itself_and_uses_wal(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_stale_postgresql_schema_is_refused_then_upgraded_by_cli(pg_url: str) -> None:
    admin = create_db_engine(pg_url)
    schema = "shangyun_stale_test"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = pg_url.split("?")[0] + f"?options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    try:
        with pytest.raises(SchemaOutOfDateError, match="shangyun db upgrade"):
            ensure_schema(engine)
        result = run_cli("db", "upgrade", db_url=url)
        assert result.returncode == 0, result.stderr
        assert head_revision() in result.stdout
        ensure_schema(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def test_the_alembic_command_line_sees_the_models(tmp_path: Path) -> None:
    """The root alembic.ini works as the README says: upgrade, then autogenerate a revision; on an
    up-to-date database the revision is empty (``alembic check`` agrees), and after a model change it
    is not."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    alembic = [str(Path(sys.executable).parent / "alembic"), "-c", str(root / "alembic.ini")]
    env = os.environ | {"SHANGYUN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*alembic, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, check=False)

    assert run("upgrade", "head").returncode == 0
    checked = run("check")
    assert checked.returncode == 0 and "No new upgrade operations detected" in checked.stdout + checked.stderr
    engine = create_db_engine(env["SHANGYUN_DATABASE_URL"])
    with engine.begin() as conn:  # the database drifts from the models: a column the models lack
        conn.exec_driver_sql("ALTER TABLE department ADD COLUMN drifted INTEGER")
    engine.dispose()
    drifted = run("check")
    assert drifted.returncode != 0 and "drifted" in drifted.stdout + drifted.stderr


def test_upgrading_fills_plan_items_zone_and_destination_from_their_plans(planned: str) -> None:
    """Migration 0018 adds the columns and fills them for plans made before it, from each plan's own
    document (FORMATS.md §4): downgraded and upgraded again, every item holds its document's values."""
    from alembic import command
    from sqlmodel import Session, col, select

    from inventory.db import alembic_config, upgrade
    from inventory.models import BusinessSystem, Plan, PlanItem

    engine = create_db_engine(planned)
    with Session(engine) as session:
        document = session.exec(select(Plan.document)).one()
    items = [i for w in document["waves"] for i in w["items"]] + document["not_migrated"]
    expected = {i["system"]: (i.get("zone"), (i.get("destination") or {}).get("platform")) for i in items}
    assert any(d for _, d in expected.values()) and any(z for z, _ in expected.values())
    command.downgrade(alembic_config(engine), "0017")
    upgrade(engine)
    with Session(engine) as session:
        stored = {code: (zone, destination) for code, zone, destination in session.execute(
            select(BusinessSystem.code, PlanItem.zone, PlanItem.destination)
            .join(PlanItem, col(PlanItem.system_id) == BusinessSystem.id))}
    engine.dispose()
    assert stored == expected
