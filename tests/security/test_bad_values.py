"""Values a database cannot take never become a 500 (issue 15 §4), against a real ``shangyun serve`` on
SQLite and PostgreSQL (where NUL bytes and lone surrogates used to fail inside the driver).

Attacks reproduced: a NUL byte in ``q``, ``code``, a login username, a platform name or a CSV cell; JSON
numbers 1e400 and NaN; a lone surrogate (the 422 body echoed it and could not be encoded); and
``plan=t@99999999999999999999``. Each answer is a 4xx naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api_server import PASSWORD, seed, serve


@pytest.fixture
def served(db_url: str, tiny_estate: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    seeded = seed(db_url, tiny_estate)
    process, base = serve(db_url, tmp_path / "serve.log")
    try:
        yield base, {"Authorization": f"Bearer {seeded.tokens['admin']}"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def _raw(base: str, method: str, path: str, auth: dict[str, str], text: str | None = None) -> httpx.Response:
    headers = auth | ({"Content-Type": "application/json"} if text is not None else {})
    return httpx.request(method, base + path, headers=headers, content=text.encode() if text else None, timeout=30)


def test_unstorable_values_are_refused_naming_the_field(served: tuple[str, dict[str, str]]) -> None:
    base, auth = served
    cases = [  # (method, path, JSON text or None, what the answer must name)
        ("GET", "/api/v1/servers?q=srv%00", None, "q"),
        ("GET", "/api/v1/systems?code=S%0001", None, "code"),
        ("GET", "/api/v1/rooms?q=%ED%A0%80", None, "query"),  # UTF-8 of a lone surrogate: not valid UTF-8
        ("GET", "/api/v1/platforms/a%00b/history", None, "path"),
        ("GET", "/api/v1/savings?plan=t@99999999999999999999", None, "version"),
        ("POST", "/api/v1/auth/login", '{"username": "u-admin\\u0000", "password": "x"}', "username"),
        ("POST", "/api/v1/auth/login", '{"username": "\\ud800", "password": "x"}', "username"),
        ("POST", "/api/v1/capacity-requests", '{"department_code": "D1", "platform": "p", "vcpus": 1e400, '
                                              '"purpose": "x"}', "vcpus"),
        ("POST", "/api/v1/capacity-requests", '{"department_code": "D1", "platform": "p", "memory_gb": NaN, '
                                              '"purpose": "x"}', "memory_gb"),
        ("POST", "/api/v1/capacity-requests", '{"department_code": "D\\u00001", "platform": "p", "vcpus": 1, '
                                              '"purpose": "x"}', "department_code"),
        ("POST", "/api/v1/rebalance-proposals/1/reject", '{"reason": "\\udfff"}', "reason"),
    ]
    for method, path, text, field in cases:
        response = _raw(base, method, path, auth, text)
        assert 400 <= response.status_code < 500, (path, text, response.status_code, response.text[:300])
        assert field in response.text, (path, text, response.text[:300])
        json.loads(response.text)  # a well-formed body, whatever was sent
    upload = httpx.post(base + "/api/v1/imports?dry_run=true", headers=auth, timeout=60,
                        files={"file": ("servers.csv", "主机名,所在机房,CPU核数,内存\nsrv\x0001,R0001,4,8\n".encode())})
    assert upload.status_code == 422 and "file" in upload.text, upload.text[:300]
    assert httpx.post(base + "/api/v1/auth/login", json={"username": "u-admin", "password": PASSWORD},
                      timeout=30).status_code == 200  # and the server is fine
