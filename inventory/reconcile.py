"""Reconciling server facts from several sources, with provenance.

The same server (matched by hostname) can be described by the survey, the agent, Ansible and a
cloud API. Each source's latest value of each field is kept in ``server_observation`` with its
time; the ``server`` row holds the value chosen by this precedence:

1. measured beats declared: anything a machine reported (agent, Ansible, OpenStack, Kubernetes)
   beats the survey, which people typed;
2. among the same kind, newer beats older.

A measured number far from what anyone could mean is kept but not applied: outside a plausible range
(``PLAUSIBLE``), or more than ``PLAUSIBLE_FACTOR`` times the survey's value (a broken or hostile agent
reporting 60 TiB of memory for a 16 GB server; less than the survey is common, as agents see only what
is mounted). It stays listed as a conflict, so a
person decides, and the survey's value holds meanwhile.

Two sources disagree when their values differ beyond a tolerance (memory 5%, storage 10%: an OS
reports a little less than the installed size; text compared without case or spacing; an OS name
with a shorter version matches a longer one). Every
disagreement stays listed by ``conflicts`` until the sources agree; nothing is silently dropped.
A change of the chosen value is audited like any other update.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from inventory import services
from inventory.audit import Actor
from inventory.models import Server, ServerObservation

MEASURED_SOURCES = frozenset({"agent", "ansible", "openstack", "kubernetes"})
DECLARED_SOURCES = frozenset({"survey"})
FACT_FIELDS = ("cpu_cores", "memory_gb", "storage_gb", "os", "ip", "model", "serial", "hypervisor", "virtualization")
RELATIVE_TOLERANCE = {"memory_gb": 0.05, "storage_gb": 0.10}
PLAUSIBLE = {"cpu_cores": (1.0, 4096.0), "memory_gb": (0.125, 65536.0), "storage_gb": (0.0, 1048576.0)}
PLAUSIBLE_FACTOR = 16.0
# A source repeating an unchanged value refreshes its time at most this often (agents report every minute).
REFRESH_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Observation:
    source: str
    value: Any
    at: dt.datetime

    @property
    def measured(self) -> bool:
        return self.source in MEASURED_SOURCES


@dataclass(frozen=True)
class Conflict:
    """Sources disagree on one field of one server; ``chosen`` is what the inventory holds."""

    hostname: str
    field: str
    chosen: Observation
    others: tuple[Observation, ...]


def precedence(observation: Observation) -> tuple[bool, dt.datetime]:
    """Sort key: measured before declared, then newer before older."""
    return observation.measured, observation.at


def plausible(field: str, observation: Observation, declared: Any) -> bool:
    """Whether a measured ``observation`` of ``field`` may override the survey's ``declared`` value."""
    value = observation.value
    if not observation.measured or field not in PLAUSIBLE or not isinstance(value, int | float):
        return True
    low, high = PLAUSIBLE[field]
    if not low <= value <= high:
        return False
    if isinstance(declared, int | float) and not isinstance(declared, bool) and declared > 0 and value > 0:
        return value <= declared * PLAUSIBLE_FACTOR  # less than declared is common: agents see only what is mounted
    return True


def choose(observations: Iterable[Observation], field: str | None = None) -> Observation:
    """The observation whose value the inventory keeps (with ``field``: never an implausible measurement
    over the survey's value)."""
    history = list(observations)
    declared = next((o.value for o in history if not o.measured), None)
    usable = [o for o in history if field is None or plausible(field, o, declared)]
    return max(usable or history, key=precedence)


def agree(field: str, a: Any, b: Any) -> bool:
    """Whether two reported values of ``field`` say the same thing, within the field's tolerance."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        tolerance = RELATIVE_TOLERANCE.get(field, 0.0)
        return abs(a - b) <= tolerance * max(abs(a), abs(b))
    if field == "os":
        return _same_os(str(a), str(b))
    return " ".join(str(a).lower().split()) == " ".join(str(b).lower().split())


def _same_os(a: str, b: str) -> bool:
    """``Debian GNU/Linux 12`` (os-release) and ``Debian 12.11`` (Ansible) name the same system: compare
    without "GNU/Linux"/"Linux", and let a shorter version match a longer one (12 ~ 12.11)."""
    def words(text: str) -> str:
        return " ".join(w for w in text.lower().split() if w not in {"gnu/linux", "linux"})

    short, long = sorted((words(a), words(b)), key=len)
    return long == short or (long.startswith(short) and long[len(short)] in ". ")


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = ServerObservation.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["server_id", "field", "source"],
        set_={"value": statement.excluded.value, "observed_at": statement.excluded.observed_at},
    )
    session.execute(statement, rows)


def _observations(session: Session, server_ids: Iterable[int] | None = None,
                  ) -> dict[int, dict[str, list[Observation]]]:
    query = select(ServerObservation)
    if server_ids is not None:
        query = query.where(col(ServerObservation.server_id).in_(list(server_ids)))
    found: dict[int, dict[str, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for row in session.exec(query):
        found[row.server_id][row.field].append(Observation(row.source, row.value, row.observed_at))
    return found


def observe(session: Session, server: Server, source: str, values: Mapping[str, Any], at: dt.datetime,
            actor: Actor) -> dict[str, Any]:
    """Record what ``source`` saw of ``server`` at ``at``; apply the chosen values (audited).

    Fields outside ``FACT_FIELDS`` and ``None`` values are ignored. Returns the fields whose
    chosen value changed, with the new value.
    """
    assert server.id is not None
    reported = {k: v for k, v in values.items() if k in FACT_FIELDS and v is not None}
    stored = _observations(session, [server.id]).get(server.id, {})
    rows: list[dict[str, Any]] = []
    for field, value in reported.items():
        history = stored.get(field, [])
        if not history and getattr(server, field) is not None and source not in DECLARED_SOURCES:
            # Recorded before provenance was kept: the row's own value is what the survey declared.
            history.append(Observation("survey", getattr(server, field), at))
            rows.append({"server_id": server.id, "field": field, "source": "survey",
                         "value": getattr(server, field), "observed_at": at})
        own = next((o for o in history if o.source == source), None)
        if own is not None and (own.at > at or (own.value == value and at - own.at < REFRESH_AFTER)):
            continue  # an older report, or nothing new to say
        history[:] = [o for o in history if o.source != source] + [Observation(source, value, at)]
        stored[field] = history
        rows.append({"server_id": server.id, "field": field, "source": source, "value": value, "observed_at": at})
    _upsert(session, rows)
    chosen = {field: choose(stored[field], field).value for field in reported if stored.get(field)}
    changes = {k: v for k, v in chosen.items() if getattr(server, k) != v}
    services.update(session=session, actor=actor, obj=server, changes=changes)
    return changes


def record_declared(session: Session, declared: Mapping[int, Mapping[str, Any]], at: dt.datetime) -> None:
    """Keep a survey's values (server id → fields) as declared observations, in bulk."""
    rows = [{"server_id": server_id, "field": field, "source": "survey", "value": value, "observed_at": at}
            for server_id, values in declared.items() for field, value in values.items()
            if field in FACT_FIELDS and value is not None]
    for offset in range(0, len(rows), 5000):
        _upsert(session, rows[offset : offset + 5000])


def measured_choices(session: Session) -> dict[int, dict[str, Observation]]:
    """Per server, the measured value each field keeps whatever a survey says (server id → field → obs)."""
    measured = [(row.server_id, row.field, Observation(row.source, row.value, row.observed_at)) for row in
                session.exec(select(ServerObservation)
                             .where(col(ServerObservation.source).in_(sorted(MEASURED_SOURCES))))]
    checked = {server_id for server_id, field, _ in measured if field in PLAUSIBLE}
    declared: dict[tuple[int, str], Any] = {}
    for offset in range(0, len(ids := sorted(checked)), 5000):  # what the survey says, where it matters
        for row in session.exec(select(ServerObservation).where(
                col(ServerObservation.source).in_(sorted(DECLARED_SOURCES)),
                col(ServerObservation.field).in_(sorted(PLAUSIBLE)),
                col(ServerObservation.server_id).in_(ids[offset : offset + 5000]))):
            declared[(row.server_id, row.field)] = row.value
    best: dict[int, dict[str, Observation]] = defaultdict(dict)
    for server_id, field, observation in measured:
        if not plausible(field, observation, declared.get((server_id, field))):
            continue  # kept as a conflict; the survey's value holds
        current = best[server_id].get(field)
        if current is None or precedence(observation) > precedence(current):
            best[server_id][field] = observation
    return best


def conflicts(session: Session, hostname: str | None = None) -> list[Conflict]:
    """Every field on which a server's sources disagree, with the chosen value and the others."""
    contested = (select(ServerObservation.server_id).group_by(col(ServerObservation.server_id),
                                                              col(ServerObservation.field))
                 .having(sa.func.count() > 1))
    if hostname is not None:
        contested = contested.join(Server, col(Server.id) == ServerObservation.server_id).where(
            Server.hostname == hostname)
    server_ids = set(session.exec(contested))
    if not server_ids:
        return []
    names = dict(session.exec(select(Server.id, Server.hostname).where(col(Server.id).in_(server_ids))).all())
    found: list[Conflict] = []
    for server_id, fields in _observations(session, server_ids).items():
        for field, history in fields.items():
            chosen = choose(history, field)
            others = tuple(sorted((o for o in history if o is not chosen), key=precedence, reverse=True))
            if any(not agree(field, chosen.value, o.value) for o in others):
                found.append(Conflict(names[server_id], field, chosen, others))
    return sorted(found, key=lambda c: (c.hostname, FACT_FIELDS.index(c.field)))
