"""What every list endpoint shares: paging, filtering by id, code and free text, and the page shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col

from inventory.errors import NotFoundError
from inventory.records.text import UNSTORABLE, storable

T = TypeVar("T")
AnySelect = sa.Select[*tuple[Any, ...]]  # a select of any columns
MAX_ID = 2**31 - 1  # ids and offsets beyond what the database's integers hold are refused, not a 500
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> dict[str, str]:
    """A download's ``Content-Disposition`` (RFC 6266): the UTF-8 name as ``filename*``, for names such as
    a plan called 2027年迁移, with an ASCII ``filename`` for old clients."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"}


def storable_text(value: Any) -> Any:
    """Refuse text a database cannot store (a NUL byte, a lone surrogate) anywhere in ``value``."""
    if isinstance(value, str):
        if not storable(value):
            raise ValueError(UNSTORABLE)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_text(key)
            storable_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            storable_text(item)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
        raise ValueError(f"must be between {-MAX_ID} and {MAX_ID}")
    return value


class StrictBody(BaseModel):
    """Request bodies refuse unknown fields, non-finite numbers, integers past the database's and text a
    database cannot store; the error names the field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable_text(value)


# A free-text search counts its matches only this far. A broad one (a quarter of 30,000 servers) would
# otherwise test every row just to say how many match; each test is a case-blind match, about 2 µs a
# row in PostgreSQL, so counting to 1,000 took 9 ms and counting to 200 takes 2.
SEARCH_COUNT_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="rows that match; a free-text search (q) counts at most "
                                   f"{SEARCH_COUNT_LIMIT:,}, and then total_exact is false")
    limit: int
    offset: int
    total_exact: bool = Field(True, description="false when total is a lower bound (a broad free-text search)")


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    id: int | None
    code: str | None
    q: str | None


async def list_query(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    offset: Offset = 0,
    id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this id")] = None,
    code: Annotated[str | None, Query(max_length=128, description="only this code (hostname for servers)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text in code and name")] = None,
) -> ListQuery:
    return ListQuery(limit, offset, id, code, q)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


def filtered(query: AnySelect, model: Any, params: ListQuery, code: Any = None,
             text: tuple[Any, ...] | None = None) -> AnySelect:
    """``query`` narrowed by the id (``model.id``), code and free-text filters (any of the ``text``
    columns contains it, any case; default code and name). ``code`` is the column the code is (default
    ``model.code``), or a function making the condition from the code when it is not one column."""
    if params.id is not None:
        query = query.where(col(model.id) == params.id)
    if params.code is not None:
        if callable(code):
            query = query.where(code(params.code))
        else:
            query = query.where((model.code if code is None else code) == params.code)
    if params.q:
        pattern = f"%{params.q.replace('%', '').replace('_', '')}%"
        columns = (model.code, model.name) if text is None else text
        query = query.where(sa.or_(*(col(c).ilike(pattern) for c in columns)))
    return query


def page(session: Session, query: AnySelect, params: ListQuery, order: Any,
         render: Callable[[Sequence[Any]], list[Any]],
         extend: Callable[[AnySelect], AnySelect] | None = None) -> Response:
    """One page of ``query``'s rows, rendered, with their count, as a JSON ``Page``. ``extend`` adds what
    only the page's rows need (joined codes, say), so the count does not pay for it. Rows of one column
    come as that value. ``order`` is a column or a tuple of them."""
    total, exact = count(session, query, SEARCH_COUNT_LIMIT if params.q else None)
    paged = (extend(query) if extend else query).order_by(*(order if isinstance(order, tuple) else (order,)))
    rows = session.execute(paged.limit(params.limit).offset(params.offset)).all()
    items = render([r[0] if len(r) == 1 else r for r in rows])
    return as_json(Page(items=items, total=total, limit=params.limit, offset=params.offset, total_exact=exact))


def as_json(model: BaseModel) -> Response:
    """A model built (and so validated) by the route, serialized once. Returned as a model, FastAPI would
    validate it again, from a sync route in one more thread-pool hop; the route's ``response_model``
    still documents it."""
    return Response(model.model_dump_json(), media_type="application/json")


def count(session: Session, query: AnySelect, limit: int | None = None) -> tuple[int, bool]:
    """How many rows ``query`` has (counting stops past ``limit``), and whether that is exact."""
    if limit is None:
        counted = query.with_only_columns(sa.func.count(), maintain_column_froms=True).order_by(None)
        return int(session.execute(counted).scalar_one()), True
    matches = query.with_only_columns(sa.literal(1), maintain_column_froms=True).order_by(None).limit(limit + 1)
    found = int(session.execute(sa.select(sa.func.count()).select_from(matches.subquery())).scalar_one())
    return min(found, limit), found <= limit


M = TypeVar("M", bound=BaseModel)


def from_object(model: type[M], obj: object, **computed: Any) -> M:
    """``model`` read from ``obj``'s attributes (a domain dataclass), by field name or validation alias,
    with the values the route ``computed`` on top: no field-by-field copying in the routes."""
    values = {}
    for name, info in model.model_fields.items():
        key = info.validation_alias if isinstance(info.validation_alias, str) else name
        if name in computed:
            values[key] = computed[name]
        elif hasattr(obj, key):
            values[key] = getattr(obj, key)
    return model.model_validate(values)


def not_found(what: str, key: object) -> NotFoundError:
    return NotFoundError(f"no {what} {key}")
