"""The Alembic scripts build exactly the schema the SQLModel tables describe, and move data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from mioapp.crypto import decrypt
from mioapp.notifications.render import SECRET_SLOT
from mioapp.settings import get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
PAY_URLS_REVISION = "7d0c77b37a2b"
PAY_URLS_REVISION_PARENT = "021627dbf459"


def _diff(connection: sa.Connection, metadata: sa.MetaData) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
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


def _migrate(connection: sa.Connection, target: str, *, down: bool = False) -> None:
    """Move `connection`'s database to revision `target` the way `reflex db migrate` does."""
    config = Config(ALEMBIC_INI)
    script = ScriptDirectory.from_config(config)
    step = script._downgrade_revs if down else script._upgrade_revs
    with EnvironmentContext(config, script, fn=lambda rev, _context: step(target, rev)) as env:
        env.configure(connection=connection)
        env.run_migrations()


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
        _migrate(connection, PAY_URLS_REVISION_PARENT)
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
        _migrate(connection, PAY_URLS_REVISION)
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
        _migrate(connection, PAY_URLS_REVISION_PARENT, down=True)
        restored = connection.execute(sa.text("SELECT text_body FROM emailmessage WHERE id = 1"))
        assert restored.scalar_one() == body
    engine.dispose()
