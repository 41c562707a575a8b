"""Who may call what: bearer-token authentication and role permissions for every router.

Each route names one permission; ``ROLE_PERMISSIONS`` says which roles hold it. Department users hold
the estate and request permissions only for their own department: routers narrow their queries with
``scope_department`` and treat another department's record as not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.http.cache import TtlCache
from inventory.db import get_engine
from inventory.models import Role
from inventory.users import Principal, authenticate, token_hash

DASHBOARD = "dashboard:read"
ESTATE_READ, ESTATE_WRITE = "estate:read", "estate:write"
COSTS_READ = "costs:read"
PLANS_READ, PLANS_WRITE = "plans:read", "plans:write"
CLOUD_READ, CLOUD_WRITE = "cloud:read", "cloud:write"
REQUESTS_READ, REQUESTS_WRITE, REQUESTS_DECIDE = "requests:read", "requests:write", "requests:decide"
AUDIT_READ = "audit:read"
USERS_ADMIN = "users:admin"

ALL = frozenset({DASHBOARD, ESTATE_READ, ESTATE_WRITE, COSTS_READ, PLANS_READ, PLANS_WRITE, CLOUD_READ, CLOUD_WRITE,
                 REQUESTS_READ, REQUESTS_WRITE, REQUESTS_DECIDE, AUDIT_READ, USERS_ADMIN})
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: ALL,
    Role.OPERATOR: ALL - {USERS_ADMIN},
    Role.FINANCE: frozenset({DASHBOARD, ESTATE_READ, COSTS_READ, PLANS_READ}),
    Role.DEPARTMENT: frozenset({DASHBOARD, ESTATE_READ, REQUESTS_READ, REQUESTS_WRITE}),
    Role.VIEWER: frozenset({DASHBOARD}),
}


# Who a token belongs to, for 30 s: a revoked token, a deactivated user or a changed role take effect
# within that time; an expiring token is never kept past its expiry.
PRINCIPALS: TtlCache[Principal] = TtlCache(30.0, 4096)






bearer = HTTPBearer(scheme_name="bearer", auto_error=False,
                    description="a token from POST /api/v1/auth/login or `shangyun user token`")


def _lookup_token(token: str, key: str) -> Principal | str | None:
    with Session(get_engine()) as session:
        return authenticate(session, token, key)


async def current_principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller of a bearer token; 401 when missing, unknown or expired."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing bearer token: log in at POST /api/v1/auth/login",
                            headers={"WWW-Authenticate": "Bearer"})
    token = credentials.credentials.strip()
    key = token_hash(token)
    cached = PRINCIPALS.peek(key)
    if cached is not None:
        return cached
    who = await run_in_threadpool(_lookup_token, token, key)
    if who == "expired":
        raise HTTPException(401, "token expired: log in again", headers={"WWW-Authenticate": "Bearer"})
    if not isinstance(who, Principal):
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    left = (who.expires_at - dt.datetime.now(dt.UTC)).total_seconds() if who.expires_at else None
    PRINCIPALS.put(key, who, left)
    return who


def require(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only roles holding ``permission`` (403 otherwise)."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if permission not in ROLE_PERMISSIONS[principal.role]:
            raise HTTPException(403, f"role {principal.role.value} may not {permission}")
        return principal

    check.__name__ = f"require_{permission.replace(':', '_')}"
    return check


def scope_department(principal: Principal) -> int | None:
    """The department a caller is limited to (None: all)."""
    return principal.department_id if principal.role == Role.DEPARTMENT else None
