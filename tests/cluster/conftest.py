"""Cluster-test fixtures: `make run-cluster`'s processes on free ports, isolated.

A PostgreSQL database and a Redis job queue of their own, so nothing else meets them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import RedisExpireHuey
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from devtools.cluster import DEFAULT_REDIS_URL, Cluster
from devtools.stack import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, free_port
from mioapp.payments.gateway import StripeCredentials
from tests.processes.helpers import scratch_postgres

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/cluster/" in item.nodeid:
            item.add_marker(pytest.mark.cluster)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two instances (two workers each) behind nginx, two consumers, emulator, mail server.

    Its PostgreSQL database is created for it and dropped after (the suite's own database,
    SQLite or PostgreSQL, is left to the other tests); its job queue has a name of its own
    on the local Redis, so nothing else's consumers take its jobs.
    """
    queue = f"mio-test-{secrets.token_hex(4)}"
    with scratch_postgres("mio_cluster") as database_url:
        cluster = Cluster(
            port=free_port(),
            data_dir=tmp_path_factory.mktemp("cluster"),
            database_url=database_url,
            redis_url=DEFAULT_REDIS_URL,
            job_queue=queue,
            seed_args=["--customers", "30", "--bookings", "90"],
        )
        try:
            with cluster.running():
                yield cluster
        finally:
            RedisExpireHuey(queue, url=DEFAULT_REDIS_URL).flush()


@pytest.fixture(scope="module")
def engine(cluster: Cluster) -> Iterator[sa.Engine]:
    """The cluster's database (overrides the suite's engine)."""
    engine = sa.create_engine(cluster.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def credentials(cluster: Cluster) -> StripeCredentials:
    return StripeCredentials(
        secret_key=EMULATOR_SECRET_KEY,
        publishable_key=EMULATOR_PUBLISHABLE_KEY,
        api_base=cluster.emulator.base_url,
    )


@pytest.fixture(autouse=True)
def no_backend_errors(cluster: Cluster) -> Iterator[None]:
    """Fail a test whose actions raised in an instance or a consumer."""
    logs = [p.log_path for p in (*cluster.apps, *cluster.consumers)]
    starts = {log: log.stat().st_size for log in logs}
    yield
    for log in logs:
        with log.open("rb") as handle:
            handle.seek(starts[log])
            new = handle.read().decode(errors="replace")
        if "Traceback" in new:
            pytest.fail(f"{log.name} shows an error:\n{new[new.index('Traceback') :][:4000]}")


@pytest.fixture
def new_page(browser: Browser, cluster: Cluster, request: pytest.FixtureRequest):
    """Pages in browser contexts of their own (separate tabs, separate sign-ins)."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=cluster.base_url, viewport={"width": 1360, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for n, context in enumerate(contexts):
        if getattr(request.node, "rep_call_failed", False) and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            context.pages[0].screenshot(path=ARTIFACTS / f"{request.node.name}-{n}.png")
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report
