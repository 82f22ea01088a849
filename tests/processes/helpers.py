"""Helpers for tests that start real processes: process trees, ports, scratch databases.

The process tree is read from Linux's /proc (psutil is not installed).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from devtools.cluster import drop_postgres_database, ensure_postgres_database

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of `pid`, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (2nd field) is in parentheses and may contain spaces.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running (zombies, which only wait for their parent to reap them, count as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def descendants(root: int) -> set[int]:
    """Every live process below `root`, whatever session or process group it moved to."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and alive(child):
                found.add(child)
                stack.append(child)
    return found


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], object], what: str, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def kill_all(pids: set[int]) -> None:
    """Clean-up after a failed test: SIGKILL whatever is left, by process id."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; its URL.

    On the suite's server when it runs on PostgreSQL (TEST_DATABASE_URL), else on the local
    one. The name is unique to this process, so parallel runs on one server never meet.
    """
    suite = os.environ.get("TEST_DATABASE_URL", "")
    server = make_url(suite if suite.startswith("postgresql") else LOCAL_POSTGRES)
    url = server.set(database=f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}")
    rendered = url.render_as_string(hide_password=False)
    ensure_postgres_database(rendered)
    try:
        yield rendered
    finally:
        drop_postgres_database(rendered)
