"""secrecy levels (a classified system's, an intranet platform's approval) and platforms' network zones

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('business_system', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrecy_level', sa.String(length=16), nullable=True))

    with op.batch_alter_table('cloud_platform', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrecy_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('network_zone', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cloud_platform', schema=None) as batch_op:
        batch_op.drop_column('network_zone')
        batch_op.drop_column('secrecy_level')

    with op.batch_alter_table('business_system', schema=None) as batch_op:
        batch_op.drop_column('secrecy_level')

