"""the hypervisor's power state of each cloud instance (only a running one can be live-migrated)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cloud_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('power_state', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cloud_instance', schema=None) as batch_op:
        batch_op.drop_column('power_state')
