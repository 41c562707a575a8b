"""Prometheus metrics at ``/metrics`` (names ``shangyun_…``, base units: ratios 0..1, seconds).

Estate and cloud figures are read from the database at scrape time by ``EstateCollector``, so every
worker and replica reports the same numbers; request latency is a histogram per process (with several
uvicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to a shared empty directory and the workers' figures
are merged).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import Session, col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inventory.capacity import allocation_ratios, use_ratios
from inventory.db import get_engine
from inventory.models import CloudPlatform, PlanItem, Room, RunItem
from inventory.settings import get_settings

REQUEST_SECONDS = Histogram("shangyun_http_request_duration_seconds", "HTTP request latency",
                            ["method", "route", "status"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


class EstateCollector(Collector):
    """Platform allocation and use ratios, rooms by status, plan and run items by status."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from scheduler.room_data import newest_current_plan

        allocation = GaugeMetricFamily("shangyun_platform_allocation_ratio",
                                       "allocated ÷ (physical × overcommit): vCPUs against vcpus × cpu_ratio",
                                       labels=["platform", "resource"])
        usage = GaugeMetricFamily("shangyun_platform_usage_ratio", "measured ÷ physical capacity",
                                  labels=["platform", "resource"])
        rooms = GaugeMetricFamily("shangyun_rooms", "machine rooms by status", labels=["status"])
        plan_items = GaugeMetricFamily("shangyun_plan_items", "items of the newest current plan by status",
                                       labels=["status"])
        run_items = GaugeMetricFamily("shangyun_migration_run_items", "migration run items by state",
                                      labels=["state"])
        with Session(get_engine()) as session:
            for p in session.exec(select(CloudPlatform)):
                for resource, name in (("vcpus", "cpu"), ("memory_gb", "memory"), ("storage_gb", "storage")):
                    share = allocation_ratios(p)[resource]
                    if share is not None:
                        allocation.add_metric([p.name, name], share)
                    in_use = use_ratios(p)[resource]
                    if in_use is not None:
                        usage.add_metric([p.name, name], in_use)
            for status, count in _counts(session, col(Room.status)):
                rooms.add_metric([status], count)
            plan = newest_current_plan(session)
            if plan is not None:
                for status, count in _counts(session, col(PlanItem.status), col(PlanItem.plan_id) == plan):
                    plan_items.add_metric([status], count)
            for state, count in _counts(session, col(RunItem.state)):
                run_items.add_metric([state], count)
        yield from (allocation, usage, rooms, plan_items, run_items)


def _counts(session: Session, column: Any, *where: Any) -> list[tuple[str, int]]:
    query = sa.select(column, sa.func.count()).where(*where).group_by(column)
    return [(str(k), int(n)) for k, n in session.execute(query)]


class RequestTimer:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): observes each HTTP request's duration
    under its route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_remember)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            if template != "/metrics":
                REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)


def install(app: FastAPI) -> None:
    """Time every request by its route template and serve ``/metrics``."""

    app.add_middleware(RequestTimer)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        registry = CollectorRegistry()
        registry.register(EstateCollector())
        if get_settings().prometheus_multiproc_dir is not None:
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(REQUEST_SECONDS)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
