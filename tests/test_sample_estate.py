"""The sample estate is deterministic per seed and shaped like DOMAIN.md's city."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

from collectors.sample.estate import SCALES, generate, iter_samples, write_estate
from collectors.survey import values as v


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    write_estate(generate(SCALES["tiny"], 11), tmp_path / "a")
    write_estate(generate(SCALES["tiny"], 11), tmp_path / "b")
    write_estate(generate(SCALES["tiny"], 12), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["servers.csv"] != _digest(tmp_path / "c")["servers.csv"]


def test_city_matches_the_domain_figures() -> None:
    estate = generate(SCALES["city"], 1)
    rooms = estate.tables["rooms"][1]
    servers = estate.tables["servers"][1]
    systems = estate.tables["systems"][1]
    assert (len(estate.tables["departments"][1]), len(rooms), len(servers), len(systems)) == (50, 60, 1500, 500)
    racks = [int(r[5]) for r in rooms]
    assert min(racks) >= 2 and max(racks) <= 40 and sorted(racks)[len(racks) // 2] <= 20
    pues = [float(r[7]) for r in rooms if r[7] != ""]
    assert min(pues) >= 1.4 and max(pues) <= 2.6
    ages = [estate.until.year - int(r[8]) for r in rooms]
    assert min(ages) >= 2 and max(ages) <= 15
    bought = [v.parse_date(s[8]) for s in servers]
    years = [(estate.until - d).days / 365 for d in bought]
    assert min(years) >= 2 and max(years) <= 12.1
    classified = sum(v.parse_bool(s[3]) for s in systems) / len(systems)
    assert 0.05 <= classified <= 0.10
    mlps = Counter(v.parse_mlps(s[4]) for s in systems)
    assert mlps[2] > len(systems) / 2 and mlps[3] > 0 and 0 < mlps[4] < mlps[3]
    zombie_like = sum(int(s[7]) == 0 for s in systems) / len(systems)
    assert 0.07 <= zombie_like <= 0.13
    assert sum(v.parse_bool(s[10]) for s in systems) > 20  # containerized
    assert 0 < sum(v.parse_bool(s[11]) for s in systems) < 40  # special hardware
    deps = estate.tables["dependencies"][1]
    department = {s[0]: s[2] for s in systems}
    cross = sum(department[a] != department[b] for a, b, *_ in deps)
    assert 0 < cross < len(deps) / 3 and any(v.parse_bool(d[3]) for d in deps)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s[1]) for s in systems)
    # real city clouds report 72–80 % allocated: allocated ÷ (physical vCPUs × overcommit), as everywhere
    clouds = [row for row in estate.tables["platforms"][1] if row[1] != "intranet"]
    for row in clouds:
        vcpus, allocated, overcommit = float(row[3]), float(row[6]), float(row[9])
        assert 0.719 <= allocated / (vcpus * overcommit) <= 0.80, row
    # one intranet platform (政务内网) approved for 机密, so classified systems have somewhere to go
    header = estate.tables["platforms"][0]
    intranets = [dict(zip(header, row, strict=True)) for row in estate.tables["platforms"][1] if row[1] == "intranet"]
    assert len(clouds) == 3 and [(p["分级保护等级"], p["vCPU月单价(元/核/月)"]) for p in intranets] == [("机密", "")]
    levels = {s[-1] for s in systems if v.parse_bool(s[3])}
    assert levels == {"秘密", "机密"} and all(s[-1] == "" for s in systems if not v.parse_bool(s[3]))


def test_city_samples_span_90_days_hourly_for_the_last_30_with_zombies_under_5_percent() -> None:
    estate = generate(SCALES["city"], 3)
    zombie_hosts = {s.hostname for s in estate.servers if s.profile == "zombie"}
    per_host: dict[str, list[float]] = {}
    stamps: set[str] = set()
    for hostname, stamp, cpu, _memory, _disk in iter_samples(estate):
        per_host.setdefault(hostname, []).append(float(cpu))
        stamps.add(stamp)
    # 90 days (the zombie rule's window): the last 30 hourly, the 60 before every six hours
    assert len(per_host) == 1500 and len(stamps) == 30 * 24 + 60 * 4
    days = sorted({dt.date.fromisoformat(s[:10]) for s in stamps})
    assert len(days) == 90 and days[-1] == estate.until - dt.timedelta(days=1)
    assert zombie_hosts and all(max(per_host[h]) < 5.0 for h in zombie_hosts)
    busy = [sum(c) / len(c) for h, c in per_host.items() if h not in zombie_hosts]
    assert sum(busy) / len(busy) > 5.0


def test_samples_end_the_day_before_the_given_date_whatever_it_is(tmp_path: Path) -> None:
    for until in (dt.date(2026, 11, 30), dt.date(2031, 2, 28)):
        estate = generate(SCALES["tiny"], 5, until)
        days = {dt.date.fromisoformat(stamp[:10]) for _, stamp, *_ in iter_samples(estate)}
        assert max(days) == until - dt.timedelta(days=1) and min(days) == until - dt.timedelta(days=90)
    # Everything but the dates is the same estate: the same servers and systems for any date.
    a, b = generate(SCALES["tiny"], 5, dt.date(2026, 11, 30)), generate(SCALES["tiny"], 5, dt.date(2030, 6, 1))
    assert [s.hostname for s in a.servers] == [s.hostname for s in b.servers]
    assert [r[:3] for r in a.tables["systems"][1]] == [r[:3] for r in b.tables["systems"][1]]
