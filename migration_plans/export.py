"""Plans as xlsx workbooks for the teams who work in spreadsheets: items per wave with their sizing,
systems not migrated, and the savings for finance (fiscal years, rooms, assumptions) in 万元, the
same figures every other surface shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
from openpyxl.styles import Font

from inventory.views.cells import as_text_cells
from migration_plans.planning.savings import PARTS, SavingsModel

ITEM_HEADER = ["wave", "system", "name", "strategy", "platform", "flavor", "count", "vcpus", "memory_gb", "disk_gb",
               "instances", "demand_vcpus", "demand_memory_gb", "allocated_vcpus", "allocated_memory_gb",
               "waste_vcpus_pct", "waste_memory_gb_pct", "monthly_cny (元/月)", "move_group", "servers", "reason_zh",
               "reason_en", "flags"]
YEAR_HEADER = ["year 年度", "baseline 基线成本 (万元)", "room cost paid 机房支出 (万元)",
               "of which lines under contract 其中线路合同 (万元)", "hardware refresh due 设备更新 (万元)",
               "cloud cost 云服务费 (万元)", "hosting 托管费 (万元)", "net saving 净节约 (万元)",
               "rooms closing this year 本年关停"]


def _item_row(item: dict[str, Any], wave: Any) -> list[Any]:
    target = item.get("target") or {}
    demand, allocated, waste = (target.get(k) or {} for k in ("demand", "allocated", "waste_pct"))
    instances = " + ".join(f"{g['flavor']}×{g['count']}" for g in target.get("instances") or [])

    return [wave, item["system"], item["name"], item["strategy"], target.get("platform_name"), target.get("flavor"),
            target.get("count"), target.get("vcpus"), target.get("memory_gb"), target.get("disk_gb"), instances or None,
            demand.get("vcpus"), demand.get("memory_gb"), allocated.get("vcpus"), allocated.get("memory_gb"),
            waste.get("vcpus"), waste.get("memory_gb"), target.get("monthly_cny"), item.get("move_group"),
            ",".join(item["servers"]), item["reason_zh"], item["reason"], "; ".join(item.get("flags", []))]


def _finance_sheets(workbook: openpyxl.Workbook, model: SavingsModel, status: dict[str, str]) -> None:
    """Fiscal years, rooms and assumptions; cost parts from placeholders are grey italic ("default")."""
    years = workbook.create_sheet("fiscal years 年度")
    years.append([model.headline("zh")])
    years.append([model.headline("en")])
    years.append(YEAR_HEADER)
    for y in model.years:
        years.append([y.year, y.baseline_wan, y.room_cost_paid_wan, y.lines_carried_wan, y.refresh_due_wan,
                      y.cloud_cost_wan, y.hosting_cost_wan, y.net_saving_wan, ",".join(y.rooms_closed)])
    years.append(["total 合计", None, None, None, None, None, None, model.total_net_wan])
    years.append([])
    years.append(["A room closed in year N is paid through N and stops costing from N+1. "
                  "在N年关停的机房，N年仍需支付，自N+1年起不再支付。"])
    rooms = workbook.create_sheet("rooms 机房")
    header = ["room 机房", "name 名称", "department 部门", "status now 当前状态"]
    for part in PARTS:
        header += [f"{part} (万元/年)", f"{part} basis 依据"]
    header += ["annual cost 年成本 (万元/年)", "closes after wave 关停批次", "closes on 关停日期",
               "stops costing from FY 停止支付年度", "lines paid until 线路付至", "lines 线路说明",
               "cloud cost of its systems 迁出系统云成本 (万元/年)", "servers leaving 迁出服务器", "blocked by 阻碍"]
    rooms.append(header)
    assumed = Font(italic=True, color="808080")
    for r in model.rooms:
        row: list[Any] = [r.room, r.name, r.department, status.get(r.room, "")]
        for part in PARTS:
            row += list(r.parts.get(part, (None, "")))
        row += [r.annual_cost_wan, r.closes_after_wave, r.closes_on, r.stops_costing_from, r.lines_paid_until,
                r.lines_note_zh, r.cloud_cost_wan, r.servers_leaving, ",".join(r.blocked_by)]
        rooms.append(row)
        for k, part in enumerate(PARTS):
            if r.parts.get(part, (0, ""))[1] == "default":
                rooms.cell(row=rooms.max_row, column=5 + 2 * k).font = assumed
    rooms.freeze_panes = "B2"
    notes = workbook.create_sheet("assumptions 假设")
    notes.append(["assumption or warning 假设与提示", "中文"])
    for en, zh in zip(model.notes("en"), model.notes("zh"), strict=False):
        notes.append([en, zh])


def plan_workbook(document: dict[str, Any], path: Path) -> None:
    """Write the plan: items by wave, not migrated, and its savings."""
    workbook = openpyxl.Workbook()
    items = workbook.active
    assert items is not None
    items.title = "items"
    items.append(ITEM_HEADER)
    for wave in document["waves"]:
        for item in wave["items"]:
            items.append(_item_row(item, wave["index"]))
    kept = workbook.create_sheet("not_migrated")
    kept.append(ITEM_HEADER)
    for item in document["not_migrated"]:
        kept.append(_item_row(item, None))
    if document.get("finance"):
        _finance_sheets(workbook, SavingsModel.from_json(document["finance"]), {})
    as_text_cells(workbook).save(path)


def finance_workbook(model: SavingsModel, status: dict[str, str], path: Path | BinaryIO) -> None:
    """The savings for finance: fiscal years, rooms (with their status now) and assumptions, in 万元."""
    workbook = openpyxl.Workbook()
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    _finance_sheets(workbook, model, status)
    as_text_cells(workbook).save(path)
