"""Customers: PostgreSQL's outstanding and activity order indexes carry the search text

A search that many customers match, listed by outstanding balance or by last activity, walks
that order's (key, id) index and checks each customer's search text (see
mioapp.customers.search._bounded_page): a surname that a thousandth of the customers bear
passes some 25,000 of them for a page. With search_text in the index (INCLUDE, not a key:
the order and the keyset comparison are unchanged) the walk reads the index alone, where it
read a table row for each customer passed. SQLite walks those orders against the FTS index's
set of matches (index-only already): nothing to change there.

Revision ID: a9d4e6b1c8f7
Revises: f3a7c1d9b2e4
Create Date: 2026-11-30 16:20:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a9d4e6b1c8f7"
down_revision: Union[str, Sequence[str], None] = "f3a7c1d9b2e4"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_INDEXES = {
    "ix_customer_outstanding_search": "outstanding_total",
    "ix_customer_activity_search": "last_activity_at",
}


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, key in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON customer ({key}, id) INCLUDE (search_text)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.execute(f"DROP INDEX {name}")
