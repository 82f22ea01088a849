"""`make run` stops everything it started when a process manager sends SIGTERM to its group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.stack import free_port
from mioapp.settings import Settings
from tests.processes.helpers import (
    alive,
    command_line,
    descendants,
    kill_all,
    port_open,
    wait_until,
)

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 600.0
STOP_DEADLINE = 45.0


def _serving(port: int, log: Path) -> bool:
    if "MioCommerce is running at" not in log.read_text(errors="replace"):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_sigterm_to_the_process_group_stops_every_child(tmp_path: Path) -> None:
    port, mail_port, emulator_port = free_port(), free_port(), free_port()
    # `make run` as a new user runs it: no setting of ours leaks in from the test process.
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        PORT=str(port),
        MAIL_PORT=str(mail_port),
        STRIPE_EMULATOR_PORT=str(emulator_port),
        DATA_DIR=str(tmp_path / "data"),
    )
    log = tmp_path / "stack.log"
    with log.open("wb") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "devtools.stack", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    children: set[int] = set()
    try:
        wait_until(
            lambda: stack.poll() is not None or _serving(port, log), "the stack", START_TIMEOUT
        )
        assert stack.poll() is None, log.read_text(errors="replace")[-4000:]
        children = descendants(stack.pid)
        commands = [command_line(pid) for pid in children]
        assert any("reflex run" in c for c in commands), commands
        assert any("stripe_emulator" in c or "localstripe" in c for c in commands), commands
        assert any("mioapp.jobs" in c for c in commands), commands

        # The group gets SIGTERM; more follow while the stack is stopping (GNU make forwards
        # the signal to its child, and managers repeat it), as a process manager does.
        for pause in (0.05, 0.3, 1.0):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(stack.pid, signal.SIGTERM)
            time.sleep(pause)

        stack.wait(timeout=STOP_DEADLINE)
        wait_until(
            lambda: not any(alive(pid) for pid in children),
            "every child of the stack to exit",
            STOP_DEADLINE,
        )
        wait_until(
            lambda: not any(port_open(p) for p in (port, mail_port, emulator_port)),
            "the ports to close",
            10,
        )
        assert "Stopping" in log.read_text(errors="replace")
    finally:
        leftovers = {pid for pid in children | descendants(stack.pid) if alive(pid)}
        kill_all(leftovers | ({stack.pid} if stack.poll() is None else set()))
        if stack.poll() is None:
            stack.wait(10)
