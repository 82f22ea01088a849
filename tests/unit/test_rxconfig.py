"""rxconfig.py: Reflex's own settings that come from the environment, set from ours."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mioapp.settings import PROJECT_ROOT

READ_BACK = (
    "import rxconfig; from reflex_base.environment import environment;"
    "print(os.environ['GRANIAN_WORKERS'], environment.REFLEX_OPLOCK_ENABLED.get())"
)


def reflex_sees(tmp_path, **env: str) -> str:
    """What Reflex reads after rxconfig ran with `env` (in a fresh interpreter: rxconfig
    sets process-wide environment variables on import)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_WORKERS")}
    clean = {k: v for k, v in clean.items() if not k.startswith(("STATE_", "REFLEX_OPLOCK"))}
    result = subprocess.run(
        [sys.executable, "-c", f"import os; {READ_BACK}"],
        cwd=PROJECT_ROOT,
        env={**clean, "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "seen"),
    [
        ({}, "1 False"),  # one process, page state in memory: no Redis lock to keep
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "WEB_WORKERS": "2"}, "2 True"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "STATE_LEASES": "false"}, "1 False"),
    ],
)
def test_workers_and_state_leases_come_from_the_settings(tmp_path, env, seen) -> None:
    assert reflex_sees(tmp_path, **env) == seen
