"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.security.fuzz_poison``) adding hostile values to its strategies.

Schemathesis draws schema-shaped values; these hooks let Hypothesis also replace one value of a query,
path or JSON body with a NUL byte, a lone surrogate, a non-finite number (``NaN``, ``Infinity``,
``1e400``) or an integer outside 64 bits. The values are the ones that gave HTTP 500 on PostgreSQL
(issue 15 §4); the server must answer each with a 4xx.

Non-finite numbers are not JSON, and ``requests`` refuses to encode them, so a body that carries one is
sent as the raw text a hostile client would write.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

# Strings PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates).
_NUL_STRINGS = ["\x00", "a\x00b"]
_SURROGATE_STRINGS = ["\ud800", "x\udfffy"]
# A URL carries bytes: a surrogate cannot be percent-encoded as UTF-8, so queries and paths get NULs.
_URL_STRINGS = ["\x00", "a\x00b", "99999999999999999999", "-99999999999999999999"]
_BIG_INTEGERS = [2**63, -(2**63) - 1, 2**64, 10**30]
# Written into the body text in place of a marker string: not representable in strict JSON.
_NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
_MARK = "\ue000poison\ue000"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a scalar inside a JSON value."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _paths(item, (*prefix, key))] or [prefix]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _paths(item, (*prefix, i))] or [prefix]
    return [prefix]


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _poisoned_body(body: Any) -> st.SearchStrategy[Any]:
    paths = _paths(body)

    @st.composite
    def draw(d: st.DrawFn) -> Any:
        path = d(st.sampled_from(paths))
        kind = d(st.sampled_from(["surrogate", "non_finite", "nul", "integer"]))
        if kind in ("nul", "surrogate"):
            return _replace(body, path, d(st.sampled_from(_NUL_STRINGS if kind == "nul" else _SURROGATE_STRINGS)))
        if kind == "integer":
            return _replace(body, path, d(st.sampled_from(_BIG_INTEGERS)))
        text = json.dumps(_replace(body, path, _MARK))
        return text.replace(json.dumps(_MARK), d(st.sampled_from(_NON_FINITE))).encode()

    return draw()


def _takes_json(context: Any) -> bool:
    """Only JSON bodies are poisoned: a multipart form cannot even carry a surrogate out of the client."""
    operation = context.operation
    return operation is not None and any(
        "json" in kind for kind in operation.schema.get_request_payload_content_types(operation))


def _poisoned_params(params: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda key, bad: {**params, key: bad}, st.sampled_from(sorted(params)),
                     st.sampled_from(_URL_STRINGS))


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    """Keep the generated body, or replace one of its values with a hostile one."""
    if not isinstance(body, dict | list) or not _takes_json(context):
        return st.just(body)
    return st.one_of(_poisoned_body(body), st.just(body))


@schemathesis.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """Keep the generated query, or replace one parameter with a NUL or out-of-range value."""
    if not query:
        return st.just(query)
    return st.one_of(st.just(query), _poisoned_params(query))


@schemathesis.hook
def flatmap_path_parameters(context: Any, params: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """Keep the generated path parameters, or replace one with a NUL or out-of-range value."""
    if not params:
        return st.just(params)
    return st.one_of(st.just(params), _poisoned_params(params))


def _poison_kinds(case: Any) -> set[str]:
    """Which hostile values ``case`` carries: nul, surrogate, non_finite, big_integer."""
    kinds: set[str] = set()
    parts = [case.body, *(p for p in (case.query, case.path_parameters) if p)]
    for part in parts:
        if isinstance(part, bytes):
            text = part.decode("utf-8", "replace")
            kinds.update({"non_finite"} if any(f": {v}" in text or f"[{v}" in text or f", {v}" in text
                                               for v in _NON_FINITE) else set())
            continue
        for path in _paths(part):
            value: Any = part
            for key in path:
                value = value[key]
            if isinstance(value, str) and "\x00" in value:
                kinds.add("nul")
            elif isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
                kinds.add("surrogate")
            elif (isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63) or (
                    isinstance(value, str) and value in _URL_STRINGS[2:]):
                kinds.add("big_integer")
    return kinds


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Tally each hostile request's status in ``$SHANGYUN_FUZZ_TALLY`` (JSON lines) for the test to read."""
    tally = os.environ.get("SHANGYUN_FUZZ_TALLY")
    kinds = _poison_kinds(case)
    if tally and kinds:
        with open(tally, "a", encoding="utf-8") as out:
            out.write(json.dumps({"kinds": sorted(kinds), "status": response.status_code,
                                  "operation": f"{case.method} {case.path}"}) + "\n")
