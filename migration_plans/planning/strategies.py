"""Strategy rules: which of the five strategies each system gets, and why, in Chinese and English.

Rules are tried in order; the first that decides wins. Each is a small object with ``decide(system,
ctx)`` so an estate can add or reorder rules. Hard rules come first and cannot be overridden by
later ones: a classified (涉密) system never gets a cloud target — it moves to an intranet (政务内网) platform
approved for its secrecy level (strategy ``intranet``), or is ``retain`` until one is declared; a system
whose MLPS level is above every cloud platform's cannot go onto the cloud.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from inventory.models.enums import NetworkZone, PlatformKind, SecrecyLevel, Strategy, SystemStatus
from migration_plans.planning.model import Decision, PlanParams, Platform, SystemFacts, Target
from migration_plans.planning.sizing import MAX_INSTANCES, Demand, demand, fit

ASSUMED_MLPS = 2
ASSUMED_SECRECY = SecrecyLevel.SECRET  # a classified system whose 密级 the survey does not give: 机密
CLASSIFIED_STRATEGIES = frozenset({Strategy.RETAIN, Strategy.INTRANET})


@dataclass
class RuleContext:
    platforms: Sequence[Platform]
    params: PlanParams

    @property
    def max_cloud_mlps(self) -> int:
        return max((p.mlps_level for p in self.platforms if PlatformKind(p.kind).is_cloud), default=0)


class Rule(Protocol):
    name: str

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        """A decision for ``system``, or None to let the next rule decide."""
        ...


def level_of(system: SystemFacts) -> int:
    return system.mlps_level if system.mlps_level is not None else ASSUMED_MLPS


def system_zone(system: SystemFacts) -> tuple[NetworkZone, str | None]:
    """The zone a non-classified system is placed in, from the survey's 网络, and a note (English) when
    that is not simply what the survey says. 专网 and an unknown network go to the extranet."""
    text = (system.network or "").strip()
    if "互联网" in text or text.lower() == "internet":
        return NetworkZone.INTERNET, None
    if "专网" in text:
        return NetworkZone.EXTRANET, None  # the reason says why (seed rule), see _zoned
    if "内网" in text:
        return NetworkZone.EXTRANET, f"network {text} but not classified: placed on the extranet (政务外网)"
    if "外网" in text or text.lower() == "extranet":
        return NetworkZone.EXTRANET, None
    return NetworkZone.EXTRANET, ("network not given: 政务外网 assumed" if not text
                                  else f"network {text!r} not recognised: 政务外网 assumed")


def platform_zone(platform: Platform) -> NetworkZone:
    """The zone a platform serves (an intranet platform the intranet; an undeclared one the extranet)."""
    if platform.zone:
        return NetworkZone(platform.zone)
    return NetworkZone.INTRANET if platform.kind == PlatformKind.INTRANET else NetworkZone.EXTRANET


def targets(system: SystemFacts, ctx: RuleContext, kind: str) -> tuple[Demand, list[Target]]:
    """Every eligible platform of ``kind``'s cheapest fitting target, cheapest first: MLPS level at least
    the system's, in the system's network zone."""
    need = demand(system, ctx.params.comfort_factor, ctx.params.disk_headroom)
    zone = system_zone(system)[0]
    found = [t for p in ctx.platforms if p.kind == kind and p.mlps_level >= level_of(system)
             and platform_zone(p) is zone if (t := fit(need, p)) is not None]
    return need, sorted(found, key=lambda t: (t.monthly_cny, t.platform))


def _zoned(decision: Decision, system: SystemFacts) -> Decision:
    zone, note = system_zone(system)
    decision.zone = zone.value
    if "专网" in (system.network or ""):
        decision.reason_zh += "；专网系统并入政务外网（各类业务专网均要向电子政务外网迁移）"
        decision.reason_en += ("; a department private network (专网) folds into the government extranet "
                               "(seed rule: 各类业务专网均要向电子政务外网迁移)")
    if note:
        decision.flags.append(note)
    return decision


def _sized(decision: Decision, need: Demand, system: SystemFacts) -> Decision:
    _zoned(decision, system)
    decision.sized_from = need.sized_from
    measured = [s for s in system.servers if s.sizing_from is not None and s.last_day is not None]
    if measured:
        decision.sizing_window = (min(s.sizing_from for s in measured if s.sizing_from),
                                  max(s.last_day for s in measured if s.last_day),
                                  min(s.sizing_days for s in measured))
    if need.sized_from != "samples":
        decision.reason_zh += "；无完整利用率数据，按已分配资源估算规格"
        decision.reason_en += "; no complete utilization samples, sized from the allocated resources"
    if decision.target is not None and decision.target.price_basis == "default":
        decision.flags.append("price from DOMAIN.md's unit-price proxies (default): the platform gives none")
    return decision


def secrecy_of(system: SystemFacts) -> SecrecyLevel:
    """A classified system's secrecy level (机密 when the survey does not say)."""
    return SecrecyLevel(system.secrecy_level) if system.secrecy_level else ASSUMED_SECRECY


def approved_for(platform: Platform, level: SecrecyLevel) -> bool:
    """Whether ``platform`` is an intranet platform approved (分级保护) for ``level``."""
    return (platform.kind == PlatformKind.INTRANET and platform.secrecy_level is not None
            and SecrecyLevel(platform.secrecy_level).rank >= level.rank)


@dataclass
class Classified:
    """A classified system moves to the least-privileged intranet platform approved for its level, and
    never anywhere else; with none declared it stays, and its rooms say what would free them."""

    name: str = "classified"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if not system.classified:
            return None
        if system.status == SystemStatus.MIGRATED or not system.servers:
            return Decision(system.code, Strategy.RETAIN, "涉密系统：无需迁移（已迁移或未登记服务器）",
                            "classified (涉密): nothing to move (already moved, or no servers recorded)")
        level = secrecy_of(system)
        approved = sorted((p for p in ctx.platforms if approved_for(p, level)),
                          key=lambda p: (SecrecyLevel(p.secrecy_level or level).rank, p.name))
        if not approved:
            declared = [p.name for p in ctx.platforms if p.kind == PlatformKind.INTRANET]
            if declared:
                return Decision(system.code, Strategy.RETAIN,
                                f"涉密系统（{level.zh}）：已申报的政务内网平台（{'、'.join(declared)}）均未获批承载"
                                f"{level.zh}级，请申报获批的政务内网平台；不上云",
                                f"classified ({level.zh}): no declared intranet platform ({', '.join(declared)}) is "
                                f"approved for {level.zh}; declare one that is. Never onto the cloud")
            return Decision(system.code, Strategy.RETAIN,
                            "涉密系统：尚未申报政务内网平台，请在云平台表中申报政务内网平台（类型 intranet）；不上云",
                            "classified (涉密): declare the intranet platform (政务内网, type intranet in the "
                            "platforms sheet) for it to move to; never onto the cloud")
        platform = approved[0]
        approval = SecrecyLevel(platform.secrecy_level or level).zh
        if system.status == SystemStatus.RETIRED:  # its machines and media are classified carriers still
            decision = Decision(system.code, Strategy.INTRANET,
                                f"已停用的涉密系统（{level.zh}）：设备与存储介质按保密规定移交政务内网平台 "
                                f"{platform.name} 处置，不得报废或上云",
                                f"retired classified system ({level.zh}): its machines and storage media are handed "
                                f"to the intranet platform {platform.name} under the secrecy rules, never scrapped "
                                "or moved to the cloud", destination=platform.name)
        else:
            decision = Decision(system.code, Strategy.INTRANET,
                                f"涉密系统（{level.zh}）：迁往政务内网平台 {platform.name}"
                                f"（分级保护获批{approval}级），不上云",
                                f"classified ({level.zh}): moves to the intranet platform {platform.name} "
                                f"(approved for {approval}), never onto the cloud", destination=platform.name)
        decision.zone = NetworkZone.INTRANET.value
        if system.secrecy_level is None:
            decision.flags.append(f"secrecy level (密级) unknown, assumed {ASSUMED_SECRECY.zh}")
        return decision


@dataclass
class AlreadyRetired:
    name: str = "already-retired"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if system.status != SystemStatus.RETIRED:
            return None
        return Decision(system.code, Strategy.RETIRE, "系统已停用，无需迁移", "already retired: nothing to move")


@dataclass
class AlreadyMigrated:
    name: str = "already-migrated"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if system.status != SystemStatus.MIGRATED:
            return None
        return Decision(system.code, Strategy.RETAIN, "已迁移上云，无需再迁移",
                        "already migrated: nothing left to move")


@dataclass
class NoServers:
    name: str = "no-servers"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if system.servers:
            return None
        return Decision(system.code, Strategy.RETAIN, "调查表未登记部署服务器，无法制定迁移方案，请补充调查",
                        "no servers recorded for this system: cannot be planned until the survey lists them")


@dataclass
class Zombie:
    name: str = "zombie"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if not system.zombie and system.status != SystemStatus.ZOMBIE:
            return None
        return Decision(system.code, Strategy.RETIRE, "僵尸系统（长期无用户、CPU与内存利用率低于5%）：关停并归档数据",
                        "zombie (no users, CPU and memory under 5%): switch off and archive its data")


@dataclass
class SpecialHardware:
    name: str = "special-hardware"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if not system.special_hardware:
            return None
        return Decision(system.code, Strategy.RELOCATE, "依赖专用硬件：设备整体搬迁至政务云数据中心托管",
                        "needs special hardware: move the hardware into the cloud data centre (hosting)")


@dataclass
class MlpsAboveCloud:
    name: str = "mlps-above-cloud"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if level_of(system) <= ctx.max_cloud_mlps:
            return None
        top = ctx.max_cloud_mlps
        return Decision(system.code, Strategy.RELOCATE,
                        f"等保{level_of(system)}级高于所有云平台（最高{top}级），不能上云：设备搬迁至云数据中心托管",
                        f"MLPS level {level_of(system)} is above every cloud platform (highest {top}): cannot go "
                        "onto the cloud; hardware hosted in the cloud data centre")


@dataclass
class Containerized:
    name: str = "containerized"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        if not system.containerized:
            return None
        need, found = targets(system, ctx, "kubernetes")
        if not found:
            return None
        target = found[0]
        cpu, memory = target.groups[0].vcpus, target.groups[0].memory_gb
        return _sized(Decision(system.code, Strategy.REPLATFORM,
                               f"已容器化：迁入容器平台 {target.platform}（{target.count}个副本，每副本请求 "
                               f"{cpu:g}核/{memory:g}GB）",
                               f"containerized: replatform onto Kubernetes ({target.platform}, {target.count} "
                               f"replica(s) requesting {cpu:g} CPU/{memory:g} GB each)", target), need, system)


@dataclass
class Rehost:
    name: str = "rehost"

    def decide(self, system: SystemFacts, ctx: RuleContext) -> Decision | None:
        need, found = targets(system, ctx, "openstack")
        zone = system_zone(system)[0]
        if not any(p.kind == PlatformKind.OPENSTACK and platform_zone(p) is zone for p in ctx.platforms):
            decision = Decision(system.code, Strategy.RELOCATE,
                                f"{zone.zh}没有云主机平台：设备搬迁至云数据中心托管；请申报{zone.zh}的云平台",
                                f"no OpenStack platform serves its network zone ({zone.zh}): hardware hosted in the "
                                f"cloud data centre; declare a platform in {zone.zh}")
            decision.flags.append(f"no cloud platform in zone {zone.zh}")
            return _zoned(decision, system)
        if not found:
            decision = Decision(system.code, Strategy.RELOCATE,
                                f"云平台规格目录中没有能满足需求（{need.vcpus:.1f}个vCPU、{need.memory_gb:.1f}GB内存，"
                                f"至多{MAX_INSTANCES}台云主机）的规格组合：设备搬迁至云数据中心托管",
                                f"no flavor combination of an eligible platform covers the demand ({need.vcpus:.1f} "
                                f"vCPU, {need.memory_gb:.1f} GB, at most {MAX_INSTANCES} instances): hardware hosted "
                                "in the cloud data centre")
            decision.flags.append(f"no flavors cover {need.vcpus:.1f} vCPU/{need.memory_gb:.1f} GB")
            return decision
        target = found[0]
        return _sized(Decision(system.code, Strategy.REHOST, f"迁移至云主机 {target.platform}：{target.summary}",
                               f"rehost on {target.platform} as {target.summary}", target), need, system)


DEFAULT_RULES: tuple[Rule, ...] = (Classified(), AlreadyRetired(), AlreadyMigrated(), NoServers(), Zombie(),
                                   SpecialHardware(), MlpsAboveCloud(), Containerized(), Rehost())


def decide(system: SystemFacts, ctx: RuleContext, rules: Sequence[Rule] = DEFAULT_RULES) -> Decision:
    """The first decision the rules make for ``system`` (``Rehost`` always decides)."""
    for rule in rules:
        decision = rule.decide(system, ctx)
        if decision is not None:
            if system.classified and decision.strategy not in CLASSIFIED_STRATEGIES:
                raise AssertionError(f"rule {rule.name} sent classified {system.code} toward the cloud")
            if not system.classified and decision.strategy is Strategy.INTRANET:
                raise AssertionError(f"rule {rule.name} sent non-classified {system.code} to the intranet")
            if system.mlps_level is None and decision.target is not None:
                decision.flags.append(f"MLPS level unknown, assumed {ASSUMED_MLPS}")
            return decision
    raise ValueError(f"no rule decided {system.code}")
