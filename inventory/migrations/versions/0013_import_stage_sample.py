"""staged survey samples: an import streams its samples here in short transactions

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 18:55:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_stage_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('hostname', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cpu_util', sa.Float(), nullable=False),
    sa.Column('memory_util', sa.Float(), nullable=False),
    sa.Column('disk_used_gb', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('import_stage_sample', schema=None) as batch_op:
        batch_op.create_index('ix_import_stage_sample_stage', ['stage_id', 'hostname'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # rows that live for one import: no WAL for them (a crash empties the table, which is what we want)
        op.execute('ALTER TABLE import_stage_sample SET UNLOGGED')



def downgrade() -> None:
    with op.batch_alter_table('import_stage_sample', schema=None) as batch_op:
        batch_op.drop_index('ix_import_stage_sample_stage')

    op.drop_table('import_stage_sample')
