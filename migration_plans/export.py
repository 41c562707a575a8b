"""Plans as xlsx workbooks for the teams who work in spreadsheets: items per wave, systems not
migrated, rooms with their closing wave, and the savings timeline for finance."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import openpyxl

from migration_plans.finance import PARTS, SavingsReport


def _item_row(item: dict[str, Any], wave: Any) -> list[Any]:
    target = item.get("target") or {}
    return [wave, item["system"], item["name"], item["strategy"], target.get("platform_name"), target.get("flavor"),
            target.get("count"), target.get("vcpus"), target.get("memory_gb"), target.get("disk_gb"),
            target.get("monthly_cny"), item.get("move_group"), ",".join(item["servers"]), item["reason_zh"],
            item["reason"], "; ".join(item.get("flags", []))]


ITEM_HEADER = ["wave", "system", "name", "strategy", "platform", "flavor", "count", "vcpus", "memory_gb", "disk_gb",
               "monthly_cny", "move_group", "servers", "reason_zh", "reason_en", "flags"]


def _savings_sheets(workbook: openpyxl.Workbook, document: dict[str, Any]) -> None:
    ends = {w["index"]: w["end"] for w in document["waves"]}
    sheet = workbook.create_sheet("savings")
    sheet.append(["wave", "wave_end", "rooms_closed", "room_cost_stopped_cny_per_year", "cloud_cost_cny_per_year",
                  "net_cny_per_year"])
    for row in document["savings"]["by_wave"]:
        sheet.append([row["wave"], ends.get(row["wave"]), ",".join(row["rooms_closed"]), row["cumulative_annual_cny"],
                      row["cloud_annual_cny"], row["net_annual_cny"]])
    rooms = workbook.create_sheet("rooms")
    rooms.append(["room", "annual_cost_cny", "closes_after_wave", "closes_on", "blocked_by"])
    for room in document["rooms"]:
        wave = room["closes_after_wave"]
        rooms.append([room["room"], room["annual_cost_cny"], wave, ends.get(wave) if wave else None,
                      ",".join(room["blocked_by"])])


def plan_workbook(document: dict[str, Any], path: Path) -> None:
    """Write the plan: items by wave, not migrated, rooms, savings."""
    workbook = openpyxl.Workbook(write_only=True)
    items = workbook.create_sheet("items")
    items.append(ITEM_HEADER)
    for wave in document["waves"]:
        for item in wave["items"]:
            items.append(_item_row(item, wave["index"]))
    kept = workbook.create_sheet("not_migrated")
    kept.append(ITEM_HEADER)
    for item in document["not_migrated"]:
        kept.append(_item_row(item, None))
    _savings_sheets(workbook, document)
    workbook.save(path)


def savings_workbook(document: dict[str, Any], path: Path) -> None:
    """Write the savings timeline and the rooms' closing waves."""
    workbook = openpyxl.Workbook(write_only=True)
    _savings_sheets(workbook, document)
    workbook.save(path)


def finance_workbook(report: SavingsReport, path: Path | BinaryIO) -> None:
    """The savings report for finance: a sheet per room and a sheet per fiscal year. Cost parts taken
    from defaults (placeholders) are grey italic and their basis column says ``default``."""
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    rooms = workbook.active
    assert rooms is not None
    rooms.title = "rooms 机房"
    header = ["room 机房", "name 名称", "department 部门", "status 状态"]
    for part in PARTS:
        header += [f"{part} CNY/year", f"{part} basis 依据"]
    header += ["annual cost 年成本", "closes after wave 关停批次", "closes on 关停日期", "cloud cost added 新增云成本",
               "net saving 净节约", "blocked by 阻碍"]
    rooms.append(header)
    assumed = Font(italic=True, color="808080")
    for r in report.rooms:
        row: list[Any] = [r.code, r.name, r.department, r.status]
        for part in PARTS:
            row += list(r.parts[part])
        row += [r.annual_cost_cny, r.closes_after_wave, r.closes_on, r.cloud_cost_cny, r.net_saving_cny,
                ",".join(r.blocked_by)]
        rooms.append(row)
        for k, part in enumerate(PARTS):
            if r.parts[part][1] == "default":
                rooms.cell(row=rooms.max_row, column=5 + 2 * k).font = assumed
    rooms.freeze_panes = "B2"
    years = workbook.create_sheet("fiscal years 年度")
    years.append(["year 年度", "baseline 基线成本", "room cost paid 机房支出", "cloud cost 云服务费", "saving 节约",
                  "rooms closed this year 本年关停"])
    for y in report.years:
        years.append([y.year, y.baseline_cny, y.room_cost_paid_cny, y.cloud_cost_cny, y.saving_cny,
                      ",".join(y.rooms_closed)])
    years.append([])
    years.append(["A room closed in year N is paid through N and stops costing from N+1. "
                  "在N年关停的机房，N年仍需支付，自N+1年起不再支付。"])
    workbook.save(path)
