"""The API's one mapping of Shangyun's errors (``inventory.errors``) to HTTP answers, by class.

An input error (422) with a ``field`` answers like FastAPI's own validation errors, ``{"detail": [{"loc":
["body", field], "msg": ..., "type": "value_error"}]}``, so clients read every input error the same way;
every other error answers ``{"detail": "field: message"}`` (or just the message). The status is the
error class's.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from inventory.errors import ShangyunError


def install(app: FastAPI) -> None:
    """Map every ``ShangyunError`` a route raises to its answer."""

    @app.exception_handler(ShangyunError)
    async def shangyun_error(request: Request, exc: ShangyunError) -> JSONResponse:
        if exc.field is not None and exc.status == 422:
            location = exc.field.split(".") if "." in exc.field else ["body", exc.field]
            return JSONResponse({"detail": [{"loc": location, "msg": exc.message, "type": "value_error"}]},
                                status_code=exc.status)
        text = exc.message if exc.field is None or exc.message.startswith(exc.field) else f"{exc.field}: {exc.message}"
        return JSONResponse({"detail": text}, status_code=exc.status)
