"""Planned capacity expansions of cloud platforms (扩容计划)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_expansion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('ready_on', sa.Date(), nullable=False),
    sa.Column('vcpus', sa.Integer(), nullable=False),
    sa.Column('memory_gb', sa.Float(), nullable=False),
    sa.Column('storage_gb', sa.Float(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['cloud_platform.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id', 'ready_on')
    )
    with op.batch_alter_table('platform_expansion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_expansion_platform_id'), ['platform_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('platform_expansion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_expansion_platform_id'))
    op.drop_table('platform_expansion')
