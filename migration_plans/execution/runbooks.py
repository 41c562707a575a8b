"""Runbooks: the ordered steps that carry one system out of its room, per strategy, as data.

Each step holds the action that does it and the action that undoes it (``revert``; ``None`` when
nothing needs undoing or nothing can be): the functions themselves, so a misspelt action fails at import,
not in the middle of a wave. ``gate`` steps wait for a person (``shangyun migrate
approve``): the department's sign-off after verification, and the manual steps of relocating
hardware. A step that is not ``idempotent`` is never re-run on its own after a crash: the item
waits for a person to check and approve. Actions live in ``migration_plans.execution.actions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.models.enums import Strategy
from migration_plans.execution import actions as a
from migration_plans.execution.actions import Action


@dataclass(frozen=True)
class Step:
    name: str
    action: Action
    revert: Action | None = None
    gate: bool = False
    idempotent: bool = True
    zh: str = ""
    windowed: bool = False  # takes the system down: runs only on a day its downtime window allows


SIGNOFF = Step("signoff", a.gate, gate=True, zh="部门签字确认")

REHOST = (
    Step("preflight", a.PREFLIGHT, zh="迁移前检查"),
    Step("prepare_project", a.project, zh="准备部门项目与配额"),
    Step("prepare_flavor", a.flavor, zh="确认规格"),
    Step("export_image", a.image, a.delete_image, zh="导出并上传系统镜像"),
    Step("create_volume", a.volume, a.delete_volume, zh="创建数据卷"),
    Step("create_server", a.server, a.delete_server, zh="创建云主机"),
    Step("attach_volume", a.attach, a.detach, zh="挂载数据卷"),
    Step("sync_data", a.SYNC, zh="数据同步"),
    Step("snapshot", a.snapshot, a.delete_snapshot, zh="割接前快照"),
    Step("cutover", a.CUTOVER, a.ROLLBACK, idempotent=False, zh="割接", windowed=True),
    Step("verify", a.verify_target, zh="功能验证"),
    SIGNOFF,
    Step("decommission", a.DECOMMISSION, zh="源服务器下线"),
    Step("record", a.MIGRATED, zh="更新档案"),
)

REPLATFORM = (
    Step("preflight", a.PREFLIGHT, zh="迁移前检查"),
    Step("prepare_namespace", a.k8s_namespace, zh="准备命名空间与配额"),
    Step("deploy", a.k8s_deploy, a.k8s_delete, zh="部署工作负载"),
    Step("wait_ready", a.k8s_ready, zh="等待就绪"),
    Step("sync_data", a.SYNC, zh="数据同步"),
    Step("cutover", a.CUTOVER, a.ROLLBACK, idempotent=False, zh="割接", windowed=True),
    Step("verify", a.verify_target, zh="功能验证"),
    SIGNOFF,
    Step("decommission", a.DECOMMISSION, zh="源服务器下线"),
    Step("record", a.MIGRATED, zh="更新档案"),
)

RETIRE = (
    Step("archive_data", a.archive, zh="数据归档"),
    Step("verify_archive", a.verify_archive, zh="核对归档"),
    SIGNOFF,
    Step("switch_off", a.DECOMMISSION, zh="关停", windowed=True),
    Step("record", a.RETIRED, zh="更新档案"),
)

RELOCATE = (
    Step("reserve_rack", a.gate, gate=True, zh="云数据中心机柜与电力已预留"),
    Step("transport_window", a.gate, gate=True, zh="搬迁窗口已确认"),
    Step("preflight", a.PREFLIGHT, zh="搬迁前检查"),
    Step("move_and_re_ip", a.gate, gate=True, zh="设备已搬迁并更换IP"),
    Step("verify", a.verify_in_place, zh="功能验证"),
    SIGNOFF,
    Step("record", a.RELOCATED, zh="更新档案"),
)

# A classified system's move is done by people under the secrecy rules: Shangyun, on the extranet, never
# connects to a classified host, so every step is a gate that records who approved what and when.
INTRANET = (
    Step("security_approval", a.gate, gate=True, zh="保密审批已通过"),
    Step("intranet_ready", a.gate, gate=True, zh="政务内网平台已就绪（接入、机位与电力）"),
    Step("move", a.gate, gate=True, zh="设备已搬迁或系统已割接至政务内网"),
    Step("intranet_access", a.gate, gate=True, zh="政务内网接入已验证"),
    Step("protection_assessment", a.gate, gate=True, zh="分级保护测评已通过"),
    SIGNOFF,
    Step("record", a.RELOCATED, zh="更新档案"),
)

RUNBOOKS: dict[Strategy, tuple[Step, ...]] = {
    Strategy.REHOST: REHOST,
    Strategy.REPLATFORM: REPLATFORM,
    Strategy.RETIRE: RETIRE,
    Strategy.RELOCATE: RELOCATE,
    Strategy.INTRANET: INTRANET,
}


def runbook(strategy: str) -> tuple[Step, ...]:
    """The steps for ``strategy``; ``retain`` has none (it is never executed)."""
    steps = next((steps for known, steps in RUNBOOKS.items() if known == strategy), None)
    if steps is None:
        raise ValueError(f"strategy {strategy!r} is not executed (retain stays where it is)")
    return steps
