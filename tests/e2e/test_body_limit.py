"""Oversized request bodies against the real app: refused with 413, never held in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.stack import LocalStack

FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"\x00" * (256 * 1024)


def tree_rss(pid: int) -> int:
    """Resident bytes of the app: `reflex run` and every process under it (Granian's workers).

    Read from /proc (psutil is not among the test dependencies)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces: split after its closing ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class PeakRss:
    """Samples the app's memory every 20 ms while a request is in flight."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = tree_rss(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)  # anything the app buffered late still shows
        self._done.set()
        self._thread.join()


def fifty_megabytes() -> Iterator[bytes]:
    for _ in range(FIFTY_MB // len(CHUNK)):
        yield CHUNK


def post(stack: LocalStack, *, declared: bool) -> int:
    """POST 50 MB of unsigned junk to the webhook; the status the app answered with."""
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(FIFTY_MB)
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        return client.post(
            "/api/stripe/webhook", content=fifty_megabytes(), headers=headers
        ).status_code


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_fifty_megabyte_webhook_post_is_refused_without_growing_the_app(
    stack: LocalStack, declared: bool
) -> None:
    pid = stack.app.popen.pid
    before = tree_rss(pid)
    with PeakRss(pid) as memory:
        statuses = [post(stack, declared=declared) for _ in range(3)]
    assert statuses == [413, 413, 413]
    growth = memory.peak - before
    assert growth < 20 * 1024 * 1024, f"the app grew by {growth / 2**20:.1f} MB"
    # And the endpoint still works for a body of a sane size.
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        reply = client.post("/api/stripe/webhook", content=b"{}")
    assert reply.status_code == 400
