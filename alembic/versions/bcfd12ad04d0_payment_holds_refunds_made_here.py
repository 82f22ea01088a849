"""Payment.hold_until (abandoned attempts release their hold); refunds made here, row first

Revision ID: bcfd12ad04d0
Revises: 7d0c77b37a2b
Create Date: 2026-11-30 09:34:59.418440

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = "bcfd12ad04d0"
down_revision: Union[str, Sequence[str], None] = "7d0c77b37a2b"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hold_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failure_message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("created_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_refund_idempotency_key", ["idempotency_key"])
        batch_op.create_foreign_key(
            "fk_refund_created_by_user_id", "merchantuser", ["created_by_user_id"], ["id"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_constraint("fk_refund_created_by_user_id", type_="foreignkey")
        batch_op.drop_constraint("uq_refund_idempotency_key", type_="unique")
        batch_op.drop_column("created_by_user_id")
        batch_op.drop_column("failure_message")
        batch_op.drop_column("idempotency_key")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("hold_until")
