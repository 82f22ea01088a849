"""Starts and stops a local MioCommerce: emulator, mail, migrations, demo data, app, jobs.

`python -m devtools.stack run` is what `make run` calls; the browser tests use `LocalStack`.
Every process runs in its own process group and is stopped for sure (TERM, then KILL).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.mailserver import LocalMailServer, start_mail_server
from devtools.stripe_emulator.launcher import EmulatorProcess, start_emulator

if TYPE_CHECKING:
    from devtools.cluster import Cluster

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
logger = logging.getLogger("stack")

# Keys the local emulator accepts; they only ever work against it, never against Stripe.
EMULATOR_SECRET_KEY = "sk_test_emulator_51MioCommerceLocalDemo000000000000"
EMULATOR_PUBLISHABLE_KEY = "pk_test_emulator_51MioCommerceLocalDemo000000000000"
EMULATOR_WEBHOOK_SECRET = "whsec_emulator_MioCommerceLocalDemo0000000000"
# Lets the tests and benchmarks read /api/metrics of a local app (never set in production).
METRICS_TOKEN = "local-metrics-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 8.0) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def start_process(name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> ManagedProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def wait_for_http(url: str, process: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(
        f"{process.name} did not answer {url} in {timeout:.0f}s:\n{process.log_tail()}"
    )


def reflex_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for Reflex and the app: no telemetry, no version checks, no downloads."""
    env = dict(os.environ)
    env.update(
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        PYTHONUNBUFFERED="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.setdefault("NPM_CONFIG_REGISTRY", _npm_registry())
    env.update(extra)
    return env


def _npm_registry() -> str:
    try:
        out = subprocess.run(
            ["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "https://registry.npmjs.org/"


def stop_on_signals() -> None:
    """Turn Ctrl-C and SIGTERM into KeyboardInterrupt, once: the clean-up it starts must finish.

    A process manager signals the whole process group, and GNU make forwards SIGTERM to its
    child as well, so a second signal often arrives while the children are being stopped;
    raised there, it would leave them running. SIGINT may arrive ignored (`make` in the
    background), hence setting both handlers explicitly.
    """

    def _interrupt(signum, frame):
        ignore_stop_signals()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def ignore_stop_signals() -> None:
    """Called when stopping begins: from here on SIGINT and SIGTERM change nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def start_consumer(env: dict[str, str], log_path: Path, name: str = "jobs") -> ManagedProcess:
    """A job consumer (`python -m mioapp.jobs`): sends the outbox, runs periodic tasks."""
    return start_process(name, [sys.executable, "-m", "mioapp.jobs"], env, log_path)


def wait_for_log(process: ManagedProcess, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        if text in process.log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{process.name} did not log {text!r} in {timeout:.0f}s")


# Running tasks get this long to finish once a consumer is asked to stop (see mioapp.jobs).
CONSUMER_STOP_GRACE = 30.0
CONSUMER_READY = "Huey consumer started"


def run_step(description: str, cmd: list[str], env: dict[str, str]) -> None:
    logger.info("==> %s", description)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def prepare_database(
    env: dict[str, str], seed_args: list[str], emulator: EmulatorProcess | None
) -> None:
    """Apply the migrations, then load the demo data unless the database has it already."""
    run_step("applying database migrations", [str(BIN / "reflex"), "db", "migrate"], env)
    seed = [sys.executable, "-m", "devtools.demo", "--if-empty", *seed_args]
    if emulator is not None:
        seed += [
            "--connect",
            EMULATOR_SECRET_KEY,
            EMULATOR_PUBLISHABLE_KEY,
            "--webhook-secret",
            EMULATOR_WEBHOOK_SECRET,
        ]
    else:
        seed.append("--no-stripe")
    run_step("loading the Live Tour demo data (first run only)", seed, env)


@dataclass
class LocalStack:
    """The app with its own database, emulator, mail server, job consumer and port;
    `start()` then `stop()`.

    `mail` is the local SMTP server the consumer sends through (in this process, so tests
    read `stack.mail.messages()`); it keeps every message in `<data_dir>/mail`. The job queue
    is the SQLite file in `data_dir`, so a process with the same DATA_DIR (a test) that
    queues an email nudges this stack's consumer.
    """

    port: int
    data_dir: Path
    database_url: str = ""
    use_emulator: bool = True
    emulator_port: int | None = None
    seed_args: list[str] = field(default_factory=list)
    emulator_store: Path | None = None
    use_mail_server: bool = True
    mail_port: int | None = None
    emulator: EmulatorProcess | None = None
    mail: LocalMailServer | None = None
    app: ManagedProcess | None = None
    consumer: ManagedProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.port}"

    def app_env(self) -> dict[str, str]:
        extra = {
            "APP_BASE_URL": self.base_url,
            "DATA_DIR": str(self.data_dir),
            "METRICS_TOKEN": METRICS_TOKEN,
            # Without Redis, the consumer tells the app which customers' emails it sent, so
            # their open pages update (mioapp.changes).
            "INTERNAL_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        if self.database_url:
            extra["DATABASE_URL"] = self.database_url
        if self.emulator is not None:
            extra.update(STRIPE_API_BASE=self.emulator.base_url, STRIPE_JS_URL=self.emulator.js_url)
        if self.mail is not None:
            extra["SMTP_URL"] = self.mail.url
        return reflex_env(extra)

    def start(self) -> LocalStack:
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken; choose another (PORT=...)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        if self.use_emulator:
            logger.info("==> starting the Stripe emulator")
            self.emulator = start_emulator(
                port=self.emulator_port or free_port(),
                secret_key=EMULATOR_SECRET_KEY,
                publishable_key=EMULATOR_PUBLISHABLE_KEY,
                webhook_url=f"{self.base_url}/api/stripe/webhook",
                webhook_secret=EMULATOR_WEBHOOK_SECRET,
                log_path=str(logs / "stripe-emulator.log"),
                **({"store_path": str(self.emulator_store)} if self.emulator_store else {}),
            )
        if self.use_mail_server:
            logger.info("==> starting the local mail server")
            self.mail = start_mail_server(self.mail_port or free_port(), self.data_dir / "mail")
        env = self.app_env()
        prepare_database(env, self.seed_args, self.emulator)
        logger.info("==> starting a job consumer (email, periodic tasks)")
        self.consumer = start_consumer(env, logs / "jobs.log")
        logger.info("==> building and starting the app on %s", self.base_url)
        self.app = start_process(
            "app",
            [
                str(BIN / "reflex"),
                "run",
                "--env",
                "prod",
                "--frontend-port",
                str(self.port),
                "--backend-port",
                str(self.port),
            ],
            env,
            logs / "app.log",
        )
        wait_for_http(f"http://127.0.0.1:{self.port}/api/health", self.app, timeout=300)
        wait_for_http(f"http://127.0.0.1:{self.port}/login", self.app, timeout=120)
        wait_for_log(self.consumer, CONSUMER_READY, timeout=60)
        return self

    def stop(self) -> None:
        """Stop what is running; calling it again does nothing."""
        app, consumer, mail, emulator = self.app, self.consumer, self.mail, self.emulator
        self.app = self.consumer = self.mail = self.emulator = None
        try:
            if app is not None:
                app.stop()
            if consumer is not None:
                consumer.stop(grace=CONSUMER_STOP_GRACE)
        finally:
            if mail is not None:
                mail.stop()
            if emulator is not None:
                emulator.stop()

    def stopped_process(self) -> ManagedProcess | None:
        """The app or the consumer if it has exited by itself, else None."""
        for process in (self.app, self.consumer):
            if process is not None and process.popen.poll() is not None:
                return process
        return None

    @contextlib.contextmanager
    def running(self) -> Iterator[LocalStack]:
        try:
            yield self.start()
        finally:
            self.stop()


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack", description=__doc__)
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # aiosmtpd logs every SMTP command at INFO; the mail server's one line a message is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
    from mioapp.settings import Settings

    port = int(os.environ.get("PORT", "3000"))
    if not port_is_free(port):
        logger.error("Port %s is taken; set PORT to another port.", port)
        return 1
    settings = Settings()
    real_stripe = settings.stripe_secret_key is not None and not settings.stripe_api_base
    # An SMTP_URL of the user's own (environment or .env) means real mail: no local server.
    real_mail = "smtp_url" in settings.model_fields_set
    mail_port = int(os.environ.get("MAIL_PORT", "8025"))
    if not real_mail and not port_is_free(mail_port):
        logger.error(
            "Port %s (local mail server) is taken; set MAIL_PORT to another port.", mail_port
        )
        return 1
    stack = LocalStack(
        port=port,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        use_emulator=not real_stripe,
        emulator_port=int(os.environ.get("STRIPE_EMULATOR_PORT", "8420")),
        emulator_store=settings.data_dir / "stripe-emulator.pickle",
        use_mail_server=not real_mail,
        mail_port=mail_port,
    )

    def announce() -> None:
        if real_stripe:
            stripe_note = "your Stripe account (keys from the environment)"
        else:
            stripe_note = (
                "simulated by the local emulator; its keys for Settings -> Payments:\n"
                f"            {EMULATOR_SECRET_KEY}\n            {EMULATOR_PUBLISHABLE_KEY}"
            )
        if stack.mail is not None:
            mail_note = (
                f"local SMTP server on port {stack.mail.port}; messages kept in\n"
                f"            {stack.mail.store_dir} and listed on the Outbox page"
            )
        else:
            mail_note = "sent through your SMTP_URL"
        logger.info(
            "\n  MioCommerce is running at %s\n\n  Sign in:  %s\n  Password: %s\n"
            "  Stripe:   %s\n  Email:    %s\n\n  Press Ctrl-C to stop.\n",
            stack.base_url,
            DEMO_EMAIL,
            DEMO_PASSWORD,
            stripe_note,
            mail_note,
        )

    return serve_until_stopped(stack, announce)


def serve_until_stopped(stack: LocalStack | Cluster, announce: Callable[[], None]) -> int:
    """Starts `stack` and runs it until Ctrl-C or `kill` (0) or until one of its processes
    stops (1, with that process's last log lines); stops all of it either way."""
    # Ctrl-C and `kill` both end in the `finally` below, which no further signal interrupts.
    stop_on_signals()
    try:
        stack.start()
        announce()
        while (stopped := stack.stopped_process()) is None:
            time.sleep(0.5)
        logger.error("The %s stopped:\n%s", stopped.name, stopped.log_tail())
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        ignore_stop_signals()
        logger.info("Stopping…")
        stack.stop()


if __name__ == "__main__":
    sys.exit(run())
