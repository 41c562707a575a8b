"""CLI: ``shangyun serve`` — the HTTP server (REST API, dashboard, metrics, agent ingest)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    scheduler: Annotated[bool, typer.Option(help="run the scheduled jobs in-process (one active instance per "
                                            "database)")] = True,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    access_log: Annotated[bool, typer.Option(help="log every request (latency is in /metrics either way)")] = False,
) -> None:
    """Run the HTTP server (API under /api/v1) with the scheduler in-process unless --no-scheduler."""
    import uvicorn

    from inventory.db import get_engine
    from inventory.settings import run_scheduler_in_serve

    if not scheduler:
        run_scheduler_in_serve(False)
    get_engine()  # upgrade the embedded default / refuse a stale schema before accepting requests
    uvicorn.run("api.http.app:app", host=host, port=port, log_level="info", workers=workers, access_log=access_log)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
