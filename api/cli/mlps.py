"""``shangyun mlps``: MLPS (等保) assessments that are due."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
mlps_app = typer.Typer(help="MLPS (等保) assessments.", no_args_is_help=True)


@mlps_app.command("overdue")
def overdue_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Systems past their assessment: level 3 yearly, level 4 every six months, and systems of level 2 or
    above never assessed (as of the business day)."""
    from inventory import clock
    from inventory.db import session_scope
    from inventory.mlps import mlps_due

    today = clock.today()
    with session_scope() as session:
        late = [row for row in mlps_due(session, today) if row.overdue]
    if as_json:
        sys.stdout.write(json.dumps([{"system": r.system, "name": r.name, "department": r.department, "level": r.level,
                                      "last_assessed": r.last_assessed and r.last_assessed.isoformat(),
                                      "last_result": r.last_result, "due": r.due and r.due.isoformat()}
                                     for r in late], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"等保测评 overdue as of {today}")
    for name in ("system", "name", "department", "level", "last assessed", "result", "due"):
        table.add_column(name)
    for r in late:
        table.add_row(r.system, r.name, r.department, str(r.level), str(r.last_assessed or "never"),
                      r.last_result or "", str(r.due or "—"))
    console.print(table)
    console.print(f"{len(late)} system(s) overdue")


def register(app: typer.Typer) -> None:
    app.add_typer(mlps_app, name="mlps")
