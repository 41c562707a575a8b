"""The inventory as Ansible dynamic inventory JSON (the ``--list`` shape with ``_meta.hostvars``).

Groups: ``dept_<code>``, ``room_<code>``, ``system_<code>`` and, for a plan, ``wave_<n>``. Retired
servers are left out. ``ansible_host`` is the server's first IP; ``shangyun_*`` variables carry the
room, department and systems so playbooks can use them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from inventory.models import (
    BusinessSystem,
    Department,
    PlanItem,
    PlanWave,
    Room,
    Server,
    ServerStatus,
    SystemServer,
)


def group_name(prefix: str, code: str) -> str:
    """A valid Ansible group name: letters, digits and underscores."""
    return f"{prefix}_{re.sub(r'[^0-9A-Za-z_]', '_', code)}"


def ansible_inventory(session: Session, plan_id: int | None = None) -> dict[str, Any]:
    """Every active server with its groups and variables; with ``plan_id``, ``wave_<n>`` groups too."""
    rooms = {r.id: r for r in session.exec(select(Room))}
    departments = {d.id: d.code for d in session.exec(select(Department))}
    systems_of: dict[int, list[str]] = defaultdict(list)
    for server_id, code in session.exec(select(SystemServer.server_id, BusinessSystem.code)
                                        .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id)):
        systems_of[server_id].append(code)
    waves_of: dict[str, int] = {}
    if plan_id is not None:
        for code, index in session.exec(
                select(BusinessSystem.code, PlanWave.index).join(PlanItem, col(PlanItem.system_id) == BusinessSystem.id)
                .join(PlanWave, col(PlanWave.id) == PlanItem.wave_id).where(PlanItem.plan_id == plan_id)):
            waves_of[code] = index
    groups: dict[str, set[str]] = defaultdict(set)
    hostvars: dict[str, dict[str, Any]] = {}
    query = select(Server).where(Server.status != ServerStatus.RETIRED).order_by(col(Server.hostname))
    for server in session.exec(query):
        assert server.id is not None
        room = rooms[server.room_id]
        department = departments.get(server.department_id or room.department_id, "")
        codes = sorted(systems_of.get(server.id, []))
        variables: dict[str, Any] = {"shangyun_room": room.code, "shangyun_department": department,
                                     "shangyun_systems": codes}
        if server.ip:
            variables["ansible_host"] = server.ip.split(",")[0].strip()
        hostvars[server.hostname] = variables
        groups[group_name("room", room.code)].add(server.hostname)
        if department:
            groups[group_name("dept", department)].add(server.hostname)
        for code in codes:
            groups[group_name("system", code)].add(server.hostname)
            if code in waves_of:
                groups[f"wave_{waves_of[code]}"].add(server.hostname)
    inventory: dict[str, Any] = {"_meta": {"hostvars": hostvars},
                                 "all": {"children": ["ungrouped", *sorted(groups)]}, "ungrouped": {"hosts": []}}
    for name, hosts in sorted(groups.items()):
        inventory[name] = {"hosts": sorted(hosts)}
    return inventory
