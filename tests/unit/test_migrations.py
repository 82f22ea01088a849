"""The Alembic scripts build exactly the schema the SQLModel tables describe, and move data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from devtools.migrations import ALEMBIC_INI, migrate
from mioapp.crypto import decrypt
from mioapp.notifications.render import SECRET_SLOT
from mioapp.settings import get_settings

PAY_URLS_REVISION = "7d0c77b37a2b"
PAY_URLS_REVISION_PARENT = "021627dbf459"


SEARCH_REVISION = "c4f1a9e2d7b3"
SEARCH_REVISION_PARENT = "c41f7a2e9b10"
# Customer search's index, which SQLModel cannot describe: SQLite's FTS5 table (and the shadow
# tables FTS5 keeps its index in), PostgreSQL's trigram GIN indexes, the generated column
# one of them is built on, and the order indexes that carry the search text.
SEARCH_INDEX_OBJECTS = {
    "customer_fts",
    "customer_fts_data",
    "customer_fts_idx",
    "customer_fts_docsize",
    "customer_fts_config",
    "ix_customer_search_trgm",
    "ix_customer_search_rest_trgm",
    "search_rest",
    "ix_customer_outstanding_search",
    "ix_customer_activity_search",
}


def _diff(connection: sa.Connection, metadata: sa.MetaData) -> list:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, _type, _parents: name not in SEARCH_INDEX_OBJECTS,
        },
    )
    return compare_metadata(context, metadata)


def test_database_is_at_the_single_head_revision(engine: sa.Engine) -> None:
    heads = ScriptDirectory.from_config(Config(ALEMBIC_INI)).get_heads()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert len(heads) == 1, "migrations have branched; add a merge revision"
    assert current == tuple(heads)


def test_migrated_schema_matches_the_models(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        differences = _diff(connection, SQLModel.metadata)
    assert differences == [], "models changed without a migration (alembic revision --autogenerate)"


def test_comparison_notices_a_column_missing_from_the_migrations(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["customer"].append_column(sa.Column("nickname", sa.String(40)))
    with engine.connect() as connection:
        differences = _diff(connection, metadata)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]


def test_existing_payment_link_emails_lose_their_tokens(tmp_path: Path) -> None:
    """Emails queued before pay URLs were kept out of the outbox: the upgrade takes the
    token out of every body, keeps a queued email's encrypted for sending, and the
    downgrade gives a queued email its token back."""
    token = "Tm8tbW9yZS1saXZlLWxpbmtzLWluLXRoZS1vdXRib3g"
    assert len(token) == 43
    body = f"Complete Payment: http://localhost:3000/pay/{token}\n"
    html = f'<a href="http://localhost:3000/pay/{token}">Complete Payment</a>'
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    emails = sa.table(
        "emailmessage",
        *(sa.column(name) for name in ("id", "dedupe_key", "kind", "to_address", "subject")),
        *(sa.column(name) for name in ("text_body", "html_body", "status", "attempts")),
        sa.column("next_attempt_at"),
        sa.column("created_at"),
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        migrate(connection, PAY_URLS_REVISION_PARENT)
        for n, (kind, status) in enumerate(
            [("payment_link", "queued"), ("payment_link", "sent"), ("receipt", "sent")], 1
        ):
            connection.execute(
                emails.insert().values(
                    id=n,
                    dedupe_key=f"key:{n}",
                    kind=kind,
                    to_address="ana@example.test",
                    subject="Payment request",
                    text_body=body if kind == "payment_link" else "Receipt",
                    html_body=html if kind == "payment_link" else "<p>Receipt</p>",
                    status=status,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    with engine.begin() as connection:
        migrate(connection, PAY_URLS_REVISION)
        rows = {row.id: row for row in connection.execute(sa.text("SELECT * FROM emailmessage"))}
    key = get_settings().secret_key_value()
    for row in rows.values():
        assert token not in row.text_body + row.html_body
        assert row.unconfirmed_attempts == 0
    assert rows[1].text_body == body.replace(token, SECRET_SLOT)
    assert rows[1].html_body == html.replace(token, SECRET_SLOT)
    assert decrypt(rows[1].secret_encrypted, secret_key=key) == token
    assert rows[2].secret_encrypted is None, "sent: nothing will go into its slot again"
    assert rows[3].text_body == "Receipt"

    with engine.begin() as connection:
        migrate(connection, PAY_URLS_REVISION_PARENT, down=True)
        restored = connection.execute(sa.text("SELECT text_body FROM emailmessage WHERE id = 1"))
        assert restored.scalar_one() == body
    engine.dispose()


def test_search_index_and_sort_keys_are_built_for_existing_customers(engine: sa.Engine) -> None:
    """Customers written before the search index have it (and their sort keys) after the
    upgrade, on the database the suite runs on; the downgrade removes it again."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    later = datetime(2026, 11, 20, tzinfo=UTC)
    table = sa.table
    customer = table(
        "customer", *map(sa.column, ("id", "name", "email", "phone", "search_text", "created_at"))
    )
    booking_columns = ("id", "reference", "customer_id", "tour_name", "starts_at")
    booking = table(
        "booking",
        *map(sa.column, (*booking_columns, "participants", "total_amount", "currency")),
        sa.column("created_at"),
    )
    payment_columns = ("id", "customer_id", "amount", "currency", "method_kind", "status")
    payment = table(
        "payment",
        *map(sa.column, (*payment_columns, "idempotency_key", "description")),
        *map(sa.column, ("created_at", "updated_at")),
    )
    allocation = table("paymentallocation", *map(sa.column, ("payment_id", "booking_id", "amount")))
    try:
        with engine.begin() as connection:
            migrate(connection, SEARCH_REVISION_PARENT, down=True)
            connection.execute(
                customer.insert(),
                [
                    dict(id=1, name="Ana Lima", email="ana@example.test", phone="",
                         search_text="ana lima ana@example.test  ", created_at=now),
                    dict(id=2, name="Bea Souza", email="bea@example.test", phone="",
                         search_text="bea souza bea@example.test  ", created_at=now),
                ],
            )  # fmt: skip
            connection.execute(
                booking.insert().values(
                    id=1, reference="BK-1", customer_id=1, tour_name="Kayak", starts_at=later,
                    participants=1, total_amount=9_000, currency="usd", created_at=now,
                )
            )  # fmt: skip
            connection.execute(
                payment.insert().values(
                    id=1, customer_id=1, amount=4_000, currency="usd", method_kind="new_card",
                    status="succeeded", idempotency_key="k1", description="",
                    created_at=later, updated_at=later,
                )
            )  # fmt: skip
            connection.execute(allocation.insert().values(payment_id=1, booking_id=1, amount=4_000))

        with engine.begin() as connection:
            migrate(connection, SEARCH_REVISION)
            keys = connection.execute(
                sa.text("SELECT id, outstanding_total, last_activity_at FROM customer ORDER BY id")
            ).all()
            if engine.dialect.name == "sqlite":
                found = connection.execute(
                    sa.text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH '\"souza\"'")
                ).scalars()
            else:
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                found = connection.execute(
                    sa.text("SELECT id FROM customer WHERE search_text LIKE '%souza%'")
                ).scalars()
            assert list(found) == [2]
        assert [(k.id, k.outstanding_total) for k in keys] == [(1, 5_000), (2, 0)]
        assert str(keys[0].last_activity_at).startswith("2026-11-20")
        assert str(keys[1].last_activity_at).startswith("2026-11-01")

        with engine.begin() as connection:
            migrate(connection, SEARCH_REVISION_PARENT, down=True)
            columns = {c["name"] for c in sa.inspect(connection).get_columns("customer")}
            assert "outstanding_total" not in columns
            assert "customer_fts" not in sa.inspect(connection).get_table_names()
    finally:
        with engine.begin() as connection:
            for name in ("paymentallocation", "payment", "booking", "customer"):
                connection.execute(sa.text(f"DELETE FROM {name}"))
            migrate(connection, "head")
