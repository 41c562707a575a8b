"""What a finished item changes in the inventory, all through the audited services.

- the system becomes ``migrated`` (rehost, replatform, relocate) or ``retired`` (retire);
- a rehosted system points at its cloud instance (created in the inventory's cloud side if the
  OpenStack collector has not seen it yet);
- its source servers that host no other still-running system become ``retired`` (not for
  relocate: the hardware itself moved);
- a room none of whose systems still run in it becomes ``decommissioning``: finance stops paying it
  from the next year, and ``shangyun plan savings`` shows the closure as done.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from inventory import services
from inventory.audit import Actor
from inventory.models import (
    BusinessSystem,
    CloudInstance,
    CloudPlatform,
    PlanItem,
    Room,
    RoomStatus,
    Server,
    ServerStatus,
    SystemServer,
    SystemStatus,
)
from inventory.models.enums import Strategy
from inventory.models.plans import ItemStatus

if TYPE_CHECKING:
    from migration_plans.execution.actions import PlannedInstance, StepContext

GONE = {SystemStatus.MIGRATED, SystemStatus.RETIRED}


def complete_item(session: Session, ctx: StepContext, outcome: str, now: dt.datetime) -> dict[str, Any]:
    """Apply ``outcome`` (migrated | retired | relocated) of ``ctx``'s item; returns what changed."""
    actor = Actor(f"executor:run-{ctx.run_id}")
    system = session.exec(select(BusinessSystem).where(BusinessSystem.code == ctx.system_code)).one()
    assert system.id is not None
    status = SystemStatus.RETIRED if outcome == "retired" else SystemStatus.MIGRATED
    services.update(session=session, actor=actor, obj=system, changes={"status": status.value})
    changed: dict[str, Any] = {"system_status": status.value}
    made = [(p, ctx.made(p.name)) for p in ctx.instances if ctx.strategy == Strategy.REHOST]
    real = [(p, m) for p, m in made if m.get("server_id") and not str(m["server_id"]).startswith("dry-run")]
    if real:
        changed["instances"] = [_point_at_instance(session, ctx, system.id, planned, m["server_id"], actor)
                                for planned, m in real]
    server_ids = list(session.exec(select(SystemServer.server_id).where(SystemServer.system_id == system.id)))
    retired: list[str] = []
    if outcome != "relocated":
        for server in session.exec(select(Server).where(col(Server.id).in_(server_ids))):
            others = session.exec(
                select(BusinessSystem.status).join(SystemServer, col(SystemServer.system_id) == BusinessSystem.id)
                .where(SystemServer.server_id == server.id, BusinessSystem.id != system.id)).all()
            if all(s in GONE for s in others) and server.status != ServerStatus.RETIRED:
                services.update(session=session, actor=actor, obj=server,
                                changes={"status": ServerStatus.RETIRED.value})
                retired.append(server.hostname)
    changed["servers_retired"] = retired
    changed["rooms_decommissioning"] = _close_empty_rooms(session, server_ids, actor)
    plan_item = session.get(PlanItem, _plan_item_id(session, ctx))
    if plan_item is not None:
        services.update(session=session, actor=actor, obj=plan_item, changes={"status": ItemStatus.DONE.value})
    session.flush()
    return {"completed": changed}


def _plan_item_id(session: Session, ctx: StepContext) -> int | None:
    from inventory.models import RunItem

    item = session.get(RunItem, ctx.item_id)
    return item.plan_item_id if item else None


def _point_at_instance(session: Session, ctx: StepContext, system_id: int, planned: PlannedInstance,
                       external_id: str, actor: Actor) -> str:
    platform_name = str(ctx.target.get("platform_name", ""))
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform_name)).first()
    instance = session.exec(select(CloudInstance).where(CloudInstance.external_id == external_id)).first()
    if instance is None and platform is not None and platform.id is not None:
        instance = services.create(session=session, actor=actor, obj=CloudInstance(
            platform_id=platform.id, external_id=external_id, name=planned.name, vcpus=math.ceil(planned.vcpus),
            memory_gb=planned.memory_gb, disk_gb=float(planned.volume_gb), project=ctx.project_name,
            system_id=system_id))
    elif instance is not None:
        services.update(session=session, actor=actor, obj=instance, changes={"system_id": system_id})
    return external_id


def _close_empty_rooms(session: Session, server_ids: list[int], actor: Actor) -> list[str]:
    """Rooms of ``server_ids`` in which no system still runs become ``decommissioning``."""
    room_ids = set(session.exec(select(Server.room_id).where(col(Server.id).in_(server_ids))))
    closed: list[str] = []
    for room in session.exec(select(Room).where(col(Room.id).in_(room_ids))):
        if room.status != RoomStatus.ACTIVE:
            continue
        statuses = session.exec(
            select(BusinessSystem.status).join(SystemServer, col(SystemServer.system_id) == BusinessSystem.id)
            .join(Server, col(Server.id) == SystemServer.server_id).where(Server.room_id == room.id)).all()
        if all(s in GONE for s in statuses):
            services.update(session=session, actor=actor, obj=room,
                            changes={"status": RoomStatus.DECOMMISSIONING.value})
            closed.append(room.code)
    return closed
