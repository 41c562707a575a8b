"""The survey workbook's vocabulary: sheets, columns, their Chinese and English names and units.

Names match after folding full-width to half-width, case, spaces, underscores, hyphens and a
trailing ``*``; a bracketed suffix such as ``内存(GB)`` or ``年租金(万元)`` names the unit of bare values.
The English names are the ones ``shangyun export`` writes (FORMATS.md §1).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class SheetKind(StrEnum):
    DEPARTMENTS = "departments"
    ROOMS = "rooms"
    SERVERS = "servers"
    SYSTEMS = "systems"
    DEPENDENCIES = "dependencies"
    PLATFORMS = "platforms"
    FLAVORS = "flavors"
    ASSESSMENTS = "assessments"
    EXPANSIONS = "expansions"
    SAMPLES = "samples"


class ValueKind(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    SIZE = "size"
    BOOL = "bool"
    MLPS = "mlps"
    DATE = "date"
    DATETIME = "datetime"
    LIST = "list"
    FRACTION = "fraction"
    SYSTEM_STATUS = "system_status"
    PLATFORM_KIND = "platform_kind"
    SECRECY = "secrecy"
    NETWORK_ZONE = "network_zone"


# Units a bracket suffix may name, as factors to the stored unit.
SIZE_UNITS = {"": 1.0, "gb": 1.0, "g": 1.0, "gib": 1.0, "mb": 1 / 1024, "m": 1 / 1024, "mib": 1 / 1024,
              "tb": 1024.0, "t": 1024.0, "tib": 1024.0}
MONEY_UNITS = {"": 1.0, "元": 1.0, "cny": 1.0, "元/年": 1.0, "cny/year": 1.0, "万元": 10000.0, "万": 10000.0,
               "万元/年": 10000.0}
MONTHLY_MONEY_UNITS = {"": 1.0, "元": 1.0, "cny": 1.0, "元/月": 1.0, "cny/month": 1.0}
UNIT_PRICE_UNITS = MONTHLY_MONEY_UNITS | {f"{money}/{unit}/{month}": 1.0 for money in ("元", "cny")
                                         for unit in ("gb", "g", "核", "vcpu", "个") for month in ("月", "month")}
POWER_UNITS = {"": 1.0, "w": 1.0, "瓦": 1.0, "kw": 1000.0}
LOAD_UNITS = {"": 1.0, "kw": 1.0, "千瓦": 1.0, "w": 0.001}
AREA_UNITS = {"": 1.0, "m2": 1.0, "m²": 1.0, "㎡": 1.0, "平方米": 1.0, "平米": 1.0}
TARIFF_UNITS = {"": 1.0, "元/kwh": 1.0, "元/度": 1.0, "cny/kwh": 1.0, "元": 1.0}
PERCENT_UNITS = {"": 1.0, "%": 100.0}
PLAIN = {"": 1.0}


@dataclass(frozen=True)
class ColumnSpec:
    field: str
    zh: str
    en: str
    kind: ValueKind
    required: bool = False
    units: dict[str, float] = dataclasses.field(default_factory=lambda: PLAIN)


@dataclass(frozen=True)
class SheetSpec:
    kind: SheetKind
    zh: str
    columns: tuple[ColumnSpec, ...]

    @property
    def en(self) -> str:
        return self.kind.value


def _c(field_: str, zh: str, en: str, kind: ValueKind, required: bool = False,
       units: dict[str, float] = PLAIN) -> ColumnSpec:
    return ColumnSpec(field_, zh, en, kind, required, units)


T, INT, F, S, B = ValueKind.TEXT, ValueKind.INT, ValueKind.FLOAT, ValueKind.SIZE, ValueKind.BOOL

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(SheetKind.DEPARTMENTS, "部门", (
        _c("code", "部门编码", "code", T, True),
        _c("name", "部门名称", "name", T, True),
        _c("parent", "上级部门", "parent", T),
    )),
    SheetSpec(SheetKind.ROOMS, "机房", (
        _c("code", "机房编码", "code", T, True),
        _c("name", "机房名称", "name", T, True),
        _c("department", "所属部门", "department", T, True),
        _c("address", "地址", "address", T),
        _c("area_m2", "面积", "area_m2", F, units=AREA_UNITS),
        _c("racks", "机柜数", "racks", INT),
        _c("it_load_kw", "IT负载", "it_load_kw", F, units=LOAD_UNITS),
        _c("pue", "PUE", "pue", F),
        _c("built_year", "建成年份", "built_year", INT),
        _c("rent_cny", "年租金", "rent_cny", F, units=MONEY_UNITS),
        _c("maintenance_cny", "年运维费", "maintenance_cny", F, units=MONEY_UNITS),
        _c("staff_cny", "年人员费", "staff_cny", F, units=MONEY_UNITS),
        _c("lines_cny", "年线路费", "lines_cny", F, units=MONEY_UNITS),
        _c("tariff_cny_kwh", "电价", "tariff_cny_kwh", F, units=TARIFF_UNITS),
        _c("lines_contract_end", "线路合同到期", "lines_contract_end", ValueKind.DATE),
    )),
    SheetSpec(SheetKind.SERVERS, "服务器", (
        _c("hostname", "主机名", "hostname", T, True),
        _c("room", "所在机房", "room", T, True),
        _c("department", "所属部门", "department", T),
        _c("model", "品牌型号", "model", T),
        _c("cpu_cores", "CPU核数", "cpu_cores", INT, True),
        _c("memory_gb", "内存", "memory", S, True, SIZE_UNITS),
        _c("storage_gb", "存储", "storage", S, units=SIZE_UNITS),
        _c("os", "操作系统", "os", T),
        _c("purchase_date", "购置日期", "purchase_date", ValueKind.DATE),
        _c("power_w", "功率", "power_w", F, units=POWER_UNITS),
        _c("ip", "IP地址", "ip", T),
        _c("hypervisor", "是否虚拟化宿主机", "hypervisor", B),
    )),
    SheetSpec(SheetKind.SYSTEMS, "信息系统", (
        _c("code", "系统编码", "code", T, True),
        _c("name", "系统名称", "name", T, True),
        _c("department", "所属部门", "department", T, True),
        _c("classified", "是否涉密", "classified", B, True),
        _c("secrecy_level", "密级", "secrecy_level", ValueKind.SECRECY),
        _c("mlps_level", "等保级别", "mlps_level", ValueKind.MLPS),
        _c("network", "网络", "network", T),
        _c("status", "运行状态", "status", ValueKind.SYSTEM_STATUS),
        _c("daily_users", "日均用户", "daily_users", INT),
        _c("servers", "部署服务器", "servers", ValueKind.LIST),
        _c("downtime_window", "可停机窗口", "downtime_window", T),
        _c("containerized", "是否容器化", "containerized", B),
        _c("special_hardware", "专用硬件", "special_hardware", B),
        _c("funding", "经费来源", "funding", T),
        _c("approved_by", "审批部门", "approved_by", T),
        _c("approved_at", "审批时间", "approved_at", ValueKind.DATE),
        _c("sharing", "共享类型", "sharing", T),
    )),
    SheetSpec(SheetKind.DEPENDENCIES, "依赖关系", (
        _c("system", "系统编码", "system", T, True),
        _c("depends_on", "依赖系统编码", "depends_on", T, True),
        _c("kind", "类型", "kind", T),
        _c("tight", "紧耦合", "tight", B),
    )),
    SheetSpec(SheetKind.ASSESSMENTS, "等保测评", (
        _c("system", "系统编码", "system", T, True),
        _c("level", "等保级别", "level", ValueKind.MLPS, True),
        _c("assessed_on", "测评日期", "assessed_on", ValueKind.DATE, True),
        _c("result", "测评结论", "result", T),
        _c("assessor", "测评机构", "assessor", T),
    )),
    SheetSpec(SheetKind.PLATFORMS, "云平台", (
        _c("name", "平台名称", "name", T, True),
        _c("kind", "类型", "kind", ValueKind.PLATFORM_KIND, True),
        _c("mlps_level", "等保级别", "mlps_level", ValueKind.MLPS, True),
        _c("vcpus", "vCPU总量", "vcpus", INT, True),
        _c("memory_gb", "内存总量", "memory", S, True, SIZE_UNITS),
        _c("storage_gb", "存储总量", "storage", S, True, SIZE_UNITS),
        _c("allocated_vcpus", "已分配vCPU", "allocated_vcpus", INT),
        _c("allocated_memory_gb", "已分配内存", "allocated_memory", S, units=SIZE_UNITS),
        _c("allocated_storage_gb", "已分配存储", "allocated_storage", S, units=SIZE_UNITS),
        _c("cpu_ratio", "超分比", "cpu_ratio", F),
        _c("secrecy_level", "分级保护等级", "secrecy_level", ValueKind.SECRECY),
        _c("network_zone", "网络区域", "network_zone", ValueKind.NETWORK_ZONE),
        _c("vcpu_monthly_cny", "vCPU月单价", "vcpu_monthly_cny", F, units=UNIT_PRICE_UNITS),
        _c("memory_gb_monthly_cny", "内存月单价", "memory_gb_monthly_cny", F, units=UNIT_PRICE_UNITS),
        _c("storage_gb_monthly_cny", "存储月单价", "storage_gb_monthly_cny", F, units=UNIT_PRICE_UNITS),
    )),
    SheetSpec(SheetKind.FLAVORS, "规格", (
        _c("platform", "平台名称", "platform", T, True),
        _c("name", "规格名称", "name", T, True),
        _c("vcpus", "vCPU", "vcpus", INT, True),
        _c("memory_gb", "内存", "memory", S, True, SIZE_UNITS),
        _c("disk_gb", "磁盘", "disk", S, units=SIZE_UNITS),
        _c("monthly_cny", "月单价", "monthly_cny", F, units=MONTHLY_MONEY_UNITS),
    )),
    SheetSpec(SheetKind.EXPANSIONS, "扩容计划", (
        _c("platform", "平台名称", "platform", T, True),
        _c("ready_on", "投用日期", "ready_on", ValueKind.DATE, True),
        _c("vcpus", "新增vCPU", "vcpus", INT),
        _c("memory_gb", "新增内存", "memory", S, units=SIZE_UNITS),
        _c("storage_gb", "新增存储", "storage", S, units=SIZE_UNITS),
        _c("note", "说明", "note", T),
    )),
    SheetSpec(SheetKind.SAMPLES, "利用率", (
        _c("hostname", "主机名", "hostname", T, True),
        _c("at", "时间", "at", ValueKind.DATETIME, True),
        _c("cpu_util", "CPU利用率", "cpu_util", ValueKind.FRACTION, True, PERCENT_UNITS),
        _c("memory_util", "内存利用率", "memory_util", ValueKind.FRACTION, True, PERCENT_UNITS),
        _c("disk_used_gb", "磁盘已用", "disk_used", S, units=SIZE_UNITS),
    )),
)

SHEETS_BY_KIND = {sheet.kind: sheet for sheet in SHEETS}
_SUFFIX_RE = re.compile(r"^(.*?)\(([^()]*)\)$")
_FOLD_RE = re.compile(r"[\s_\-*]+")


def fold_name(text: str) -> str:
    """Fold a sheet or column name for matching: NFKC, lower case, no spaces/underscores/hyphens/``*``."""
    return _FOLD_RE.sub("", unicodedata.normalize("NFKC", text).lower())


def split_header(text: str) -> tuple[str, str]:
    """Split ``内存(GB)`` into the folded name ``内存`` and the folded unit ``gb``."""
    folded = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    match = _SUFFIX_RE.match(folded)
    if match:
        return fold_name(match.group(1)), match.group(2).strip()
    return fold_name(folded), ""


_SHEET_NAMES = {fold_name(name): sheet for sheet in SHEETS for name in (sheet.zh, sheet.en)}


def match_sheet(name: str) -> SheetSpec | None:
    """The sheet spec whose Chinese or English name matches ``name``, if any."""
    return _SHEET_NAMES.get(fold_name(name))


def column_index(sheet: SheetSpec) -> dict[str, ColumnSpec]:
    """Folded column name (Chinese and English) → column spec, for one sheet."""
    return {fold_name(name): col for col in sheet.columns for name in (col.zh, col.en)}
