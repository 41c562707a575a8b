"""Query strings and paths a database can take: a NUL byte, bytes that are not UTF-8 (which decode to
lone surrogates) or a control character in any query parameter or in the path answer 422 naming the
parameter, before any route runs. On PostgreSQL these were a 500 in every search (``q``), code filter,
platform name and plan reference."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from inventory.records.text import UNSTORABLE, storable


def _problem(scope: Scope) -> tuple[list[str], str] | None:
    """(location, message) of the first unusable part of the request line, or None."""
    raw: bytes = scope.get("query_string", b"")
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="strict")  # as Starlette reads it
    except (UnicodeDecodeError, ValueError):
        return ["query"], "the query string is not valid UTF-8 percent-encoding"
    for name, value in pairs:
        if not storable(name) or not storable(value):
            shown = name if storable(name) else "?"
            return ["query", shown], UNSTORABLE
    path: str = scope.get("path", "")
    if not storable(path):
        return ["path"], UNSTORABLE
    return None


class RequestGuard:
    """Pure ASGI middleware (it must not buffer server-sent event streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        location, message = problem
        body = json.dumps({"detail": [{"loc": location, "msg": message, "type": "value_error"}]}).encode()
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
