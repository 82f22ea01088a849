"""Customers: PostgreSQL keeps the search text past its leading word as a stored column

The trigram index of `customer_search_rest(search_text)` (migration e8b3d6f0a2c5) is lossy:
PostgreSQL checks every row it finds against the expression again, and the function (two
regular expressions, one built from the row's own leading word, compiled for each row) costs
30-70 microseconds a row, 40-60 ms for the few thousand rows a first name such as "tina"
finds there. The same text as a generated column is computed once, when the row is written
(as the index did), and checked as a plain column; the index is rebuilt on it. SQLite's FTS5
table answers the same without it: nothing to change there.

Revision ID: f3a7c1d9b2e4
Revises: e8b3d6f0a2c5
Create Date: 2026-11-30 16:05:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f3a7c1d9b2e4"
down_revision: Union[str, Sequence[str], None] = "e8b3d6f0a2c5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_customer_search_rest_trgm")
    op.execute(
        "ALTER TABLE customer ADD COLUMN search_rest text "
        "GENERATED ALWAYS AS (customer_search_rest(search_text)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_customer_search_rest_trgm ON customer USING gin (search_rest gin_trgm_ops)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_customer_search_rest_trgm")
    op.execute("ALTER TABLE customer DROP COLUMN search_rest")
    op.execute(
        "CREATE INDEX ix_customer_search_rest_trgm ON customer "
        "USING gin (customer_search_rest(search_text) gin_trgm_ops)"
    )
