"""One settings module: outside development it refuses the placeholder secrets issue #14 lists
(``REPLACE-ME``, one repeated character, fewer than 32 random characters) and an empty ingest token; in
development an empty ingest token switches ingest off. Nothing else in the product reads the environment."""

from __future__ import annotations

import ast
import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from inventory.settings import DEVELOPMENT_SECRET, Settings

ROOT = Path(__file__).resolve().parent.parent
REAL = secrets.token_urlsafe(48)


def _production(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("SHANGYUN_ENVIRONMENT", "production")
    monkeypatch.delenv("SHANGYUN_INGEST_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize(("secret", "why"), [
    (DEVELOPMENT_SECRET, "development default"),
    ("REPLACE-ME-WITH-64-RANDOM-CHARACTERS-openssl-rand-hex-32", "placeholder"),
    ("k" * 40, "one repeated character"),
    ("0123456789abcdefghijklmnopqrstu", "shorter than 32"),
    ("ab" * 20, "fewer than 10 distinct"),
])
def test_a_placeholder_secret_key_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch, secret: str,
                                                                 why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        _production(monkeypatch, SHANGYUN_SECRET_KEY=secret)


def test_a_random_secret_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _production(monkeypatch, SHANGYUN_SECRET_KEY=REAL)
    assert settings.secret_key.get_secret_value() == REAL and settings.ingest_token is None


@pytest.mark.parametrize(("token", "why"), [("", "is empty"), ("REPLACE-ME-agent-token", "is a placeholder"),
                                            ("x" * 32, "is one repeated character"), ("agent-token", "is shorter")])
def test_an_empty_or_placeholder_ingest_token_is_refused_outside_development(
        monkeypatch: pytest.MonkeyPatch, token: str, why: str) -> None:
    with pytest.raises(ValidationError, match=f"SHANGYUN_INGEST_TOKEN {why}"):
        _production(monkeypatch, SHANGYUN_SECRET_KEY=REAL, SHANGYUN_INGEST_TOKEN=token)


def test_an_empty_ingest_token_switches_ingest_off_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHANGYUN_ENVIRONMENT", "development")
    monkeypatch.setenv("SHANGYUN_INGEST_TOKEN", "")
    assert Settings().ingest_token is None


def _reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"} \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            return True
    return False


def test_only_the_settings_module_touches_the_environment() -> None:
    packages = ("api", "inventory", "migration_plans", "scheduler", "drivers", "collectors")
    readers = {str(p.relative_to(ROOT)) for package in packages for p in (ROOT / package).rglob("*.py")
               if "migrations" not in p.parts and _reads_environment(p)}
    assert readers == {"inventory/settings.py"}
