"""Plan items keep their network zone and destination platform (filled in from each plan's document)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 02:00:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

plan = sa.table('plan', sa.column('id', sa.Integer), sa.column('document', sa.JSON))
plan_item = sa.table('plan_item', sa.column('id', sa.Integer), sa.column('plan_id', sa.Integer),
                     sa.column('system_id', sa.Integer), sa.column('zone', sa.String),
                     sa.column('destination', sa.String))
business_system = sa.table('business_system', sa.column('id', sa.Integer), sa.column('code', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('destination', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
    connection = op.get_bind()
    ids = dict(connection.execute(sa.select(business_system.c.code, business_system.c.id)).all())
    for plan_id, document in connection.execute(sa.select(plan.c.id, plan.c.document)).all():
        items: list[dict[str, Any]] = [i for w in (document or {}).get('waves', []) for i in w.get('items', [])]
        items += (document or {}).get('not_migrated', [])
        rows = [{'p': plan_id, 's': ids[i['system']], 'z': i.get('zone'),
                 'd': (i.get('destination') or {}).get('platform')}
                for i in items if i.get('system') in ids and (i.get('zone') or i.get('destination'))]
        if rows:
            connection.execute(
                plan_item.update().where(plan_item.c.plan_id == sa.bindparam('p'),
                                         plan_item.c.system_id == sa.bindparam('s'))
                .values(zone=sa.bindparam('z'), destination=sa.bindparam('d')), rows)


def downgrade() -> None:
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.drop_column('destination')
        batch_op.drop_column('zone')
