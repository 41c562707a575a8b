"""Alembic environment: runs against the engine handed over in ``config.attributes`` (``shangyun db
upgrade`` and the embedded default's first use), or, from the ``alembic`` command line with the root
``alembic.ini``, against ``SHANGYUN_DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import inventory.models  # noqa: F401  (registers every table on the metadata)
from inventory.search_index import include_in_comparison

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        from inventory.db import create_db_engine
        from inventory.settings import get_settings

        engine = create_db_engine(get_settings().database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_in_comparison,
        )
        context.run_migrations()


run_migrations_online()
