"""A realistic sample estate, written as survey CSV files that ``shangyun import`` reads.

Modelled on DOMAIN.md: Chinese department and system names; rooms of 2–40 racks (mostly small),
PUE 1.4–2.6 (older rooms worse), built 2–15 years ago; servers 2–12 years old; MLPS mostly level 2,
some 3, rare 4; 5–10 % classified (more in public-security-like departments); about 10 % zombie-like
systems (no users, CPU and memory under 5 %); some containerized, a few with special hardware;
dependencies mostly inside departments, some across them to shared hub systems, a quarter tight;
90 days of utilization ending the day before ``until`` (the zombie rule's window) — at city scale
hourly for the last ``hourly_days`` and every six hours before, daily at larger scales; and the
cloud side (platforms and a flavor catalogue priced per DOMAIN.md's unit prices).

The files use Chinese headers and mix the value forms the survey accepts (``64G``, ``65536MB``,
``2019年3月`` …), so importing the sample exercises the importer. The same seed and ``until`` give the
same files: all randomness comes from one ``random.Random(seed)`` and every date is relative to
``until`` (the demo passes the business day, so its samples end yesterday whatever the date).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.sample import names as n
from inventory.capacity import allocatable_vcpus
from inventory.models.enums import PlatformKind

DEFAULT_UNTIL = dt.date(2026, 11, 1)
CPU_PRICE_MONTH = 46.0
RAM_GB_PRICE_MONTH = 17.0
DISK_GB_PRICE_MONTH = 0.5


@dataclass(frozen=True)
class Scale:
    name: str
    departments: int
    rooms: int
    servers: int
    systems: int
    hourly: bool
    days: int = 90  # days of samples, ending the day before ``until``
    hourly_days: int = 30  # hourly scales: the most recent days sampled hourly, earlier ones every 6 hours


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 6, 8, 60, 20, hourly=True, hourly_days=7),
    "city": Scale("city", 50, 60, 1500, 500, hourly=True),
    "province": Scale("province", 850, 1000, 30000, 10000, hourly=False),
    "stress": Scale("stress", 4000, 5000, 150000, 50000, hourly=False),
}


@dataclass
class _Server:
    hostname: str
    room: str
    department: str
    cores: int
    memory_gb: int
    storage_gb: int
    hypervisor: bool
    profile: str = "normal"  # normal | hot | zombie
    systems: list[str] = field(default_factory=list)


@dataclass
class SampleEstate:
    """The generated estate as rows per survey file (Chinese headers), plus samples streamed on write."""

    scale: Scale
    seed: int
    until: dt.date
    tables: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)
    servers: list[_Server] = field(default_factory=list)


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _department_names(count: int) -> list[str]:
    if count <= len(n.MUNICIPAL_DEPARTMENTS):
        return list(n.MUNICIPAL_DEPARTMENTS[:count])
    names = []
    for city in n.CITIES:
        for dept in n.MUNICIPAL_DEPARTMENTS:
            names.append(f"{city}{dept}")
    round_ = 1
    while len(names) < count:  # the stress scale outgrows the city list: add districts
        names.extend(f"{city}第{round_}区{dept[1:]}" for city in n.CITIES for dept in n.MUNICIPAL_DEPARTMENTS)
        round_ += 1
    return names[:count]


def _size_text(rng: random.Random, gb: int) -> str:
    """One of the size forms the survey accepts, chosen at random."""
    form = rng.random()
    if form < 0.55:
        return f"{gb}G"
    if form < 0.7:
        return f"{gb * 1024}MB"
    if form < 0.85:
        return f"{gb} GB"
    if gb >= 1024 and gb % 512 == 0:
        return f"{gb / 1024:g}T"
    return str(gb)


def _date_text(rng: random.Random, day: dt.date) -> str:
    form = rng.random()
    if form < 0.6:
        return day.isoformat()
    if form < 0.85:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day.year}年{day.month}月"


def _yes_no(rng: random.Random, value: bool) -> str:
    return rng.choice(("是", "Y", "true")) if value else rng.choice(("否", "N", "false"))


def generate(scale: Scale, seed: int, until: dt.date = DEFAULT_UNTIL) -> SampleEstate:
    """Build the sample estate in memory (samples are produced when written)."""
    rng = random.Random(seed)
    estate = SampleEstate(scale, seed, until)
    dept_names = _department_names(scale.departments)
    dept_codes = [f"D{i + 1:04d}" for i in range(scale.departments)]
    estate.tables["departments"] = (["部门编码", "部门名称", "上级部门"],
                                    [[c, name, ""] for c, name in zip(dept_codes, dept_names, strict=True)])

    # Rooms: every department one, the rest to random departments; racks skewed small.
    room_owner = dept_codes + [rng.choice(dept_codes) for _ in range(scale.rooms - scale.departments)]
    room_rows, room_weight = [], []
    room_header = ["机房编码", "机房名称", "所属部门", "地址", "面积(平方米)", "机柜数", "IT负载(kW)", "PUE",
                   "建成年份",
                   "年租金(万元)", "年运维费(元)", "年人员费(元)", "年线路费(元)", "电价(元/kWh)", "线路合同到期"]
    # Leased-line contracts from their own stream, so adding them left the rest of the estate as it was.
    contracts = random.Random(seed * 104729 + 3)
    seen_room_names: set[str] = set()
    for index, owner in enumerate(room_owner):
        code = f"R{index + 1:04d}"
        racks = int(min(40, max(2, round(rng.lognormvariate(math.log(6), 0.7)))))
        age = rng.randint(2, 15)
        pue = round(min(2.6, max(1.4, 1.35 + 0.06 * age + rng.uniform(-0.15, 0.25))), 2)
        name = f"{dept_names[int(owner[1:]) - 1]}机房"
        if name in seen_room_names:
            name = f"{dept_names[int(owner[1:]) - 1]}第{index + 1}号机房"
        seen_room_names.add(name)
        area = racks * rng.uniform(2.5, 5.0)
        room_rows.append([
            code, name, owner, f"{rng.choice(n.CITIES)}市{rng.choice(n.ROADS)}{rng.randint(1, 300)}号",
            f"{area:.0f}" if rng.random() < 0.6 else "",
            racks,
            f"{racks * rng.uniform(1.0, 3.5):.1f}" if rng.random() < 0.3 else "",
            pue if rng.random() < 0.75 else "",
            until.year - age,
            f"{area * rng.uniform(0.08, 0.15):.2f}" if rng.random() < 0.4 else "",
            f"{racks * rng.uniform(15000, 35000):.0f}" if rng.random() < 0.5 else "",
            f"{rng.choice((0.5, 1.0, 1.5)) * rng.uniform(120000, 180000):.0f}" if rng.random() < 0.5 else "",
            f"{rng.uniform(30000, 120000):.0f}" if rng.random() < 0.7 else "",
            f"{rng.uniform(0.55, 0.95):.2f}" if rng.random() < 0.5 else "",
            (until + dt.timedelta(days=contracts.randint(-365, 5 * 365))).isoformat()
            if contracts.random() < 0.6 else "",
        ])
        room_weight.append(racks * rng.uniform(1.0, 3.0))
    estate.tables["rooms"] = (room_header, room_rows)

    _servers(rng, estate, room_rows, room_weight)
    _systems(rng, estate, dept_codes, dept_names)
    _cloud(rng, estate)
    _expansions(estate, until)
    return estate


def _servers(rng: random.Random, estate: SampleEstate, rooms: list[list[Any]], weights: list[float]) -> None:
    scale, until = estate.scale, estate.until
    total_weight = sum(weights)
    counts = [max(1, int(scale.servers * w / total_weight)) for w in weights]
    for i in range(scale.servers - sum(counts)):
        counts[i % len(counts)] += 1
    header = ["主机名", "所在机房", "所属部门", "品牌型号", "CPU核数", "内存", "存储", "操作系统", "购置日期",
              "功率(W)",
              "IP地址", "是否虚拟化宿主机"]
    rows = []
    for room, count in zip(rooms, counts, strict=True):
        code, owner = room[0], room[2]
        for k in range(count):
            hypervisor = rng.random() < 0.15
            cores = rng.choice((16, 24, 32, 48, 64)) if hypervisor else rng.choice((4, 8, 8, 12, 16, 16, 24, 32))
            memory = rng.choice((128, 256, 512)) if hypervisor else rng.choice((8, 16, 16, 32, 32, 64, 64, 128))
            storage = rng.choice((600, 1200, 1800, 2048, 4096, 8192))
            server = _Server(f"{code.lower()}-srv{k + 1:03d}", code, owner, cores, memory, storage, hypervisor)
            estate.servers.append(server)
            bought = until - dt.timedelta(days=rng.randint(2 * 365, 12 * 365))
            rows.append([
                server.hostname, code, owner, rng.choice(n.SERVER_MODELS), cores, _size_text(rng, memory),
                _size_text(rng, storage), rng.choice(n.OPERATING_SYSTEMS), _date_text(rng, bought),
                rng.randint(35, 75) * 10 if rng.random() < 0.6 else "",
                f"10.{int(owner[1:]) % 250}.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
                _yes_no(rng, hypervisor),
            ])
    estate.tables["servers"] = (header, rows)


def _systems(rng: random.Random, estate: SampleEstate, dept_codes: list[str], dept_names: list[str]) -> None:
    scale, until = estate.scale, estate.until
    by_dept: dict[str, list[_Server]] = {}
    for server in estate.servers:
        by_dept.setdefault(server.department, []).append(server)
    share = {d: len(by_dept.get(d, [])) for d in dept_codes}
    total = sum(share.values())
    quota = {d: max(1, round(scale.systems * c / total)) if c else 0 for d, c in share.items()}
    while sum(quota.values()) > scale.systems:
        biggest = max(quota, key=lambda d: quota[d])
        quota[biggest] -= 1
    while sum(quota.values()) < scale.systems:
        quota[rng.choice([d for d in dept_codes if share[d]])] += 1

    header = ["系统编码", "系统名称", "所属部门", "是否涉密", "等保级别", "网络", "运行状态", "日均用户", "部署服务器",
              "可停机窗口", "是否容器化", "专用硬件", "经费来源", "审批部门", "审批时间", "共享类型", "密级"]
    rows: list[list[Any]] = []
    systems_of_dept: dict[str, list[tuple[str, bool]]] = {}
    hubs: list[str] = []
    number = 0
    for dept, name in zip(dept_codes, dept_names, strict=True):
        pool = list(by_dept.get(dept, []))
        rng.shuffle(pool)
        hypervisors = [s for s in pool if s.hypervisor] or pool
        short = name[1:] if name.startswith("市") else name
        sensitive = any(marker in name for marker in n.SENSITIVE_MARKERS)
        used_names: set[str] = set()
        for k in range(quota[dept]):
            number += 1
            code = f"S{number:05d}"
            kind = rng.choice(n.SYSTEM_TYPES)
            if k == 0 and ("数据管理" in name or "大数据" in name or "政府办公室" in name):
                kind = n.HUB_SYSTEM_TYPES[len(hubs) % len(n.HUB_SYSTEM_TYPES)]
            system_name = f"{short}{kind}"
            while system_name in used_names:
                system_name = f"{system_name[:-2] if system_name.endswith('期)') else system_name}(二期)"
                if system_name in used_names:
                    system_name = f"{short}{kind}-{k + 1}"
            used_names.add(system_name)
            if kind in n.HUB_SYSTEM_TYPES:
                hubs.append(code)
            size = min(len(pool), rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 6))) if pool else 0
            placed = [pool.pop() for _ in range(size)]
            if not placed and hypervisors:
                placed = [rng.choice(hypervisors)]
            classified = rng.random() < (0.35 if sensitive else 0.05)
            zombie = not classified and rng.random() < 0.10
            for server in placed:
                server.systems.append(code)
                if zombie and server.profile == "normal" and len(server.systems) == 1:
                    server.profile = "zombie"
                elif not zombie:
                    server.profile = "hot" if rng.random() < 0.05 else "normal"
            mlps = 3 if classified else rng.choices((1, 2, 3, 4), weights=(4, 70, 25, 1))[0]
            network = "政务内网" if classified else _weighted(rng, n.NETWORKS[:3])
            retired = not zombie and rng.random() < 0.02
            rows.append([
                code, system_name, dept, _yes_no(rng, classified),
                rng.choice((str(mlps), f"{'一二三四'[mlps - 1]}级", f"第{'一二三四'[mlps - 1]}级")), network,
                "停用" if retired else "运行",
                0 if zombie else int(rng.lognormvariate(math.log(200), 1.5)),
                "、".join(s.hostname for s in placed),
                rng.choice(n.DOWNTIME_WINDOWS) if rng.random() < 0.7 else "",
                _yes_no(rng, rng.random() < 0.12), _yes_no(rng, rng.random() < 0.03),
                rng.choice(n.FUNDING), rng.choice(("市发展和改革委员会", "市政务服务和数据管理局", "本部门")),
                _date_text(rng, dt.date(until.year - rng.randint(1, 18), rng.randint(1, 12), rng.randint(1, 28))),
                _weighted(rng, n.SHARING),
                _secrecy(code) if classified else "",
            ])
            systems_of_dept.setdefault(dept, []).append((code, zombie))
    estate.tables["systems"] = (header, rows)
    _dependencies(rng, estate, systems_of_dept, hubs)
    _assessments(estate, rows, until)


def _assessments(estate: SampleEstate, systems: list[list[Any]], until: dt.date) -> None:
    """等保测评: most systems of level 3 or 4 assessed in the last 20 months, so some are overdue, and one
    in five of level 2 (from the code, so the random stream stays as it was)."""
    rows: list[list[Any]] = []
    for code, *_, level_text in ([s[0], s[4]] for s in systems):
        level = next(k for k, (digit, word) in enumerate(zip("1234", "一二三四", strict=True), start=1)
                     if digit in str(level_text) or word in str(level_text))
        mark = zlib.crc32(f"mlps-{code}".encode())
        if level < 2 or (level == 2 and mark % 5) or (level >= 3 and mark % 10 == 0):
            continue
        assessed = until - dt.timedelta(days=30 + mark % 580)
        rows.append([code, f"第{'一二三四'[level - 1]}级", assessed.isoformat(), "符合" if mark % 7 else "基本符合",
                     "山东省网络安全等级保护测评中心"])
    estate.tables["assessments"] = (["系统编码", "等保级别", "测评日期", "测评结论", "测评机构"], rows)


def _secrecy(code: str) -> str:
    """A classified system's 密级: mostly 秘密, one in four 机密 (from the code, so the random stream and
    every other figure of the sample stay as they were)."""
    return "机密" if zlib.crc32(code.encode()) % 4 == 0 else "秘密"


def _dependencies(rng: random.Random, estate: SampleEstate, systems_of_dept: dict[str, list[tuple[str, bool]]],
                  hubs: list[str]) -> None:
    rows: list[list[Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(system: str, depends_on: str) -> None:
        if system != depends_on and (system, depends_on) not in seen:
            seen.add((system, depends_on))
            rows.append([system, depends_on, rng.choice(n.DEPENDENCY_KINDS), _yes_no(rng, rng.random() < 0.25)])

    for systems in systems_of_dept.values():
        for index, (code, zombie) in enumerate(systems):
            if zombie or index == 0:
                continue
            # Depend on earlier systems of the department only, so declared dependencies form no cycle.
            if rng.random() < 0.5:
                for _ in range(rng.choice((1, 1, 2))):
                    add(code, systems[rng.randrange(index)][0])
            if hubs and rng.random() < 0.1:
                hub = rng.choice(hubs)
                if hub < code:
                    add(code, hub)
    estate.tables["dependencies"] = (["系统编码", "依赖系统编码", "类型", "紧耦合"], rows)


def _expansions(estate: SampleEstate, until: dt.date) -> None:
    """The city's budgeted expansion of its main zone (扩容计划): a quarter more of everything, in service
    five months after the estate's date (no random draw, so every other figure of the sample stays)."""
    _, rows = estate.tables["platforms"]
    main = next(row for row in rows if row[0] == "政务云-OpenStack一区")
    memory_gb, storage_tb = int(str(main[4]).rstrip("G")), int(str(main[5]).rstrip("T"))
    estate.tables["expansions"] = (["平台名称", "投用日期", "新增vCPU", "新增内存", "新增存储", "说明"], [
        [main[0], (until + dt.timedelta(days=150)).isoformat(), int(main[3]) // 4, f"{memory_gb // 4}G",
         f"{max(1, storage_tb // 4)}T", "政务云二期扩容（已立项）"]])


def _cloud(rng: random.Random, estate: SampleEstate) -> None:
    # Sized from the estate, as a city's cloud after its planned expansion: already >75 % allocated
    # (allocated ÷ (physical vCPUs × overcommit), as everywhere in Shangyun), with room for the department
    # systems still to come (share of the estate per platform). Unit prices are DOMAIN.md's proxies.
    cores = sum(s.cores for s in estate.servers)
    memory_gb = sum(s.memory_gb for s in estate.servers)
    storage_gb = sum(s.storage_gb for s in estate.servers)
    platforms = [
        ("政务云-OpenStack一区", "openstack", 3, 0.65, 2.0),
        ("政务云-OpenStack互联网区", "openstack", 2, 0.25, 2.0),
        ("政务云-容器平台", "kubernetes", 3, 0.4, 1.0),
    ]
    zones = {"政务云-OpenStack互联网区": "互联网区"}  # the others serve the government extranet
    platform_rows, flavor_rows = [], []
    for name, kind, mlps, share, ratio in platforms:
        total = int(cores * share * 1.5)
        memory, storage = int(memory_gb * share * 3.5), int(storage_gb * share * 3.5)
        used = rng.uniform(0.72, 0.80)  # real city clouds report >75 % allocated
        platform_rows.append([name, kind, f"第{'一二三四'[mlps - 1]}级", total, f"{memory}G", f"{storage // 1024}T",
                              int(allocatable_vcpus(total, ratio) * used), f"{int(memory * used)}G",
                              f"{int(storage * used * 0.9)}G",
                              ratio, CPU_PRICE_MONTH, RAM_GB_PRICE_MONTH, DISK_GB_PRICE_MONTH])
        # compute 1:2, general 1:4, memory 1:8 and large-memory 1:16 (government servers run at 5–15 %
        # CPU but 30–60 % memory, so right-sized demand is memory-heavy)
        families = (("c", 2), ("g", 4), ("m", 8), ("e", 16)) if kind == PlatformKind.OPENSTACK else (("pod", 2),)
        for family, ratio_gb in families:
            for vcpu in (1, 2, 4, 8, 16, 32):
                if (family == "m" and vcpu > 16) or (family == "e" and not 2 <= vcpu <= 16):
                    continue
                mem = vcpu * ratio_gb
                disk = 100 if kind == PlatformKind.OPENSTACK else 20
                price = vcpu * CPU_PRICE_MONTH + mem * RAM_GB_PRICE_MONTH + disk * DISK_GB_PRICE_MONTH
                flavor_rows.append([name, f"{family}.{vcpu}c{mem}g", vcpu, f"{mem}G", f"{disk}G", f"{price:.0f}"])
    for row in platform_rows:
        row.extend(["", zones.get(str(row[0]), "政务外网")])  # 分级保护等级: the cloud holds no classified system
    # The government intranet's protected platform (政务内网, 分级保护 approved up to 机密): classified systems
    # move there, by people; not the cloud, so no flavors and no unit prices.
    intranet_cores = max(64, int(cores * 0.15))
    platform_rows.append(["政务内网-涉密平台", "intranet", "第三级", intranet_cores, f"{int(memory_gb * 0.5)}G",
                          f"{max(1, int(storage_gb * 0.5) // 1024)}T", int(intranet_cores * 0.4), "", "", 1.0, "", "",
                          "", "机密", "政务内网"])
    estate.tables["platforms"] = (["平台名称", "类型", "等保级别", "vCPU总量", "内存总量", "存储总量", "已分配vCPU",
                                   "已分配内存", "已分配存储", "超分比", "vCPU月单价(元/核/月)",
                                   "内存月单价(元/GB/月)", "存储月单价(元/GB/月)", "分级保护等级", "网络区域"],
                                  platform_rows)
    estate.tables["flavors"] = (["平台名称", "规格名称", "vCPU", "内存", "磁盘", "月单价(元/月)"], flavor_rows)


def _diurnal(hour: int, weekday: int) -> float:
    """Relative load by hour: office hours high, nights and weekends low."""
    if weekday >= 5:
        return 0.3
    if 9 <= hour <= 11 or 14 <= hour <= 17:
        return 1.0
    if 8 <= hour <= 18:
        return 0.7
    return 0.2


def iter_samples(estate: SampleEstate) -> Iterator[list[Any]]:
    """Utilization rows (hostname, time, CPU %, memory %, disk used GB), deterministic per seed."""
    rng = random.Random(estate.seed * 7919 + 1)
    start = estate.until - dt.timedelta(days=estate.scale.days)
    for server in estate.servers:
        if server.profile == "zombie":
            cpu_base, memory_base = rng.uniform(0.008, 0.03), rng.uniform(0.015, 0.04)
        elif server.profile == "hot":
            cpu_base, memory_base = rng.uniform(0.45, 0.7), rng.uniform(0.6, 0.85)
        else:
            cpu_base, memory_base = rng.uniform(0.05, 0.2), rng.uniform(0.2, 0.6)
        disk = server.storage_gb * rng.uniform(0.1, 0.6)
        amplitude = 0.1 if server.profile == "zombie" else 0.8
        for day in range(estate.scale.days):
            date = start + dt.timedelta(days=day)
            disk *= 1.0 + rng.uniform(0.0, 0.003)
            recent = day >= estate.scale.days - estate.scale.hourly_days
            hours = (range(24) if recent else range(0, 24, 6)) if estate.scale.hourly else (10,)
            for hour in hours:
                shape = 1.0 + amplitude * (_diurnal(hour, date.weekday()) - 0.5)
                cpu = min(1.0, max(0.0, cpu_base * shape * rng.uniform(0.85, 1.15)))
                memory = min(1.0, max(0.0, memory_base * (1 + 0.1 * (shape - 1)) * rng.uniform(0.97, 1.03)))
                stamp = f"{date.isoformat()}T{hour:02d}:00:00"
                yield [server.hostname, stamp, f"{cpu * 100:.2f}", f"{memory * 100:.2f}", f"{disk:.1f}"]


def write_estate(estate: SampleEstate, out: Path) -> dict[str, int]:
    """Write the survey CSV files (UTF-8 with BOM, as Excel saves them) and samples.csv into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for sheet, (header, rows) in estate.tables.items():
        with (out / f"{sheet}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written[sheet] = len(rows)
    with (out / "samples.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["主机名", "时间", "CPU利用率(%)", "内存利用率(%)", "磁盘已用(GB)"])
        count = 0
        for row in iter_samples(estate):
            writer.writerow(row)
            count += 1
        written["samples"] = count
    return written
