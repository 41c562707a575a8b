"""MLPS (等保) assessments per system; what a capacity request is for (system, level, classification)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mlps_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('assessor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['system_id'], ['business_system.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system_id', 'assessed_on')
    )
    with op.batch_alter_table('mlps_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mlps_assessment_system_id'), ['system_id'], unique=False)

    with op.batch_alter_table('capacity_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mlps_level', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('classified', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('system_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_capacity_request_system_id', 'business_system', ['system_id'], ['id'],
                                    ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('capacity_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_capacity_request_system_id', type_='foreignkey')
        batch_op.drop_column('system_id')
        batch_op.drop_column('classified')
        batch_op.drop_column('mlps_level')

    with op.batch_alter_table('mlps_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mlps_assessment_system_id'))

    op.drop_table('mlps_assessment')
