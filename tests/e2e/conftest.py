"""Browser-test fixtures: the real app (prod build) with the Stripe emulator, and Chromium."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from devtools.stack import (
    EMULATOR_PUBLISHABLE_KEY,
    EMULATOR_SECRET_KEY,
    LocalStack,
    free_port,
)
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.payments.gateway import StripeCredentials
from mioapp.settings import get_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# A payment round trip (server, Stripe, browser, server, redirect) can take a few seconds
# on a busy CI machine; Playwright's 5 s default for assertions is too tight for it.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


RUNNING_STACK = pytest.StashKey[LocalStack]()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the app and its job consumer as soon as the last browser test is done: the
    consumer (mail) and page watchers would otherwise keep working on the database the next
    tests empty and reuse."""
    last_browser_test = "tests/e2e/" in item.nodeid and (
        nextitem is None or "tests/e2e/" not in nextitem.nodeid
    )
    if last_browser_test and RUNNING_STACK in item.config.stash:
        item.config.stash[RUNNING_STACK].stop()


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest,
    database_url: str,
    engine: sa.Engine,
) -> Iterator[LocalStack]:
    """One app for the browser tests, on a free port, with its own emulator and demo data.

    It uses the suite's database (`TEST_DATABASE_URL` or a fresh SQLite file), which the
    `engine` fixture has just migrated, so the app seeds it on start. It shares this
    process's DATA_DIR, so the emails a test queues nudge the app's job consumer, and one
    SECRET_KEY, so the consumer can send the payment-link emails a test queues.
    """
    shared_key = pytest.MonkeyPatch()
    shared_key.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    request.addfinalizer(shared_key.undo)
    app = LocalStack(
        port=free_port(),
        data_dir=get_settings().data_dir,
        database_url=database_url,
        seed_args=["--customers", "60", "--bookings", "180"],
    )
    with app.running():
        request.config.stash[RUNNING_STACK] = app
        yield app


@pytest.fixture
def credentials(stack: LocalStack) -> StripeCredentials:
    """The emulator's keys, for tests that look at (or prepare) what Stripe holds."""
    return StripeCredentials(
        secret_key=EMULATOR_SECRET_KEY,
        publishable_key=EMULATOR_PUBLISHABLE_KEY,
        api_base=stack.emulator.base_url,
    )


@pytest.fixture(autouse=True)
def no_backend_errors(stack: LocalStack) -> Iterator[None]:
    """Fail a test whose actions raised in the app: Reflex shows only a toast for those."""
    log = stack.app.log_path
    start = log.stat().st_size
    yield
    with log.open("rb") as handle:
        handle.seek(start)
        new = handle.read().decode(errors="replace")
    if "Traceback" in new:
        pytest.fail(f"the app raised during this test:\n{new[new.index('Traceback') :][:4000]}")


@pytest.fixture
def session(stack: LocalStack, engine: sa.Engine) -> Iterator[Session]:
    """A session on the app's database; unlike the unit tests', it leaves the data in place."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def page(browser: Browser, stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


def sign_in(page: Page, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def merchant_page(page: Page) -> Page:
    """A page signed in as the demo merchant, on the Customers list."""
    sign_in(page)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    return page
