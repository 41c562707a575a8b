"""Runbooks: the ordered steps that carry one system out of its room, per strategy, as data.

Each step names the action that does it and the action that undoes it (``revert``; ``None`` when
nothing needs undoing or nothing can be). ``gate`` steps wait for a person (``shangyun migrate
approve``): the department's sign-off after verification, and the manual steps of relocating
hardware. A step that is not ``idempotent`` is never re-run on its own after a crash: the item
waits for a person to check and approve. Actions live in ``migration_plans.execution.actions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.models.enums import Strategy


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    revert: str | None = None
    gate: bool = False
    idempotent: bool = True
    zh: str = ""


SIGNOFF = Step("signoff", "gate", gate=True, zh="部门签字确认")

REHOST = (
    Step("preflight", "ansible:preflight", zh="迁移前检查"),
    Step("prepare_project", "openstack:project", zh="准备部门项目与配额"),
    Step("prepare_flavor", "openstack:flavor", zh="确认规格"),
    Step("export_image", "openstack:image", "openstack:delete_image", zh="导出并上传系统镜像"),
    Step("create_volume", "openstack:volume", "openstack:delete_volume", zh="创建数据卷"),
    Step("create_server", "openstack:server", "openstack:delete_server", zh="创建云主机"),
    Step("attach_volume", "openstack:attach", "openstack:detach", zh="挂载数据卷"),
    Step("sync_data", "ansible:sync", zh="数据同步"),
    Step("snapshot", "openstack:snapshot", "openstack:delete_snapshot", zh="割接前快照"),
    Step("cutover", "ansible:cutover", "ansible:rollback", idempotent=False, zh="割接"),
    Step("verify", "verify:target", zh="功能验证"),
    SIGNOFF,
    Step("decommission", "ansible:decommission", zh="源服务器下线"),
    Step("record", "inventory:migrated", zh="更新档案"),
)

REPLATFORM = (
    Step("preflight", "ansible:preflight", zh="迁移前检查"),
    Step("prepare_namespace", "kubernetes:namespace", zh="准备命名空间与配额"),
    Step("deploy", "kubernetes:deploy", "kubernetes:delete", zh="部署工作负载"),
    Step("wait_ready", "kubernetes:ready", zh="等待就绪"),
    Step("sync_data", "ansible:sync", zh="数据同步"),
    Step("cutover", "ansible:cutover", "ansible:rollback", idempotent=False, zh="割接"),
    Step("verify", "verify:target", zh="功能验证"),
    SIGNOFF,
    Step("decommission", "ansible:decommission", zh="源服务器下线"),
    Step("record", "inventory:migrated", zh="更新档案"),
)

RETIRE = (
    Step("archive_data", "ansible:archive", zh="数据归档"),
    Step("verify_archive", "ansible:verify_archive", zh="核对归档"),
    SIGNOFF,
    Step("switch_off", "ansible:decommission", zh="关停"),
    Step("record", "inventory:retired", zh="更新档案"),
)

RELOCATE = (
    Step("reserve_rack", "gate", gate=True, zh="云数据中心机柜与电力已预留"),
    Step("transport_window", "gate", gate=True, zh="搬迁窗口已确认"),
    Step("preflight", "ansible:preflight", zh="搬迁前检查"),
    Step("move_and_re_ip", "gate", gate=True, zh="设备已搬迁并更换IP"),
    Step("verify", "ansible:verify_in_place", zh="功能验证"),
    SIGNOFF,
    Step("record", "inventory:relocated", zh="更新档案"),
)

RUNBOOKS: dict[str, tuple[Step, ...]] = {
    Strategy.REHOST: REHOST,
    Strategy.REPLATFORM: REPLATFORM,
    Strategy.RETIRE: RETIRE,
    Strategy.RELOCATE: RELOCATE,
}


def runbook(strategy: str) -> tuple[Step, ...]:
    """The steps for ``strategy``; ``retain`` has none (it is never executed)."""
    if strategy not in RUNBOOKS:
        raise ValueError(f"strategy {strategy!r} is not executed (retain stays where it is)")
    return RUNBOOKS[strategy]
