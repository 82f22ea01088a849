"""The Alembic scripts build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


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
