"""The REST API over real HTTP (``shangyun serve`` on loopback, SQLite and PostgreSQL): every route
against every role — allowed roles get an answer, the others 403, no token or an unknown or expired
token 401; department users see and change only their own department; bad requests are 4xx naming the
field and change nothing; the OpenAPI document lists every route."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from api.http.auth import (
    ALL,
    AUDIT_READ,
    CLOUD_READ,
    CLOUD_WRITE,
    COSTS_READ,
    DASHBOARD,
    ESTATE_READ,
    ESTATE_WRITE,
    PLANS_READ,
    PLANS_WRITE,
    REQUESTS_DECIDE,
    REQUESTS_READ,
    REQUESTS_WRITE,
    ROLE_PERMISSIONS,
    USERS_ADMIN,
)
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import (
    ApiToken,
    AuditLog,
    BusinessSystem,
    CapacityRequest,
    CloudPlatform,
    Department,
    MigrationRun,
    Plan,
    PlanItem,
    Role,
    Room,
    RunEvent,
    RunItem,
    Server,
)
from inventory.models.enums import EventPhase, EventStatus
from inventory.models.runs import RunStatus
from scheduler.proposals import store_proposal
from scheduler.rebalance import Move, Result
from tests.api_server import PASSWORD, seed, serve
from tests.conftest import PINNED_TODAY, SHANGYUN, _empty_pg, run_cli


@dataclass
class Api:
    base: str
    tokens: dict[str, str]  # role → token
    own: dict[str, Any]  # ids of the department user's records
    other: dict[str, Any]  # ids of another department's records
    platform: str
    db_url: str

    def call(self, method: str, path: str, role: str | None, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.request(method, self.base + path, json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_estate: Path) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("api")
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp / 'api.db'}"
    else:
        db_url = request.getfixturevalue("pg_url")
        engine = create_db_engine(db_url)
        _empty_pg(engine)
        engine.dispose()
    seeded = seed(db_url, tiny_estate)
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        own_department = session.exec(select(Department).where(Department.code == seeded.department)).one()
        systems = session.exec(select(BusinessSystem).order_by(col(BusinessSystem.id))).all()
        mine = next(s for s in systems if s.department_id == own_department.id)
        theirs = next(s for s in systems if s.department_id != own_department.id)
        other_department = session.get(Department, theirs.department_id)
        assert other_department is not None
        own_server = session.exec(select(Server).where(Server.department_id == mine.department_id)).first()
        other_server = session.exec(select(Server).where(Server.department_id == theirs.department_id)).first()
        own_room = session.exec(select(Room).where(Room.department_id == mine.department_id)).first()
        other_room = session.exec(select(Room).where(Room.department_id == theirs.department_id)).first()
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.kind == "openstack")).first()
        assert own_server and other_server and own_room and other_room and platform
        store_proposal(session, platform.name, Result("balance", [Move("live_migrate", "vm-1", "h1", "h2")],
                                                      {"active_hosts": 2}, {"active_hosts": 2}, 0.1),
                       0.8, None, Actor("test"))
        session.commit()
        own: dict[str, Any] = {"department": own_department.code, "department_id": own_department.id,
                               "system": mine.id, "server": own_server.id, "room": own_room.id}
        other: dict[str, Any] = {"department": other_department.code, "department_id": other_department.id,
                                 "system": theirs.id, "server": other_server.id, "room": other_room.id}
        platform_name = platform.name
    engine.dispose()
    for who in (own, other):  # one request per department, asked for through the CLI
        assert run_cli("capacity", "request", "--department", who["department"], "--platform", platform_name,
                       "--purpose", "test", "--vcpus", "2", "--mlps-level", "2", "--not-classified",
                       db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        for who in (own, other):
            who["request"] = session.exec(select(CapacityRequest.id).where(
                CapacityRequest.department_id == who["department_id"])).one()
    engine.dispose()
    server, base = serve(db_url, tmp / "serve.log")
    yield Api(base, seeded.tokens, own, other, platform_name, db_url)
    server.terminate()
    server.wait(timeout=30)


# (method, path template, body, permission). Paths use the department user's own records, so a
# department user's "allowed" is real; other departments are checked separately below.
ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/v1/departments", None, ESTATE_READ),
    ("GET", "/api/v1/rooms", None, ESTATE_READ),
    ("GET", "/api/v1/rooms/{room}", None, ESTATE_READ),
    ("GET", "/api/v1/rooms/{room}/assets", None, ESTATE_READ),
    ("GET", "/api/v1/mlps/overdue", None, ESTATE_READ),
    ("GET", "/api/v1/servers", None, ESTATE_READ),
    ("GET", "/api/v1/servers/{server}", None, ESTATE_READ),
    ("GET", "/api/v1/systems", None, ESTATE_READ),
    ("GET", "/api/v1/systems/{system}", None, ESTATE_READ),
    ("GET", "/api/v1/systems/{system}/archive", None, ESTATE_READ),
    ("GET", "/api/v1/systems/{system}/archive/xlsx", None, ESTATE_READ),
    ("GET", "/api/v1/capacity-requests", None, REQUESTS_READ),
    ("GET", "/api/v1/capacity-requests/{request}", None, REQUESTS_READ),
    ("POST", "/api/v1/capacity-requests", "ask", REQUESTS_WRITE),
    ("POST", "/api/v1/capacity-requests/review", None, REQUESTS_DECIDE),
    ("GET", "/api/v1/platforms", None, DASHBOARD),
    ("GET", "/api/v1/forecasts", None, DASHBOARD),
    ("GET", "/api/v1/rebalance-proposals", None, CLOUD_READ),
    ("GET", "/api/v1/rebalance-proposals/1", None, CLOUD_READ),
    ("POST", "/api/v1/rebalance-proposals/999/reject", {"reason": "no"}, CLOUD_WRITE),
    ("POST", "/api/v1/rebalance-proposals/1/approve", None, CLOUD_WRITE),
    ("GET", "/api/v1/audit", None, AUDIT_READ),
    ("GET", "/api/v1/savings", None, COSTS_READ),
    ("GET", "/api/v1/savings/xlsx", None, COSTS_READ),
    ("GET", "/api/v1/overview", None, DASHBOARD),
    ("GET", "/api/v1/platforms/{platform}/history", None, DASHBOARD),
    ("GET", "/api/v1/platforms/{platform}/hosts", None, DASHBOARD),
    ("GET", "/api/v1/room-flags", None, DASHBOARD),
    ("GET", "/api/v1/plans/current", None, PLANS_READ),
    ("GET", "/api/v1/plans", None, PLANS_READ),
    ("GET", "/api/v1/plans/1", None, PLANS_READ),
    ("GET", "/api/v1/plans/1/items", None, PLANS_READ),
    ("GET", "/api/v1/plans/1/reusable-servers", None, PLANS_READ),
    ("GET", "/api/v1/runs", None, PLANS_READ),
    ("GET", "/api/v1/runs/1", None, PLANS_READ),
    ("GET", "/api/v1/runs/1/events", None, PLANS_READ),
    ("GET", "/api/v1/runs/999/stream", None, PLANS_READ),
    ("GET", "/api/v1/dependencies", None, ESTATE_READ),
    ("POST", "/api/v1/imports?dry_run=true", None, ESTATE_WRITE),
    ("GET", "/api/v1/users", None, USERS_ADMIN),
    ("GET", "/api/v1/users/u-viewer/tokens", None, USERS_ADMIN),
]


# Who may do what, written out by hand from the README's roles table (not read from ROLE_PERMISSIONS, so the
# matrix below can disagree with the code): admin everything; operator everything but users; finance the
# dashboard, the estate with costs, plans and savings; department the dashboard, its own estate and its
# capacity requests; viewer the dashboard.
EVERYONE = {"admin", "operator", "finance", "department", "viewer"}
EXPECTED_ROLES: dict[str, set[str]] = {
    DASHBOARD: EVERYONE,
    ESTATE_READ: {"admin", "operator", "finance", "department"},
    ESTATE_WRITE: {"admin", "operator"},
    COSTS_READ: {"admin", "operator", "finance"},
    PLANS_READ: {"admin", "operator", "finance"},
    PLANS_WRITE: {"admin", "operator"},
    CLOUD_READ: {"admin", "operator"},
    CLOUD_WRITE: {"admin", "operator"},
    REQUESTS_READ: {"admin", "operator", "department"},
    REQUESTS_WRITE: {"admin", "operator", "department"},
    REQUESTS_DECIDE: {"admin", "operator"},
    AUDIT_READ: {"admin", "operator"},
    USERS_ADMIN: {"admin"},
}


def test_the_code_grants_what_the_roles_table_says() -> None:
    granted = {permission: {role.value for role in Role if permission in ROLE_PERMISSIONS[role]}
               for permission in EXPECTED_ROLES}
    assert granted == EXPECTED_ROLES and set(EXPECTED_ROLES) == ALL
    assert {role.value for role in Role} == EVERYONE


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize(("method", "template", "body", "permission"), ROUTES,
                         ids=[f"{m} {t}" for m, t, _, _ in ROUTES])
def test_every_route_for_every_role(api: Api, role: str, method: str, template: str, body: Any,
                                    permission: str) -> None:
    path = template.format(**api.own, platform=api.platform)
    if body == "ask":
        body = {"department_code": api.own["department"], "platform": api.platform, "vcpus": 1, "purpose": "matrix",
                "mlps_level": 2, "classified": False}
    anonymous = api.call(method, path, None, body)
    assert anonymous.status_code == 401, anonymous.text
    response = api.call(method, path, role, body)
    if role in EXPECTED_ROLES[permission]:
        # Allowed: an answer about the request itself (a missing proposal, no cloud configured), never 401/403.
        assert response.status_code not in (401, 403) and response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert permission in response.json()["detail"]


def test_department_users_see_and_change_only_their_own(api: Api) -> None:
    for kind in ("system", "server", "room", "request", "archive", "assets"):
        path = {"system": "systems", "server": "servers", "room": "rooms", "request": "capacity-requests",
                "archive": "systems", "assets": "rooms"}[kind]
        key = api.other[{"archive": "system", "assets": "room"}.get(kind, kind)]
        suffix = {"archive": "/archive", "assets": "/assets"}.get(kind, "")
        assert api.call("GET", f"/api/v1/{path}/{key}{suffix}", "department").status_code == 404
        assert api.call("GET", f"/api/v1/{path}/{key}{suffix}", "operator").status_code == 200
    for path in ("systems", "servers", "rooms", "departments", "capacity-requests"):
        listed = api.call("GET", f"/api/v1/{path}?limit=500", "department").json()
        everyone = api.call("GET", f"/api/v1/{path}?limit=500", "admin").json()
        assert 0 < listed["total"] < everyone["total"]
        codes = {item.get("department_code", item.get("code")) for item in listed["items"]}
        assert codes == {api.own["department"]}
    own_rooms = {r["code"] for r in api.call("GET", "/api/v1/rooms?limit=500", "department").json()["items"]}
    flags = {f["room"] for f in api.call("GET", "/api/v1/room-flags", "department").json()}
    every_flag = {f["room"] for f in api.call("GET", "/api/v1/room-flags", "admin").json()}
    assert flags == every_flag & own_rooms and every_flag - own_rooms  # other departments' rooms are not shown
    mine = {i["code"] for i in api.call("GET", "/api/v1/systems?limit=500", "department").json()["items"]}
    every_dependency = api.call("GET", "/api/v1/dependencies?limit=500", "admin").json()["items"]
    touching = [d for d in every_dependency if d["system"] in mine or d["depends_on"] in mine]
    seen = api.call("GET", "/api/v1/dependencies?limit=500", "department").json()["items"]
    assert sorted(d["id"] for d in seen) == sorted(d["id"] for d in touching)  # its own, and only those
    assert len(every_dependency) > len(seen)
    due = api.call("GET", "/api/v1/mlps/overdue?every=true", "department").json()
    every_due = api.call("GET", "/api/v1/mlps/overdue?every=true", "admin").json()
    assert {d["department"] for d in due} == {api.own["department"]} and len(every_due) > len(due)
    before = _count(api.db_url, CapacityRequest)
    foreign = api.call("POST", "/api/v1/capacity-requests", "department", {
        "department_code": api.other["department"], "platform": api.platform, "vcpus": 1, "purpose": "x",
        "mlps_level": 2, "classified": False})
    assert foreign.status_code == 403 and "department_code" in foreign.json()["detail"]
    assert _count(api.db_url, CapacityRequest) == before


def test_finance_downloads_the_savings_workbook(api: Api) -> None:
    import io

    import openpyxl

    report = api.call("GET", "/api/v1/savings", "finance").json()
    assert report["plan"] == "t@1" and report["years"] and report["rooms"] and report["unit"] == "万元"
    download = api.call("GET", "/api/v1/savings/xlsx", "finance")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(download.content))
    rows = [[c.value for c in row] for row in workbook["fiscal years 年度"].iter_rows()]
    header = next(k for k, row in enumerate(rows) if row[0] == "year 年度")
    assert all("万元" in str(h) for h in rows[header][1:8])  # every money header names its unit
    years = [row[0] for row in rows[header + 1: header + 1 + len(report["years"])]]
    assert years == [y["year"] for y in report["years"]]


def test_costs_only_for_roles_that_read_costs(api: Api) -> None:
    finance = api.call("GET", f"/api/v1/rooms/{api.own['room']}", "finance").json()
    department = api.call("GET", f"/api/v1/rooms/{api.own['room']}", "department").json()
    assert finance["annual_cost_cny"] > 0 and set(finance["cost_parts"]) == {"energy", "rent", "maintenance",
                                                                              "staff", "lines"}
    assert finance["cost_parts"]["energy"]["basis"] in ("data", "default")
    assert department["annual_cost_cny"] is None and department["cost_parts"] is None


def test_plan_items_carry_the_zone_and_destination_of_the_plan_document(api: Api) -> None:
    """Issue 16 §2: the plan shows each item's zone. The API's items agree with the plan's own document
    (FORMATS.md §4), item by item, and filter by zone."""
    plan = api.call("GET", "/api/v1/plans?limit=1", "admin").json()["items"][0]
    document = api.call("GET", f"/api/v1/plans/{plan['id']}", "admin").json()
    documented = [i for w in document["waves"] for i in w["items"]] + document["not_migrated"]
    expected = {i["system"]: (i.get("zone"), (i.get("destination") or {}).get("platform")) for i in documented}
    listed: dict[str, tuple[str | None, str | None]] = {}
    while len(listed) < len(expected):
        got = api.call("GET", f"/api/v1/plans/{plan['id']}/items?limit=500&offset={len(listed)}", "admin").json()
        assert got["items"], f"{len(listed)} of {len(expected)} items listed"
        listed |= {i["system"]: (i["zone"], i["destination"]) for i in got["items"]}
    assert listed == expected
    assert any(zone for zone, _ in expected.values()) and any(dest for _, dest in expected.values())
    intranet = api.call("GET", f"/api/v1/plans/{plan['id']}/items?zone=intranet&limit=500", "admin").json()
    assert intranet["total"] == sum(zone == "intranet" for zone, _ in expected.values()) > 0
    assert api.call("GET", f"/api/v1/plans/{plan['id']}/items?zone=moon", "admin").status_code == 422


def test_reusable_servers_and_room_disposals_follow_the_written_rules(api: Api) -> None:
    """Issue 16 §8, against the rules as written (migration_plans/assets.py's docstring), computed here from
    the database: a server of a room the plan closes is reusable when it has a purchase date under 6 years
    old (DOMAIN.md's depreciation) on the pinned day, holds no classified system's data, and none of its
    systems moves with it (relocate, intranet) or stays (retain, not placed)."""
    import datetime as dt

    from inventory.models import Plan, PlanItem, SystemServer

    today = dt.date.fromisoformat(PINNED_TODAY)
    engine = create_db_engine(api.db_url)
    with Session(engine) as session:
        plan = session.exec(select(Plan)).one()
        closing = {r["room"] for r in plan.document["rooms"] if r["closes_after_wave"] is not None}
        strategy = {i.system_id: (i.strategy if i.wave_id is not None else None)
                    for i in session.exec(select(PlanItem).where(PlanItem.plan_id == plan.id))}
        systems = {s.id: s for s in session.exec(select(BusinessSystem))}
        hosted: dict[int, list[int]] = {}
        for link in session.exec(select(SystemServer)):
            hosted.setdefault(link.server_id, []).append(link.system_id)
        rooms = {r.id: r.code for r in session.exec(select(Room))}
        expected: dict[str, set[str]] = {}
        for server in session.exec(select(Server)):
            on = [systems[i] for i in hosted.get(server.id or 0, [])]
            kept = [s for s in on if s.status not in ("migrated", "retired")
                    and strategy.get(s.id or 0) in (None, "retain")]
            if (rooms[server.room_id] in closing and server.purchase_date is not None
                    and (today - server.purchase_date).days / 365.25 < 6 and not kept
                    and not any(s.classified for s in on)
                    and not any(strategy.get(s.id or 0) in ("relocate", "intranet") for s in on)):
                expected.setdefault(rooms[server.room_id], set()).add(server.hostname)
    engine.dispose()
    freed = api.call("GET", f"/api/v1/plans/{plan.id}/reusable-servers", "operator").json()
    assert {f["room"]: {s["hostname"] for s in f["servers"]} for f in freed} == expected and expected
    for room in freed:
        assert room["cores"] == sum(s["cpu_cores"] for s in room["servers"])
    room_id = next(i for i, code in rooms.items() if code == freed[0]["room"])
    listed = api.call("GET", f"/api/v1/rooms/{room_id}/assets", "finance").json()
    assert {s["hostname"] for s in listed["servers"] if s["disposal"] == "reuse"} == expected[freed[0]["room"]]
    assert sum(listed["counts"].values()) == len(listed["servers"]) and listed["plan"] == f"{plan.name}@{plan.version}"


def test_lists_page_and_filter(api: Api) -> None:
    first = api.call("GET", "/api/v1/servers?limit=5", "admin").json()
    second = api.call("GET", "/api/v1/servers?limit=5&offset=5", "admin").json()
    assert len(first["items"]) == 5 and first["total"] == second["total"] > 10
    assert not {s["id"] for s in first["items"]} & {s["id"] for s in second["items"]}
    host = first["items"][0]["hostname"]
    assert [s["hostname"] for s in api.call("GET", f"/api/v1/servers?code={host}", "admin").json()["items"]] == [host]
    shouted = api.call("GET", f"/api/v1/servers?q={host.upper()}", "admin").json()
    assert shouted["total_exact"] and host in [s["hostname"] for s in shouted["items"]]
    one = api.call("GET", f"/api/v1/systems?id={api.own['system']}", "admin").json()
    assert one["total"] == 1 and one["items"][0]["id"] == api.own["system"]
    name = one["items"][0]["name"]
    found = api.call("GET", f"/api/v1/systems?q={name[:3]}", "admin").json()
    assert any(s["id"] == api.own["system"] for s in found["items"])
    dependency = api.call("GET", "/api/v1/dependencies?limit=1", "admin").json()["items"][0]
    touching = api.call("GET", f"/api/v1/dependencies?code={dependency['depends_on']}&limit=500", "admin").json()
    assert dependency in touching["items"]
    assert all(dependency["depends_on"] in (d["system"], d["depends_on"]) for d in touching["items"])


LISTS = ["/api/v1/departments", "/api/v1/rooms", "/api/v1/servers", "/api/v1/systems", "/api/v1/dependencies",
         "/api/v1/plans", "/api/v1/plans/1/items", "/api/v1/runs", "/api/v1/capacity-requests",
         "/api/v1/rebalance-proposals", "/api/v1/audit"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_pages_and_filters_in_the_database(api: Api, path: str) -> None:
    """Pages of one row, one after another, are the whole list's rows in order; ``id`` finds one row."""
    whole = api.call("GET", f"{path}?limit=500", "admin").json()
    items = whole["items"]
    assert whole["total"] == len(items) and whole["total_exact"]
    assert len(items) >= (0 if path == "/api/v1/runs" else 1), f"the seeded estate should give {path} rows"
    pages = [api.call("GET", f"{path}?limit=1&offset={k}", "admin").json() for k in range(min(3, len(items)))]
    assert [p["items"][0] for p in pages] == items[:3] and all(p["total"] == len(items) for p in pages)
    for item in items[:2]:
        found = api.call("GET", f"{path}?id={item['id']}", "admin").json()
        assert found["items"] == [item] and found["total"] == 1
    assert api.call("GET", f"{path}?q=no-such-text-anywhere", "admin").json()["total"] == 0


def test_login_tokens_and_their_expiry(api: Api) -> None:
    wrong = httpx.post(api.base + "/api/v1/auth/login", json={"username": "u-viewer", "password": "nope"})
    assert wrong.status_code == 401
    good = httpx.post(api.base + "/api/v1/auth/login", json={"username": "u-viewer", "password": PASSWORD})
    assert good.status_code == 200
    token = good.json()["token"]
    me = httpx.get(api.base + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "viewer" and me["permissions"] == [DASHBOARD]
    later = httpx.post(api.base + "/api/v1/auth/login", json={"username": "u-viewer", "password": PASSWORD})
    aged = later.json()["token"]
    engine = create_db_engine(api.db_url)
    with Session(engine) as session:  # the second login token's time runs out before it is used
        row = session.exec(select(ApiToken).where(ApiToken.name == "login").order_by(col(ApiToken.id).desc())).first()
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.add(row)
        session.commit()
    engine.dispose()
    expired = httpx.get(api.base + "/api/v1/auth/me", headers={"Authorization": f"Bearer {aged}"})
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    unknown = httpx.get(api.base + "/api/v1/auth/me", headers={"Authorization": "Bearer sy_made_up"})
    assert unknown.status_code == 401


def test_bad_requests_name_the_field_and_change_nothing(api: Api) -> None:
    before = _count(api.db_url, CapacityRequest)
    url = api.base + "/api/v1/capacity-requests"
    headers = {"Authorization": f"Bearer {api.tokens['operator']}", "Content-Type": "application/json"}
    malformed = httpx.post(url, content=b'{"department_code": ', headers=headers)
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["type"] == "json_invalid"
    ask = {"department_code": api.own["department"], "platform": api.platform, "vcpus": 1, "purpose": "x",
        "mlps_level": 2, "classified": False}
    cases = {"vcpus": {**ask, "vcpus": "many"}, "memory_gb": {**ask, "memory_gb": -1},
             "colour": {**ask, "colour": "red"}, "purpose": {k: v for k, v in ask.items() if k != "purpose"},
             "platform": {**ask, "platform": "nowhere"}}
    for field, body in cases.items():
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert field in [str(part) for part in response.json()["detail"][0]["loc"]], (field, response.text)
    assert httpx.get(api.base + "/api/v1/servers?limit=0", headers=headers).status_code == 422
    assert _count(api.db_url, CapacityRequest) == before


def test_the_openapi_document_lists_every_route(api: Api) -> None:
    import re

    document = httpx.get(api.base + "/openapi.json").json()
    patterns = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), set(methods))
                for path, methods in document["paths"].items()]
    for method, template, _, _ in ROUTES:
        path = template.format(**api.own, platform="p").split("?")[0]
        assert any(p.match(path) and method.lower() in m for p, m in patterns), (method, path)
    assert len(document["paths"]) >= len({t.split("?")[0] for _, t, _, _ in ROUTES})
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    undocumented = [(method, path) for path, operations in document["paths"].items()
                    for method, operation in operations.items()
                    if not operation.get("summary") or not operation.get("description")]
    assert undocumented == []
    # FastAPI names a schema by its module path when two classes share a name; none may.
    assert [name for name in document["components"]["schemas"] if "__" in name] == []
    for path, entity in (("/api/v1/servers", "ServerPublic"), ("/api/v1/systems", "BusinessSystemPublic"),
                         ("/api/v1/rooms", "RoomPublic"), ("/api/v1/audit", "AuditLogPublic"),
                         ("/api/v1/runs", "MigrationRunPublic"), ("/api/v1/capacity-requests",
                                                                  "CapacityRequestPublic")):
        page = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        items = document["components"]["schemas"][page.rsplit("/", 1)[1]]["properties"]["items"]["items"]["$ref"]
        assert items.endswith("/" + entity), (path, items)


def _count(db_url: str, model: Any) -> int:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        count = len(session.exec(select(model)).all())
    engine.dispose()
    return count



def test_the_development_secret_is_refused_outside_development(tmp_path: Path) -> None:
    env = os.environ | {"SHANGYUN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SHANGYUN_ENVIRONMENT": "production"}
    env.pop("SHANGYUN_SECRET_KEY", None)
    refused = subprocess.run([SHANGYUN, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "SHANGYUN_SECRET_KEY must be set" in refused.stderr
    short = subprocess.run([SHANGYUN, "user", "list"], env=env | {"SHANGYUN_SECRET_KEY": "short"},
                           capture_output=True, text=True, timeout=60, check=False)
    assert short.returncode == 2
    repeated = subprocess.run([SHANGYUN, "user", "list"], env=env | {"SHANGYUN_SECRET_KEY": "k" * 40},
                              capture_output=True, text=True, timeout=60, check=False)
    assert repeated.returncode == 2 and "one repeated character" in repeated.stderr
    good = subprocess.run([SHANGYUN, "user", "list"], env=env | {"SHANGYUN_SECRET_KEY": secrets.token_hex(32)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert good.returncode == 0, good.stderr


def test_prometheus_metrics_match_the_database(api: Api) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    assert api.call("GET", "/api/v1/servers?limit=3", "admin").status_code == 200
    text = httpx.get(api.base + "/metrics").text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    engine = create_db_engine(api.db_url)
    with Session(engine) as session:
        active_rooms = len(session.exec(select(Room).where(Room.status == "active")).all())
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == api.platform)).one()
    engine.dispose()
    assert samples[("shangyun_rooms", (("status", "active"),))] == active_rooms
    ratio = samples[("shangyun_platform_allocation_ratio", (("platform", api.platform), ("resource", "cpu")))]
    assert ratio == pytest.approx((platform.allocated_vcpus or 0) / (platform.vcpus * (platform.cpu_ratio or 1)))
    route = (("method", "GET"), ("route", "/api/v1/servers"), ("status", "200"))
    assert samples[("shangyun_http_request_duration_seconds_count", route)] >= 1


def test_the_grafana_dashboard_uses_only_exported_metrics(api: Api) -> None:
    import json
    import re

    from prometheus_client.parser import text_string_to_metric_families

    dashboard = json.loads((Path(__file__).parent.parent / "deploy/grafana/shangyun-dashboard.json").read_text())
    families = list(text_string_to_metric_families(httpx.get(api.base + "/metrics").text))
    exported = {f.name for f in families} | {s.name for f in families for s in f.samples}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = set(re.findall(r"shangyun_[a-z_]+", target["expr"]))
            assert names and names <= exported, (panel["title"], names - exported)


def test_workbook_uploads_follow_the_import_rules(api: Api, tmp_path: Path) -> None:
    import openpyxl

    workbook = tmp_path / "estate.xlsx"
    assert run_cli("export", str(workbook), db_url=api.db_url).returncode == 0
    headers = {"Authorization": f"Bearer {api.tokens['operator']}"}
    url = api.base + "/api/v1/imports"
    clean = httpx.post(url + "?dry_run=true", headers=headers, timeout=120,
                       files={"file": ("estate.xlsx", workbook.read_bytes())})
    assert clean.status_code == 200, clean.text
    assert clean.json()["errors"] == [] and clean.json()["written"] is False
    book = openpyxl.load_workbook(workbook)
    sheet = book["servers"]
    column = [c.value for c in sheet[1]].index("cpu_cores")
    sheet.cell(row=3, column=column + 1).value = "many"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    before = _count(api.db_url, AuditLog)
    rejected = httpx.post(url, headers=headers, timeout=120, files={"file": ("bad.xlsx", bad.read_bytes())})
    assert rejected.status_code == 422, rejected.text
    error = rejected.json()["errors"][0]
    assert error["row"] == 3 and error["value"] == "many" and rejected.json()["written"] is False
    assert _count(api.db_url, AuditLog) == before  # nothing written
    wrong_type = httpx.post(url, headers=headers, files={"file": ("notes.txt", b"hello")})
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == ["body", "file"]
    huge = httpx.post(url, headers=headers, timeout=120,
                      files={"file": ("big.xlsx", b"\\0" * (51 * 1024 * 1024))})
    assert huge.status_code == 413 and "50 MB" in huge.json()["detail"]
    assert _count(api.db_url, AuditLog) == before


def test_run_events_stream_as_server_sent_events(api: Api) -> None:
    import threading

    engine = create_db_engine(api.db_url)
    with Session(engine) as session:
        plan = session.exec(select(Plan)).first()
        item = session.exec(select(PlanItem).where(PlanItem.plan_id == plan.id)).first()  # type: ignore[union-attr]
        assert plan is not None and item is not None
        now = dt.datetime.now(dt.UTC)
        run = MigrationRun(plan_id=plan.id or 0, wave_index=1, started_at=now, started_by="test")
        session.add(run)
        session.flush()
        run_item = RunItem(run_id=run.id or 0, plan_item_id=item.id or 0, system_id=item.system_id,
                           strategy=item.strategy)
        session.add(run_item)
        session.flush()
        session.add(RunEvent(run_id=run.id or 0, item_id=run_item.id or 0, counter=1, at=now, step="preflight",
                             phase=EventPhase.BEFORE, status=EventStatus.STARTED))
        session.commit()
        run_id, item_id = run.id, run_item.id
    lines: list[str] = []

    def listen() -> None:
        with httpx.stream("GET", f"{api.base}/api/v1/runs/{run_id}/stream",
                          headers={"Authorization": f"Bearer {api.tokens['viewer']}"}) as response:
            assert response.status_code == 403  # viewers do not read runs
        with httpx.stream("GET", f"{api.base}/api/v1/runs/{run_id}/stream", timeout=60,
                          headers={"Authorization": f"Bearer {api.tokens['operator']}"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                lines.append(line)
                if line.startswith("data: ") and "event: end" in lines:
                    return

    listener = threading.Thread(target=listen)
    listener.start()
    deadline = time.monotonic() + 20
    while not any(line.startswith("id: ") for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    with Session(engine) as session:  # a step ends while the client listens, then the run settles
        session.add(RunEvent(run_id=run_id or 0, item_id=item_id or 0, counter=2, at=dt.datetime.now(dt.UTC),
                             step="preflight", phase=EventPhase.AFTER, status=EventStatus.OK))
        stored = session.get(MigrationRun, run_id)
        assert stored is not None
        stored.status = RunStatus.COMPLETED
        session.add(stored)
        session.commit()
    engine.dispose()
    listener.join(timeout=30)
    data = [line for line in lines if line.startswith("data: ")]
    assert [line.split()[1] for line in lines if line.startswith("id: ")] == sorted(
        line.split()[1] for line in lines if line.startswith("id: "))
    assert len(data) == 3 and '"phase": "after"' in data[1] and '"status": "completed"' in data[2]
