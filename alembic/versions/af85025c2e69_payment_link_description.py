"""PaymentLink.description: what the link's payment is for

Revision ID: af85025c2e69
Revises: bcfd12ad04d0
Create Date: 2026-11-30 10:13:58.227692

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = "af85025c2e69"
down_revision: Union[str, Sequence[str], None] = "bcfd12ad04d0"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("paymentlink", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "description",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                server_default="",
                nullable=False,
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("paymentlink", schema=None) as batch_op:
        batch_op.drop_column("description")
