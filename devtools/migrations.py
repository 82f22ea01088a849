"""The Alembic scripts applied to a live connection the way `reflex db migrate` does, for
the tests' schema and the benchmarks' databases.

Reflex never runs alembic/env.py (its URL is a placeholder and its metadata None): it opens
an EnvironmentContext on the script directory and hands it a live connection. Doing the
same keeps a test or bench schema identical to a deployed one.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def migrate(connection: sa.Connection, target: str = "head", *, down: bool = False) -> None:
    """Move `connection`'s database up (or `down`) to revision `target`."""
    config = Config(ALEMBIC_INI)
    script = ScriptDirectory.from_config(config)
    step = script._downgrade_revs if down else script._upgrade_revs
    with EnvironmentContext(config, script, fn=lambda rev, _context: step(target, rev)) as env:
        env.configure(connection=connection)
        env.run_migrations()
