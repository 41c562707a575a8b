"""Each HTTP request's id: the client's ``X-Request-ID`` when sane, else a new one; returned in the response
header, attached to every log record of the request and to the audit rows it writes (``Actor``). With
``SHANGYUN_ACCESS_LOG`` (``serve --access-log``) every request is logged; server errors always are."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inventory.logs import REQUEST_ID, request_id_for
from inventory.settings import get_settings

log = logging.getLogger("shangyun.http")


class RequestContext:
    """Pure ASGI middleware (it must not buffer server-sent event streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = request_id_for(given)
        token = REQUEST_ID.set(request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if status >= 500 or get_settings().access_log:
                log.log(logging.ERROR if status >= 500 else logging.INFO, "%s %s %d", scope["method"], scope["path"],
                        status, extra={"method": scope["method"], "path": scope["path"], "status": status,
                                       "ms": round((time.perf_counter() - started) * 1000, 1)})
            REQUEST_ID.reset(token)
