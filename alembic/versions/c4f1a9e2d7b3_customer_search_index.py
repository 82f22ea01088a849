"""Customers: a substring index for search, and sort keys for keyset paging

SQLite: an external-content FTS5 table with the trigram tokenizer over customer.search_text,
kept in step by triggers. PostgreSQL: pg_trgm and a GIN index on search_text. Both: the
outstanding total and last activity of each customer (the list's sort keys), backfilled from
the ledger, and one (key, id) index per order of the list.

Revision ID: c4f1a9e2d7b3
Revises: c41f7a2e9b10
Create Date: 2026-11-30 13:00:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = "c4f1a9e2d7b3"
down_revision: Union[str, Sequence[str], None] = "c41f7a2e9b10"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# What each booking still owes (never below zero), from succeeded payments and refunds only:
# mioapp.billing.ledger as SQL, frozen here as it stood when the columns were added.
_OWED = """
    b.total_amount
    - (SELECT coalesce(sum(pa.amount), 0) FROM paymentallocation pa
       JOIN payment p ON p.id = pa.payment_id
       WHERE pa.booking_id = b.id AND p.status = 'succeeded')
    + (SELECT coalesce(sum(ra.amount), 0) FROM refundallocation ra
       JOIN refund r ON r.id = ra.refund_id
       WHERE ra.booking_id = b.id AND r.status = 'succeeded')
"""


def _backfill(greatest: str) -> str:
    return f"""
    UPDATE customer SET
      outstanding_total = (
        SELECT coalesce(sum(CASE WHEN ({_OWED}) > 0 THEN ({_OWED}) ELSE 0 END), 0)
        FROM booking b WHERE b.customer_id = customer.id
      ),
      last_activity_at = {greatest}(
        customer.created_at,
        coalesce((SELECT max(created_at) FROM booking WHERE customer_id = customer.id),
                 customer.created_at),
        coalesce((SELECT max(created_at) FROM payment WHERE customer_id = customer.id),
                 customer.created_at),
        coalesce((SELECT max(r.created_at) FROM refund r JOIN payment p ON p.id = r.payment_id
                  WHERE p.customer_id = customer.id),
                 customer.created_at)
      )
    """


_SQLITE_SEARCH = [
    # External content: the text lives once, in customer.search_text; FTS keeps the trigrams.
    # case_sensitive 1: search_text and queries are case-folded by Python (str.casefold), so
    # the index matches exactly what the app folded, accents included.
    """CREATE VIRTUAL TABLE customer_fts USING fts5(
        search_text, content='customer', content_rowid='id',
        tokenize='trigram case_sensitive 1')""",
    "INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')",
    """CREATE TRIGGER customer_fts_insert AFTER INSERT ON customer BEGIN
        INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER customer_fts_delete AFTER DELETE ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER customer_fts_update AFTER UPDATE OF search_text ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]


def upgrade() -> None:
    """Upgrade schema."""
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "customer",
        sa.Column("outstanding_total", sa.Integer(), server_default="0", nullable=False),
    )
    # SQLite adds a NOT NULL column only with a constant default; the backfill replaces it.
    op.add_column(
        "customer",
        sa.Column(
            "last_activity_at",
            sqlmodel.sql.sqltypes.UTCDateTime(),
            server_default=sa.text(
                "'1970-01-01 00:00:00+00'" if postgres else "'1970-01-01 00:00:00.000000'"
            ),
            nullable=False,
        ),
    )
    op.execute(_backfill("greatest" if postgres else "max"))
    if postgres:
        op.alter_column("customer", "last_activity_at", server_default=None)
    op.drop_index("ix_customer_search_text", table_name="customer")
    op.create_index("ix_customer_name_order", "customer", ["search_text", "id"])
    op.create_index("ix_customer_outstanding_order", "customer", ["outstanding_total", "id"])
    op.create_index("ix_customer_activity_order", "customer", ["last_activity_at", "id"])
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_customer_search_trgm ON customer USING gin (search_text gin_trgm_ops)"
        )
    else:
        for statement in _SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema (pg_trgm stays installed: other objects may use it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_customer_search_trgm")
    else:
        for name in ("customer_fts_insert", "customer_fts_delete", "customer_fts_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE customer_fts")
    op.drop_index("ix_customer_activity_order", table_name="customer")
    op.drop_index("ix_customer_outstanding_order", table_name="customer")
    op.drop_index("ix_customer_name_order", table_name="customer")
    op.create_index("ix_customer_search_text", "customer", ["search_text"])
    # SQLite drops columns in place since 3.35 (no table copy under the bookings' keys).
    op.drop_column("customer", "last_activity_at")
    op.drop_column("customer", "outstanding_total")
