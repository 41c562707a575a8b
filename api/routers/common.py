"""What every list endpoint shares: paging, filtering by id, code and free text, and the page shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col

T = TypeVar("T")
MAX_ID = 2**31 - 1  # ids and offsets beyond what the database's integers hold are refused, not a 500
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]


class StrictBody(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    id: int | None
    code: str | None
    q: str | None


def list_query(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    offset: Offset = 0,
    id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this id")] = None,
    code: Annotated[str | None, Query(max_length=128, description="only this code (hostname for servers)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text in code and name")] = None,
) -> ListQuery:
    return ListQuery(limit, offset, id, code, q)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


def filtered(query: sa.Select[Any], model: Any, params: ListQuery, code_column: str = "code",
             text_columns: tuple[str, ...] = ("code", "name")) -> sa.Select[Any]:
    """``query`` narrowed by the id, code and free-text filters."""
    if params.id is not None:
        query = query.where(col(model.id) == params.id)
    if params.code is not None:
        query = query.where(getattr(model, code_column) == params.code)
    if params.q:
        pattern = f"%{params.q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(*(col(getattr(model, c)).ilike(pattern) for c in text_columns)))
    return query


def page(session: Session, query: sa.Select[Any], params: ListQuery, order: Any) -> tuple[list[Any], int]:
    """One page of ``query``'s rows (first entity of each) and the total count."""
    total = session.execute(query.with_only_columns(sa.func.count(), maintain_column_froms=True)
                            .order_by(None)).scalar_one()
    rows = session.execute(query.order_by(order).limit(params.limit).offset(params.offset)).all()
    return [r[0] if len(r) == 1 else r for r in rows], int(total)


def not_found(what: str, key: object) -> HTTPException:
    return HTTPException(404, f"no {what} {key}")
