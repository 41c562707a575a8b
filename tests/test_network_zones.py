"""Network zones (issue 16 §2): a system is placed on a platform of its own network's zone — 互联网 on a
互联网区 platform, 政务外网 on the extranet, a department 专网 folded into the extranet with the seed rule as
its reason — and every plan item says its zone."""

from __future__ import annotations

import datetime as dt

from migration_plans.planning import model as m
from migration_plans.planning.document import plan_document
from migration_plans.planning.planner import plan
from tests.test_intranet import _server

EXPECTED = {  # system: (network in the survey, platform it must land on, zone) — by the rule, by hand
    "S1": ("互联网", "云-互联网区", "internet"),
    "S2": ("政务外网", "云-外网", "extranet"),
    "S3": ("专网", "云-外网", "extranet"),
    "S4": (None, "云-外网", "extranet"),
}


def _estate(with_internet_zone: bool) -> m.Estate:
    flavors = (m.Flavor("g.8c16g", 8, 16.0, 100.0, 500.0),)
    platforms = [m.Platform("云-外网", "openstack", 3, 1000.0, 4000.0, 1e5, flavors, 40.0, 15.0, 0.5, None, "extranet")]
    if with_internet_zone:  # dearer, so only the zone rule can send S1 there
        platforms.append(m.Platform("云-互联网区", "openstack", 3, 1000.0, 4000.0, 1e5,
                                    (m.Flavor("g.8c16g", 8, 16.0, 100.0, 900.0),), 80.0, 30.0, 1.0, None, "internet"))
    systems = [m.SystemFacts(code, code, "D1", False, 2, "running", 100, False, False, None,
                             (_server(f"{code.lower()}-srv", f"R{code}"),), network=network)
               for code, (network, _, _) in EXPECTED.items()]
    return m.Estate(systems, [], {f"R{code}": m.RoomCost(f"R{code}", 1e5) for code in EXPECTED}, platforms)


def test_each_system_lands_in_its_network_zone() -> None:
    estate = _estate(with_internet_zone=True)
    result = plan(estate, m.PlanParams("t", dt.date(2026, 12, 7)))
    for code, (_, platform, zone) in EXPECTED.items():
        decision = result.decisions[code]
        assert decision.target is not None and decision.target.platform == platform, code
        assert decision.zone == zone
    folded = result.decisions["S3"]
    assert "专网系统并入政务外网" in folded.reason_zh and "各类业务专网均要向电子政务外网迁移" in folded.reason_en
    assert "network not given: 政务外网 assumed" in result.decisions["S4"].flags
    items = {i["system"]: i for w in plan_document(result, estate.systems)["waves"] for i in w["items"]}
    assert {code: items[code]["zone"] for code in EXPECTED} == {c: z for c, (_, _, z) in EXPECTED.items()}


def test_an_internet_system_without_an_internet_zone_platform_is_not_put_on_the_extranet() -> None:
    result = plan(_estate(with_internet_zone=False), m.PlanParams("t", dt.date(2026, 12, 7)))
    decision = result.decisions["S1"]
    assert decision.target is None and decision.strategy.value == "relocate"
    assert "declare a platform in 互联网区" in decision.reason_en
    assert result.decisions["S2"].target is not None and result.decisions["S2"].target.platform == "云-外网"
