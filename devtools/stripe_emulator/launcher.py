# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""Start and stop the emulator as a child process, for tests and dev scripts.

emulator = start_emulator(port=free_port(), secret_key="sk_test_...")
try:
    client = stripe.StripeClient("sk_test_...", base_addresses={"api": emulator.base_url})
    ...
    emulator.reset()
finally:
    emulator.stop()
"""

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from . import PID_HEADER, WEBHOOK_ID

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_GRACE = 5.0


class EmulatorStartError(RuntimeError):
    """The emulator exited or did not answer HTTP in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class EmulatorProcess:
    """A running emulator; ``stop()`` it (or use it as a context manager)."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    delete_log_on_stop: bool = field(default=False, repr=False)

    @property
    def base_url(self) -> str:
        """Base address for ``StripeClient(base_addresses={"api": ...})``."""
        return f"http://{HOST}:{self.port}"

    @property
    def js_url(self) -> str:
        """The fake Stripe.js to load instead of https://js.stripe.com/v3/."""
        return f"{self.base_url}/js.stripe.com/v3/"

    def reset(self) -> None:
        """Delete every object and idempotency key, and register the webhook again."""
        self._request("DELETE", "/_config/data")
        if self.webhook_url and self.webhook_secret:
            form = {"url": self.webhook_url, "secret": self.webhook_secret}
            self._request("POST", f"/_config/webhooks/{WEBHOOK_ID}", form)

    @contextlib.contextmanager
    def webhooks_paused(self) -> Iterator[None]:
        """Deliver nothing to the app meanwhile (a missed webhook), then resume."""
        self._request(
            "POST",
            f"/_config/webhooks/{WEBHOOK_ID}",
            {"url": "http://127.0.0.1:9/nowhere", "secret": self.webhook_secret or "whsec_x"},
        )
        try:
            yield
        finally:
            if self.webhook_url and self.webhook_secret:
                form = {"url": self.webhook_url, "secret": self.webhook_secret}
                self._request("POST", f"/_config/webhooks/{WEBHOOK_ID}", form)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after a grace period, then wait."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                log.warning("Stripe emulator ignored SIGTERM; killing it")
                self._signal(signal.SIGKILL)
                self.process.wait()
        if self.delete_log_on_stop:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.log_path)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the emulator's log, for error messages."""
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _request(self, method: str, path: str, form: dict[str, str] | None = None) -> None:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def _answers_http(self) -> bool:
        """Whether this process (not another server on the port) answers HTTP."""
        try:
            with urllib.request.urlopen(self.js_url, timeout=1) as response:
                return response.headers.get(PID_HEADER) == str(self.process.pid)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


def start_emulator(
    *,
    port: int,
    secret_key: str | None = None,
    publishable_key: str | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    log_path: str | None = None,
    store_path: str | None = None,
) -> EmulatorProcess:
    """Start ``python -m devtools.stripe_emulator`` in its own process group and wait until
    it answers HTTP. Output goes to ``log_path`` (a temporary file removed by ``stop()`` if
    not given). Data stays in memory unless ``store_path`` names a file to keep it in across
    restarts. Raises ``EmulatorStartError`` with the log tail if it dies or times out."""
    command = [sys.executable, "-m", "devtools.stripe_emulator", "--port", str(port)]
    command += ["--host", HOST]
    for flag, value in (
        ("--secret-key", secret_key),
        ("--publishable-key", publishable_key),
        ("--webhook-url", webhook_url),
        ("--webhook-secret", webhook_secret),
        ("--store-path", store_path),
    ):
        if value is not None:
            command += [flag, value]

    owns_log = log_path is None
    if log_path is None:
        fd, log_path = tempfile.mkstemp(prefix="stripe-emulator-", suffix=".log")
        os.close(fd)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    emulator = EmulatorProcess(
        process=process,
        port=port,
        log_path=log_path,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        delete_log_on_stop=owns_log,
    )

    deadline = time.monotonic() + START_TIMEOUT
    while not emulator._answers_http():
        if process.poll() is not None:
            tail = emulator.log_tail()
            emulator.stop()
            raise EmulatorStartError(
                f"Stripe emulator exited with code {process.returncode}; log:\n{tail}"
            )
        if time.monotonic() > deadline:
            tail = emulator.log_tail()
            emulator.stop()
            raise EmulatorStartError(
                f"Stripe emulator did not answer on {emulator.base_url} within "
                f"{START_TIMEOUT:.0f} s; log:\n{tail}"
            )
        time.sleep(0.05)
    log.info("Stripe emulator ready at %s (pid %d)", emulator.base_url, process.pid)
    return emulator
