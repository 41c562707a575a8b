"""Plans as xlsx workbooks for the teams who work in spreadsheets: items per wave, systems not
migrated, rooms with their closing wave, and the savings timeline for finance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl


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
