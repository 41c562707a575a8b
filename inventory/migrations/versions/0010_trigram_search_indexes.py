"""trigram indexes for free-text search (PostgreSQL with pg_trgm only; see inventory.search_index)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 06:30:00
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Frozen copy of the index list as of this revision (the module's list may grow in later revisions).
INDEXES = ["ix_server_hostname_trgm", "ix_server_os_trgm", "ix_business_system_code_trgm",
           "ix_business_system_name_trgm", "ix_room_code_trgm", "ix_room_name_trgm"]


def upgrade() -> None:
    from inventory.search_index import ensure_trigram_indexes

    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and not ensure_trigram_indexes(conn):
        logging.getLogger("shangyun").warning(
            "pg_trgm is not available: free-text search (q) works but reads whole tables. A database owner "
            "can run CREATE EXTENSION pg_trgm; `shangyun db upgrade` then adds the indexes.")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    # the extension stays: other schemas in the database may use it
