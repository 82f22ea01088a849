"""A process forked after its parent used the database gets connections of its own.

Granian forks its web workers from a supervisor that has imported the app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes.helpers import scratch_postgres

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]

# Runs in a process of its own, whose DATABASE_URL is PostgreSQL: the failures the fork
# causes there ("can't change 'autocommit' now", "server closed the connection") come from
# two processes talking over one server connection. A server connection is one backend
# process, so its pid tells whose connection a query used.
PROBE = """
import gc, json, os
import sqlalchemy as sa
import reflex.model
from mioapp import db

def backends():
    found = {}
    for name, engine in (("ours", db.get_engine()), ("reflex", reflex.model.get_engine())):
        with engine.connect() as connection:
            found[name] = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    return found

before = backends()  # each engine now holds a pooled connection, as a supervisor may
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        child = backends()
        # Whatever the child dropped of the parent's pool must not close the parent's socket.
        gc.collect()
        os.write(write, json.dumps(child).encode())
    finally:
        os._exit(0)
os.close(write)
during = backends()
os.waitpid(pid, 0)
child = json.loads(os.read(read, 4096) or b"null")
after = backends()
print(json.dumps({"before": before, "during": during, "child": child, "after": after}))
"""


def test_forked_child_and_parent_query_on_connections_of_their_own() -> None:
    with scratch_postgres("mio_fork") as url:
        env = dict(os.environ, DATABASE_URL=url)
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["child"] is not None, result.stderr[-3000:]
    for engine in ("ours", "reflex"):
        parent = seen["before"][engine]
        # The parent kept its pooled connection, working, while and after the child ran.
        assert seen["during"][engine] == parent
        assert seen["after"][engine] == parent
        # The child opened its own instead of borrowing the parent's.
        assert seen["child"][engine] != parent
