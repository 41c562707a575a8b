"""The HTTP server: the agents' token-authenticated ingest, capacity requests and a health check; the
scheduler runs in-process (see ``lifespan``).

``POST /api/v1/collect`` takes one FORMATS.md §5 report. 202 ``stored`` or 200 ``duplicate``;
401 for a missing or wrong token; 422 naming the field for an invalid report; 404 for a host the
inventory does not know; 503 while no ingest token is configured.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session, select

from api.http.request_context import RequestContext
from api.http.request_guard import RequestGuard
from api.http.security_headers import SecurityHeaders
from inventory.audit import Actor
from inventory.db import get_engine
from inventory.logs import configure_logging
from inventory.models import Server
from inventory.records.agent import AgentReport
from inventory.settings import get_scheduler_settings, get_settings
from inventory.writers.agent import ingest_report
from migration_plans.store import refresh_zombies_of_server


def require_ingest_token(authorization: Annotated[str | None, Header()] = None) -> None:
    """Check the agent's bearer token in constant time; the token is never echoed."""
    expected = get_settings().ingest_token
    if expected is None:
        raise HTTPException(503, "ingest is disabled: set SHANGYUN_INGEST_TOKEN on the server")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the scheduler in-process unless ``SHANGYUN_SCHEDULER_IN_SERVE=false``; with several workers or
    replicas the leader lock keeps exactly one of them active."""
    if not logging.getLogger("shangyun").handlers:  # an app served by something other than `shangyun serve`
        configure_logging(get_settings().log_format, get_settings().log_level)
    service = None
    if get_scheduler_settings().in_serve:
        from scheduler.service import SchedulerService

        service = SchedulerService(get_engine(), get_scheduler_settings(), ZoneInfo(get_settings().timezone))
        service.start()
    yield
    if service is not None:
        service.stop()


def create_app() -> FastAPI:
    """The FastAPI application."""
    app = FastAPI(title="Shangyun 上云", version="0.1.0", lifespan=lifespan,
                  description="Move government business systems onto the government cloud and keep it balanced.")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:  # on the event loop: answers even while every worker thread is busy
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Readiness: the database answers and its schema is the newest revision."""
        from inventory.db import current_revision, head_revision

        try:
            revision = current_revision(get_engine())
        except Exception as exc:  # any database failure means not ready; the reason, never the URL
            return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
        if revision != head_revision():
            return JSONResponse({"status": "schema not at head", "revision": revision}, status_code=503)
        return JSONResponse({"status": "ready", "revision": revision})

    @app.post("/api/v1/collect", status_code=202, dependencies=[Depends(require_ingest_token)])
    def collect(report: AgentReport) -> Any:
        """Ingest one agent report (idempotent by host and time)."""
        settings = get_settings()
        with Session(get_engine()) as session:
            status = ingest_report(session, report, ZoneInfo(settings.timezone))
            if status == "stored":
                server_id = session.exec(select(Server.id).where(Server.hostname == report.hostname)).one()
                refresh_zombies_of_server(session, server_id, Actor(f"agent:{report.hostname}"))  # type: ignore[arg-type]
            session.commit()
        return JSONResponse({"status": status}, status_code=202 if status == "stored" else 200)

    from api.http import errors, metrics
    from api.http.routers import (
        audit,
        auth_routes,
        capacity,
        cloud,
        dashboard,
        disposal,
        estate,
        finance,
        imports,
        plans,
        users,
    )

    metrics.install(app)
    errors.install(app)
    app.add_middleware(RequestGuard)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)  # outermost: every log line and audit row of the request has its id
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        """The dashboard (zh-CN by default, English on a switch)."""
        return FileResponse(static / "index.html", headers={"Cache-Control": "no-cache"})

    for module in (auth_routes, users, dashboard, estate, imports, plans, capacity, cloud, finance, audit, disposal):
        app.include_router(module.router)
    return app


app = create_app()
