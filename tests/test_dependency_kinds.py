"""Several dependencies between one pair of systems (issue 16 §7): a database link and an interface are
two rows of the survey, one edge of the inventory keeping both kinds, tight if either is; a row that
repeats another is a warning, not an error."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import BusinessSystem, Dependency


def test_rows_of_one_pair_merge_into_one_edge_with_every_kind(engine: Engine, tiny_estate: Path,
                                                              tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    shutil.copytree(tiny_estate, survey)
    path = survey / "dependencies.csv"
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, first = rows[0], rows[1]
    system, depends_on = first[0], first[1]
    others = [r for r in rows[1:] if (r[0], r[1]) != (system, depends_on)]
    pair = [[system, depends_on, "数据库", "否"], [system, depends_on, "接口调用", "是"],
            [system, depends_on, "数据库", "否"]]  # the third repeats the first
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *pair, *others])

    outcome = import_survey(survey, engine=engine, actor=Actor("test"))
    assert outcome.written and not outcome.report.errors
    assert [w for w in outcome.report.warnings if "repeats row 2" in w] == [
        f"dependencies row 4: repeats row 2 ({system} → {depends_on}); ignored"]
    with Session(engine) as session:
        codes = dict(session.exec(select(BusinessSystem.id, BusinessSystem.code)).all())
        edges = [(codes[d.system_id], codes[d.depends_on_id], d.kind, d.tight)
                 for d in session.exec(select(Dependency))]
    merged = [e for e in edges if (e[0], e[1]) == (system, depends_on)]
    assert merged == [(system, depends_on, "数据库、接口调用", True)]
    assert len(edges) == 1 + len(others)

    again = import_survey(survey, engine=engine, actor=Actor("test"))  # the merged edge is what the survey says
    assert again.written and not again.report.changed
