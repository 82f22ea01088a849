"""What the pages cost a phone: requests, compression, Stripe.js only where a card is taken.

The timings themselves are `make bench`'s job (devtools/bench_pay_page.py); these tests hold
the structure that makes them: few requests, nothing sent uncompressed, no Stripe.js on
pages without a card field, a favicon.
"""

from __future__ import annotations

import re
import urllib.request

from playwright.sync_api import Browser, Page, Request, expect
from reflex.utils import prerequisites
from sqlmodel import Session

from devtools.stack import LocalStack
from mioapp.ui.build_plugin import radix_sheet
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import (
    in_rules,
    matching_cut_selectors,
    new_customer,
    pay_link,
    unstyled_radix_classes,
)


def pay_path(session: Session, credentials) -> str:
    customer = new_customer(session, credentials, totals=[24_000], name="Ana Lima")
    return pay_link(session, customer, 24_000)[1]


def test_the_pay_page_on_a_phone_is_few_requests_all_compressed(
    browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    requests: list[Request] = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(pay_path(session, credentials))
    expect(page.get_by_label("Card number")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert len(requests) <= 15, [r.url for r in requests]
    assert unstyled_radix_classes(page) == []
    assert matching_cut_selectors(page) == []
    # The dashboard's third-party code has its own chunk (mioapp/ui/build_plugin.py).
    assert [r.url for r in requests if "/vendor-dashboard-" in r.url] == []
    assert [r.url for r in requests if "/vendor-" in r.url], "the shared vendor chunk"
    [document] = [r.response() for r in requests if r.resource_type == "document"]
    assert "rel=modulepreload" in document.headers["link"], "the pay route's code hinted early"
    # Stripe.js comes once the shared code has arrived (StripeJsHint), not alongside it.
    assert stack.emulator.js_url not in document.headers["link"]
    assert stack.emulator.js_url in [r.url for r in requests]
    text = ("text/html", "text/css", "text/javascript", "application/javascript")
    for request in requests:
        response = request.response()
        ours = request.url.startswith(stack.base_url)
        kind = response.headers.get("content-type", "")
        # Below a kilobyte compression gains nothing; Reflex's build skips such files.
        if ours and kind.startswith(text) and len(response.body()) >= 1024:
            assert response.headers.get("content-encoding") in ("br", "gzip"), request.url
    context.close()


def stripe_js_requests(page: Page, stack: LocalStack) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.url == stack.emulator.js_url else None)
    return seen


def test_stripe_js_loads_only_on_pages_that_take_a_card(
    page: Page, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[9_000], name="Card Page")
    stripe_js = stripe_js_requests(page, stack)
    sign_in(page)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.goto("/outbox")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert stripe_js == [], "the sign-in, customers and outbox pages take no card"
    assert page.evaluate("typeof window.Stripe") == "undefined"

    page.goto(f"/customers/{customer.id}")  # its Charge Customer modal takes a new card
    expect(page.get_by_role("button", name="Charge Customer")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert stripe_js == [stack.emulator.js_url]
    assert page.evaluate("typeof window.Stripe") == "function"


def test_every_page_names_a_favicon_that_exists(page: Page, stack: LocalStack) -> None:
    page.goto("/login")
    icons = page.locator("link[rel=icon]")
    expect(icons).to_have_count(2)
    for href, kind in (("/favicon.ico", "image/"), ("/favicon.svg", "image/svg+xml")):
        assert page.locator(f"link[rel=icon][href='{href}']").count() == 1
        with urllib.request.urlopen(f"{stack.base_url}{href}", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith(kind)
            assert response.read(4)


def test_every_radix_component_in_the_code_keeps_its_styles(stack: LocalStack) -> None:
    """Radix Themes' style sheet is cut to the components the app renders (radix_css.py):
    every component class the built scripts can set still has its rules."""
    assets = prerequisites.get_web_dir() / "build" / "client" / "assets"
    [css] = [p.read_text() for p in assets.glob("__reflex_global_styles-*.css")]
    styled = set(re.findall(r"\.(rt-[A-Z]\w*)", radix_sheet("components.css").read_text()))
    named = {
        n for p in assets.glob("vendor*.js") for n in re.findall(r"rt-[A-Z]\w*", p.read_text())
    }
    assert {"rt-Button", "rt-TableRoot", "rt-DialogContent"} <= named, "the scan finds them"
    assert sorted(n for n in named & styled if not in_rules(n, css)) == []
