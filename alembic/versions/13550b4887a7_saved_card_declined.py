"""SavedCard.declined_code/declined_at: a card found dead (expired, lost, stolen) is flagged

Revision ID: 13550b4887a7
Revises: 9a8e3175a959
Create Date: 2026-11-30 10:47:56.265495

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = "13550b4887a7"
down_revision: Union[str, Sequence[str], None] = "9a8e3175a959"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("savedcard", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("declined_code", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column("declined_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("savedcard", schema=None) as batch_op:
        batch_op.drop_column("declined_at")
        batch_op.drop_column("declined_code")
