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
    from inventory.logs import configure_logging
    from inventory.settings import get_settings, set_for_worker_processes

    if not scheduler:
        set_for_worker_processes("scheduler_in_serve", "false")
    if access_log:
        set_for_worker_processes("access_log", "true")
    settings = get_settings()
    config = configure_logging(settings.log_format, settings.log_level)
    get_engine()  # upgrade the embedded default / refuse a stale schema before accepting requests
    # Requests are logged by the app (with their request id), not by uvicorn's access log.
    uvicorn.run("api.http.app:app", host=host, port=port, log_config=config, log_level=settings.log_level.lower(),
                workers=workers, access_log=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
