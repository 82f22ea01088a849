"""Signing in and out, and what a signed-out browser may see."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools.stack import LocalStack
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import sign_in


def test_signed_out_customers_redirects_to_sign_in(page: Page) -> None:
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers"))
    expect(page.get_by_role("heading", name="Sign in to your dashboard")).to_be_visible()


def test_signed_out_customer_page_redirects_without_showing_data(page: Page) -> None:
    page.goto("/customers/1")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers/1"))
    expect(page.get_by_role("heading", name="Bookings")).to_have_count(0)


def test_live_tour_hint_gives_the_demo_sign_in(page: Page) -> None:
    page.goto("/login")
    hint = page.get_by_label("Live Tour")
    expect(hint).to_contain_text("demo@miocommerce.test")
    expect(hint).to_contain_text("LiveTour-2026")


def test_wrong_password_gets_generic_message(page: Page) -> None:
    sign_in(page, password="not-the-password")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password don't match an account."
    )
    sign_in(page, email="nobody@example.com", password="whatever-it-is")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password don't match an account."
    )
    expect(page).to_have_url(re.compile(r"/login"))


def test_sign_in_returns_to_requested_page_and_sign_out_ends_session(page: Page) -> None:
    page.goto("/settings/payments")
    expect(page).to_have_url(re.compile(r"/login\?next=/settings/payments"))
    page.get_by_label("Email").fill("demo@miocommerce.test")
    page.get_by_label("Password").fill("LiveTour-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    expect(page.get_by_text("Maya Okafor")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    # A full page load of the sign-in page (the static server adds the slash).
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert [c for c in page.context.cookies() if c["name"] == "mio_session"] == []
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers"))


def test_sign_in_ignores_offsite_next(page: Page) -> None:
    page.goto("/login?next=//evil.example/phish")
    page.get_by_label("Email").fill("demo@miocommerce.test")
    page.get_by_label("Password").fill("LiveTour-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/customers"))


def test_the_session_cookie_is_out_of_reach_of_page_scripts(merchant_page: Page) -> None:
    page = merchant_page
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "mio_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    readable = page.evaluate("document.cookie")
    assert cookie["value"] not in readable
    assert "mio_session" not in readable
    # Nor does the server echo it: the state it sends (router headers among it) leaves it out.
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
    page.goto("/outbox")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    # The page's state arrives over the websocket (the signed-in merchant's name with it).
    expect(page.get_by_text("demo@miocommerce.test", exact=True)).to_be_visible()
    page.wait_for_function("() => true")  # let the frame listeners run
    assert any("delta" in frame for frame in frames), "the page got its state"
    assert not any(cookie["value"] in frame for frame in frames)
    assert cookie["value"] not in page.content()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("invalid", "That email and password don't match an account."),
        ("locked", "Too many failed attempts. Try again in 15 minutes."),
        ("throttled", "Too many sign-in attempts from your network. Try again in 15 minutes."),
        ("missing", "Enter your email and password."),
    ],
)
def test_each_refusal_of_the_sign_in_post_reads_as_its_message(
    page: Page, code: str, message: str
) -> None:
    page.goto(f"/login?error={code}&next=/outbox")
    expect(page.get_by_role("alert")).to_have_text(message)


def test_an_unknown_error_code_shows_nothing(page: Page) -> None:
    page.goto("/login?error=<b>hi</b>")
    expect(page.get_by_role("heading", name="Sign in to your dashboard")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_after_a_refusal_the_form_still_returns_to_the_requested_page(page: Page) -> None:
    page.goto("/settings/payments")
    expect(page).to_have_url(re.compile(r"/login\?next=/settings/payments"))
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()


def test_the_sign_in_form_posts_without_javascript(browser: Browser, stack: LocalStack) -> None:
    """A plain HTML form: no websocket or script stands between the merchant and the cookie."""
    context = browser.new_context(base_url=stack.base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/customers/?$"))
        assert [c["name"] for c in context.cookies()] == ["mio_session"]
    finally:
        context.close()


def test_a_link_from_another_site_opens_the_dashboard_signed_in(
    merchant_page: Page, stack: LocalStack
) -> None:
    """A link in an email: SameSite=Strict keeps the cookie off that cross-site page request,
    but the page's own websocket is same-site, carries it, and the merchant is signed in."""
    page = merchant_page
    page.goto("about:blank")
    page.set_content(f'<a href="{stack.base_url}/outbox">Open the outbox</a>')
    with page.expect_request(lambda r: r.is_navigation_request() and "/outbox" in r.url) as nav:
        page.get_by_role("link", name="Open the outbox").click()
    assert "mio_session" not in (nav.value.all_headers().get("cookie") or "")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    expect(page.get_by_text("Maya Okafor")).to_be_visible()
