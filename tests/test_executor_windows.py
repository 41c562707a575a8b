"""The executor honours downtime windows (issue 16 §6): a step that takes the system down (cutover,
switch-off) waits for a day the system's window allows, unless an operator approves going on outside it,
with a reason that is audited. The business day is pinned per command (SHANGYUN_TODAY)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import AuditLog, ItemState
from tests.conftest import run_cli_here
from tests.test_executor import _events, _items, _site, _wave_of, set_windows

MONDAY, SATURDAY = "2026-11-30", "2026-12-05"


def _on(day: str, *args: str, db_url: str) -> tuple[int, str, str]:
    previous = os.environ.get("SHANGYUN_TODAY")
    os.environ["SHANGYUN_TODAY"] = day
    try:
        result = run_cli_here(*args, db_url=db_url)
    finally:
        if previous is None:
            del os.environ["SHANGYUN_TODAY"]
        else:
            os.environ["SHANGYUN_TODAY"] = previous
    return result.returncode, result.stdout, result.stderr


def test_a_switch_off_waits_for_the_weekend_window_unless_approved_outside_it(planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "retire", at_least=2)
    weekend_only, no_window = codes[0], codes[1]
    set_windows(db_url, {weekend_only: "周末全天", no_window: None})
    site = _site(tmp_path, db_url)
    assert _on(MONDAY, "migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
               "--system", weekend_only, "--system", no_window, db_url=db_url)[0] == 0
    for code in (weekend_only, no_window):  # both reach the department's sign-off
        item = _items(db_url)[code]
        assert item.state == ItemState.WAITING and "signoff" in (item.error or "")
        assert _on(MONDAY, "migrate", "approve", str(item.id), "signoff", db_url=db_url)[0] == 0
    assert _on(MONDAY, "migrate", "resume", db_url=db_url)[0] == 0
    items = _items(db_url)
    assert items[no_window].state == ItemState.COMPLETED  # no window: any day
    waiting = items[weekend_only]
    assert waiting.state == ItemState.WAITING and "outside the downtime window (周末全天) today 2026-11-30" in (
        waiting.error or "") and "next allowed day is 2026-12-05" in (waiting.error or "")
    assert "switch_off" not in [e.step for e in _events(db_url, waiting.id or 0) if e.phase == "before"]

    status, _, err = _on(MONDAY, "migrate", "approve", str(waiting.id), "switch_off", "--outside-window",
                         db_url=db_url)
    assert status == 2 and "--reason" in err  # no reason, no approval
    assert _on(MONDAY, "migrate", "resume", db_url=db_url)[0] == 0
    assert _items(db_url)[weekend_only].state == ItemState.WAITING  # still outside its window

    reason = "机房断电检修，经部门同意提前关停"
    assert _on(MONDAY, "migrate", "approve", str(waiting.id), "switch_off", "--outside-window", "--reason", reason,
               db_url=db_url)[0] == 0
    assert _on(MONDAY, "migrate", "resume", db_url=db_url)[0] == 0
    assert _items(db_url)[weekend_only].state == ItemState.COMPLETED
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        audited = [a.after for a in session.exec(select(AuditLog).where(
            AuditLog.entity == "run_item", AuditLog.entity_id == str(waiting.id)))]
    engine.dispose()
    assert {"approved": "switch_off", "outside_window": True, "reason": reason} in audited


def test_inside_its_window_the_switch_off_goes_on_by_itself(planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "retire")
    set_windows(db_url, {codes[0]: "周末全天"})
    site = _site(tmp_path, db_url)
    status, _, err = _on(SATURDAY, "migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
                         "--system", codes[0], "--system", "S99999", db_url=db_url)
    assert status == 2 and "S99999" in err and "nothing left to do" in err  # a code not in the wave: no run
    assert _on(SATURDAY, "migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
               "--system", codes[0], db_url=db_url)[0] == 0
    item = _items(db_url)[codes[0]]
    assert _on(SATURDAY, "migrate", "approve", str(item.id), "signoff", db_url=db_url)[0] == 0
    assert _on(SATURDAY, "migrate", "resume", db_url=db_url)[0] == 0
    assert _items(db_url)[codes[0]].state == ItemState.COMPLETED
