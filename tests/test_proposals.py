"""Rebalance proposals without a cloud: stored proposals wait, a rejected one cannot be approved or
applied, an unapproved one cannot be applied, and ``--apply``/``--auto`` refuse what they cannot do.
(Applying for real is in ``test_rebalance_apply``, against the OpenStack test cloud.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import AuditLog, CloudPlatform
from scheduler.proposals import ProposalError, apply, approve, events, list_proposals, reject, store_proposal
from scheduler.rebalance import Move, Result
from tests.conftest import run_cli


class _NoCloud:
    """Never called: the checks come before any move."""

    def server_host(self, server_id: str) -> str:
        raise AssertionError("no move may start")

    def volume_pool(self, volume_id: str) -> str:
        raise AssertionError("no move may start")

    def live_migrate(self, server_id: str, host: str | None = None) -> None:
        raise AssertionError("no move may start")

    def migrate_volume(self, volume_id: str, pool: str) -> None:
        raise AssertionError("no move may start")


def test_decisions_are_checked_and_audited(db_url: str, tiny_estate: Path) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    actor = Actor("operator")
    with Session(engine) as session:
        platform = session.exec(select(CloudPlatform)).first()
        assert platform is not None
        result = Result("consolidate", [Move("live_migrate", "vm-1", "h1", "h2")], {"active_hosts": 2},
                        {"active_hosts": 1}, 0.1)
        proposal = store_proposal(session, platform.name, result, 0.8, None, actor)
        session.commit()
        assert proposal.id is not None and proposal.status == "proposed"
        with pytest.raises(ProposalError, match="approve it first"):
            apply(session, proposal.id, _NoCloud())
        reject(session, proposal.id, actor, "maintenance freeze")
        with pytest.raises(ProposalError, match="is rejected"):
            approve(session, proposal.id, actor)
        with pytest.raises(ProposalError, match="no rebalance proposal 999"):
            approve(session, 999, actor)
        with pytest.raises(ProposalError, match="no cloud platform"):
            store_proposal(session, "nowhere", result, 0.8, None, actor)
        assert [p.status for p in list_proposals(session)] == ["rejected"]
        assert [e.kind for e in events(session, proposal.id)] == ["proposed", "rejected"]
        audited = session.exec(select(AuditLog).where(AuditLog.entity == "rebalance_proposal")).all()
        assert [a.action for a in audited] == ["create", "update"]
    engine.dispose()


def test_apply_options_refuse_what_they_cannot_do(db_url: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "s.json"
    snapshot.write_text('{"hosts": [], "instances": []}', encoding="utf-8")
    result = run_cli("schedule", "rebalance", "--snapshot", str(snapshot), "--goal", "balance", "--apply",
                     db_url=db_url)
    assert result.returncode == 2 and "need --platform" in result.stderr
    result = run_cli("schedule", "rebalance", "--platform", "p", "--goal", "balance", "--auto", db_url=db_url)
    assert result.returncode == 2 and "--auto needs --cloud" in result.stderr
    result = run_cli("schedule", "reject", "7", "--reason", "x", db_url=db_url)
    assert result.returncode == 2 and "no rebalance proposal 7" in result.stderr
