"""Free-text search and counting for the API's lists: a count past its limit stops and says it is a
lower bound; on PostgreSQL the trigram indexes exist and the planner uses them for a ``q`` search."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.http.routers.common import AnySelect, ListQuery, count, filtered
from inventory.models import Department, Room, Server
from inventory.search_index import TRIGRAM_INDEXES, ensure_trigram_indexes
from tests.conftest import _empty_pg


def _servers(engine: Engine, n: int) -> None:
    with Session(engine) as session:
        department = Department(code="D1", name="测试局")
        session.add(department)
        session.flush()
        room = Room(code="R1", name="一号机房", department_id=department.id or 0)
        session.add(room)
        session.flush()
        oses = ["CentOS 7.9", "Windows Server 2012", "Kylin V10"]
        session.execute(sa.insert(Server), [
            {"hostname": f"host-{i:05d}", "room_id": room.id, "cpu_cores": 8, "memory_gb": 16, "os": oses[i % 3],
             "status": "active"} for i in range(n)])
        session.commit()


def _search(text: str) -> AnySelect:
    params = ListQuery(50, 0, None, None, text)
    return filtered(select(Server), Server, params, Server.hostname, (Server.hostname, Server.os))


def test_counting_stops_past_its_limit_and_says_so(engine: Engine) -> None:
    _servers(engine, 30)
    with Session(engine) as session:
        assert count(session, _search("centos")) == (10, True)  # case does not matter
        assert count(session, _search("centos"), limit=10) == (10, True)
        assert count(session, _search("centos"), limit=9) == (9, False)
        assert count(session, _search("host-0001"), limit=5) == (5, False)
        assert count(session, _search("host-00012"), limit=5) == (1, True)
        assert count(session, _search("no such thing"), limit=5) == (0, True)


@pytest.mark.postgres
def test_postgresql_searches_through_trigram_indexes(pg_url: str) -> None:
    from inventory.db import create_db_engine

    engine = create_db_engine(pg_url)
    _empty_pg(engine)
    try:
        with engine.connect() as conn:
            present = set(conn.execute(sa.text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")).scalars())
        assert set(TRIGRAM_INDEXES) <= present
        _servers(engine, 2000)
        with engine.begin() as conn:
            assert ensure_trigram_indexes(conn)  # idempotent: a second run changes nothing
            conn.execute(sa.text("ANALYZE server"))
            # A test-sized table is cheaper to read whole, so the planner is told not to; what this shows
            # is that the indexes serve the API's own predicate (operator class, operator, column).
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            query = _search("host-0042").compile(dialect=engine.dialect)
            plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {query}", query.params).scalars())
        assert "ix_server_hostname_trgm" in plan and "ix_server_os_trgm" in plan, plan
        with Session(engine) as session:
            assert count(session, _search("HOST-0042"), limit=1000) == (10, True)
    finally:
        engine.dispose()
