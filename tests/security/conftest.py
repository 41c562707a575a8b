"""Fixtures the security tests share with the functional ones: a surveyed estate and a served ingest."""

from tests.test_ingest_http import estate_db, served

__all__ = ["estate_db", "served"]
