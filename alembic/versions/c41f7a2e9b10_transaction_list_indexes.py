"""Payments page: indexes that read payments and refunds newest first, in keyset order

The single-column index on payment.created_at is replaced by (created_at, id), the order
the page's keyset walks; status, method and customer each get that order behind them.

Revision ID: c41f7a2e9b10
Revises: 5b1e0c7d9a42
Create Date: 2026-11-30 13:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c41f7a2e9b10"
down_revision: Union[str, Sequence[str], None] = "5b1e0c7d9a42"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PAYMENT_INDEXES = {
    "ix_payment_created_at_id": ["created_at", "id"],
    "ix_payment_status_created_at_id": ["status", "created_at", "id"],
    "ix_payment_method_kind_created_at_id": ["method_kind", "created_at", "id"],
    "ix_payment_customer_id_created_at_id": ["customer_id", "created_at", "id"],
}
REFUND_INDEXES = {
    "ix_refund_created_at_id": ["created_at", "id"],
    "ix_refund_status_created_at_id": ["status", "created_at", "id"],
}


def upgrade() -> None:
    for name, columns in PAYMENT_INDEXES.items():
        op.create_index(name, "payment", columns)
    for name, columns in REFUND_INDEXES.items():
        op.create_index(name, "refund", columns)
    op.drop_index("ix_payment_created_at", table_name="payment")


def downgrade() -> None:
    op.create_index("ix_payment_created_at", "payment", ["created_at"])
    for name in REFUND_INDEXES:
        op.drop_index(name, table_name="refund")
    for name in PAYMENT_INDEXES:
        op.drop_index(name, table_name="payment")
