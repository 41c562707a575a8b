"""Survey uploads (same rules as ``shangyun import``: all-or-nothing unless ``skip_bad_rows``) and the
dependency graph between business systems."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.http.auth import ESTATE_READ, ESTATE_WRITE, require, scope_department
from api.http.deps import SessionDep
from api.http.routers.common import ListQueryDep, Page, filtered, page
from inventory.audit import Actor
from inventory.db import get_engine
from inventory.errors import InvalidInputError
from inventory.models import BusinessSystem, Dependency
from inventory.models.estate import DependencyPublic
from inventory.settings import get_settings
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["imports 调查表导入"])
SUFFIXES = (".xlsx", ".csv")
CHUNK = 1 << 20
ENVELOPE = 64 * 1024  # what multipart adds around the file


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "an .xlsx workbook or a .csv"}}}}}}


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """The request body, cut off with a 413 once it passes ``limit`` bytes (a chunked upload says no size)."""
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise InvalidInputError(f"larger than {get_settings().max_upload_mb:g} MB", field="file", status=413)
        yield chunk


@router.post("/imports", openapi_extra={"requestBody": UPLOAD_BODY},
             responses={413: {"description": "the file is larger than the limit"},
                        422: {"description": "the file or some of its rows are bad; nothing written"}})
async def upload_survey(request: Request, principal: Annotated[Principal, Depends(require(ESTATE_WRITE))],
                        dry_run: bool = False, skip_bad_rows: bool = False) -> JSONResponse:
    """Import a survey workbook (.xlsx) or one sheet as .csv. Every bad row is listed with its sheet, row
    and column; nothing is written unless the file is clean (or ``skip_bad_rows``).

    The caller's token and permission, and the declared ``Content-Length``, are checked before a byte of
    the body is read; the body is then streamed to a temporary file with a hard limit, removed on every
    path."""
    from collectors.survey.importer import import_survey
    from inventory.writers.survey import rows_of

    limit = int(get_settings().max_upload_mb * 1024 * 1024) + ENVELOPE
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInputError(f"larger than {get_settings().max_upload_mb:g} MB", field="file", status=413)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError("send the file as multipart/form-data in the field 'file'", field="file")
    parser = MultiPartParser(request.headers, _limited(request.stream(), limit), max_files=1, max_fields=4)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInputError(f"not a readable multipart body ({exc.message})", field="file") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, StarletteUploadFile):
            raise InvalidInputError("no file in the field 'file'", field="file")
        name = Path(upload.filename or "survey.xlsx").name
        if "\x00" in name or "/" in name or name in ("", ".", ".."):
            raise InvalidInputError("the file name is not usable", field="file")
        if not name.lower().endswith(SUFFIXES):
            raise InvalidInputError(f"{name}: upload an .xlsx workbook or a .csv sheet", field="file")
        with tempfile.TemporaryDirectory(prefix="shangyun-upload-") as folder:
            path = Path(folder) / name
            with path.open("wb") as out:
                while chunk := await upload.read(CHUNK):
                    out.write(chunk)
            # an import takes seconds: in the thread pool, so the worker keeps answering others meanwhile
            outcome = await run_in_threadpool(import_survey, path, engine=get_engine(),
                                              actor=Actor(f"api:{principal.username}"), dry_run=dry_run,
                                              skip_bad_rows=skip_bad_rows)
    finally:
        await form.close()
    report = outcome.report
    errors: list[dict[str, Any]] = [vars(e) for e in rows_of(report)]
    body = report.as_dict() | {"written": outcome.written, "dry_run": dry_run, "errors": errors[:1000],
                               "warnings": report.warnings}
    return JSONResponse(body, status_code=422 if errors and not skip_bad_rows else 200)


@router.get("/dependencies", response_model=Page[DependencyPublic])
def list_dependencies(session: SessionDep, principal: Annotated[Principal, Depends(require(ESTATE_READ))],
                      params: ListQueryDep,
                      system: Annotated[str | None, Query(max_length=64, description="a system's code")] = None,
                      source: Annotated[str | None, Query(description="declared | observed")] = None) -> Response:
    """Dependencies between systems, by id (a department user: those touching its own systems). ``system``
    or ``code``: those of one system, either side; ``q`` finds text in either side's code."""
    user, used = aliased(BusinessSystem), aliased(BusinessSystem)
    joined = select(Dependency, user.code, used.code).join(user, col(user.id) == Dependency.system_id) \
        .join(used, col(used.id) == Dependency.depends_on_id)

    def either_side(code: str) -> Any:
        return or_(col(user.code) == code, col(used.code) == code)

    query = filtered(joined, Dependency, params, either_side, (user.code, used.code))
    if source is not None:
        query = query.where(col(Dependency.source) == source)
    if system is not None:
        query = query.where(either_side(system))
    if (own := scope_department(principal)) is not None:
        query = query.where(or_(col(user.department_id) == own, col(used.department_id) == own))
    return page(session, query, params, col(Dependency.id), lambda rows: [
        DependencyPublic.model_validate(d, update={"system": a, "depends_on": b}) for d, a, b in rows])
