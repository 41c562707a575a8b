"""Changes made through the services land in the audit log with who, what, before and after."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from inventory import services
from inventory.audit import Actor, list_audit
from inventory.models import AuditLog, Department, Room


def test_create_update_delete_are_audited(engine: Engine) -> None:
    actor = Actor("user:alice", request_id="req-1")
    with Session(engine) as session:
        dept = services.create(session=session, actor=actor, obj=Department(code="D9", name="市审计局"))
        assert dept.id is not None
        room = services.create(session=session, actor=actor,
                               obj=Room(code="R9", name="审计局机房", department_id=dept.id, racks=4))
        services.update(session=session, actor=actor, obj=room, changes={"racks": 6, "name": "审计局机房"})
        services.update(session=session, actor=actor, obj=room, changes={"racks": 6})  # no change, no row
        services.delete(session=session, actor=actor, obj=room)
        session.commit()
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(AuditLog.id)).all()  # type: ignore[arg-type]
        newest = list_audit(session, entity="room", entity_id="R9")
    assert [(r.entity, r.entity_id, r.action) for r in rows] == [
        ("department", "D9", "create"), ("room", "R9", "create"), ("room", "R9", "update"), ("room", "R9", "delete")]
    assert all(r.actor == "user:alice" and r.request_id == "req-1" for r in rows)
    assert rows[2].before == {"racks": 4} and rows[2].after == {"racks": 6}
    assert rows[3].before is not None and rows[3].before["racks"] == 6 and rows[3].after is None
    assert [r.action for r in newest] == ["delete", "update", "create"]


def test_a_change_and_its_audit_row_roll_back_together(engine: Engine) -> None:
    actor = Actor("user:bob")
    with Session(engine) as session:
        services.create(session=session, actor=actor, obj=Department(code="D8", name="市统计局"))
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(Department)).all() == []
        assert session.exec(select(AuditLog)).all() == []


def test_update_rejects_unknown_fields(engine: Engine) -> None:
    with Session(engine) as session:
        dept = services.create(session=session, actor=Actor("x"), obj=Department(code="D7", name="n"))
        try:
            services.update(session=session, actor=Actor("x"), obj=dept, changes={"colour": "red"})
        except ValueError as exc:
            assert "colour" in str(exc)
        else:
            raise AssertionError("unknown field accepted")
