"""Text a database can store: PostgreSQL refuses a NUL byte, and a lone surrogate (JSON's ``\\ud800``
escape, or bytes that are not UTF-8) cannot be encoded. One rule for request bodies, query strings and
agent reports."""

from __future__ import annotations

UNSTORABLE = "must be text without NUL bytes or lone surrogates"


def storable(text: str) -> bool:
    """Whether ``text`` holds neither a NUL byte nor a lone surrogate."""
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)
