"""leased-line contract end per room; unit prices per platform; one audit entity name per kind

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines_contract_end', sa.Date(), nullable=True))
    with op.batch_alter_table('cloud_platform', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vcpu_monthly_cny', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('memory_gb_monthly_cny', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('storage_gb_monthly_cny', sa.Float(), nullable=True))
    # The services audited systems and platforms under their table names, the importer under "system" and
    # "platform": one name per kind, so a system's archive is one history.
    op.execute("UPDATE audit_log SET entity = 'system' WHERE entity = 'business_system'")
    op.execute("UPDATE audit_log SET entity = 'platform' WHERE entity = 'cloud_platform'")


def downgrade() -> None:
    with op.batch_alter_table('cloud_platform', schema=None) as batch_op:
        batch_op.drop_column('storage_gb_monthly_cny')
        batch_op.drop_column('memory_gb_monthly_cny')
        batch_op.drop_column('vcpu_monthly_cny')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('lines_contract_end')
