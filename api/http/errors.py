"""The API's one mapping of Shangyun's errors (``inventory.errors``) to HTTP answers, by class.

An input error (422) with a ``field`` answers like FastAPI's own validation errors, ``{"detail": [{"loc":
["body", field], "msg": ..., "type": "value_error"}]}``, so clients read every input error the same way;
every other error answers ``{"detail": "field: message"}`` (or just the message). The status is the
error class's.

Request validation errors (422) name the location and the rule, never the rejected input: a body may hold
what JSON cannot carry back (Infinity, NaN, a lone surrogate), and echoing it would turn a 422 into a 500
or reflect a secret someone pasted into the wrong field.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from inventory.db import database_busy
from inventory.errors import ShangyunError


def _printable(part: Any) -> Any:
    """A location part or message as JSON can carry it (a lone surrogate becomes its escape)."""
    return part.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(part, str) else part


def install(app: FastAPI) -> None:
    """Map every ``ShangyunError`` a route raises, and every request validation error, to its answer."""

    @app.exception_handler(sa.exc.OperationalError)
    async def database_error(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        if database_busy(exc):
            return JSONResponse({"detail": "the database is busy with another change; try again shortly"},
                                status_code=503, headers={"Retry-After": "5"})
        raise exc  # anything else stays a server error (logged without its parameters)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": [_printable(p) for p in error["loc"]], "msg": _printable(error["msg"]),
                   "type": error["type"]} for error in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(ShangyunError)
    async def shangyun_error(request: Request, exc: ShangyunError) -> JSONResponse:
        if exc.field is not None and exc.status == 422:
            location = exc.field.split(".") if "." in exc.field else ["body", exc.field]
            return JSONResponse({"detail": [{"loc": location, "msg": exc.message, "type": "value_error"}]},
                                status_code=exc.status)
        text = exc.message if exc.field is None or exc.message.startswith(exc.field) else f"{exc.field}: {exc.message}"
        return JSONResponse({"detail": text}, status_code=exc.status)
