"""Accessibility (WCAG 2.2 AA): axe-core on every page and state at desktop and phone widths,
and what axe cannot see: one main landmark and one h1 a page, a skip link, where focus goes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from devtools.stack import LocalStack
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import (
    Scene,
    build_scene,
    matching_cut_selectors,
    unstyled_radix_classes,
)

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
# WCAG 2.0-2.2 A and AA, and axe's best practices (landmarks, headings, regions).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}
FAILING_IMPACTS = ("serious", "critical")

axe = Axe()


@pytest.fixture(scope="module")
def scene(stack: LocalStack, browser: Browser, engine) -> Scene:
    return build_scene(stack, browser, engine)


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> tuple[int, int]:
    return WIDTHS[request.param]


def _context_page(browser: Browser, stack: LocalStack, size: tuple[int, int]) -> Iterator[Page]:
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": size[0], "height": size[1]},
        # axe-core is injected by evaluating its source; the pay pages' CSP forbids that.
        bypass_csp=True,
        # No fade-ins: axe would measure the contrast of a dialog still appearing.
        reduced_motion="reduce",
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def visitor(browser: Browser, stack: LocalStack, width) -> Iterator[Page]:
    yield from _context_page(browser, stack, width)


@pytest.fixture
def merchant(browser: Browser, stack: LocalStack, width) -> Iterator[Page]:
    for page in _context_page(browser, stack, width):
        sign_in(page)
        expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
        yield page


def _violations(page: Page, where: str) -> list[str]:
    results = axe.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        targets = "; ".join(
            " ".join(str(t) for t in node["target"]) for node in violation["nodes"][:4]
        )
        found.append(
            f"{where}: [{violation['impact']}] {violation['id']} ({violation['help']}) "
            f"x{len(violation['nodes'])} at {targets}"
        )
    return found


def _structure(page: Page, where: str, *, dialog: bool = False) -> list[str]:
    """One main landmark and one h1 on every page (a modal hides the page behind it)."""
    problems = []
    if not dialog and page.get_by_role("main").count() != 1:
        problems.append(f"{where}: {page.get_by_role('main').count()} main landmarks, not 1")
    if not dialog and page.locator("h1").count() != 1:
        problems.append(f"{where}: {page.locator('h1').count()} h1 headings, not 1")
    return problems


class Audit:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page: Page, where: str, *, dialog: bool = False) -> None:
        page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        self.problems += _violations(page, where) + _structure(page, where, dialog=dialog)
        # The trimmed Radix style sheet (mioapp/ui/radix_css.py) styles all that is shown.
        self.problems += [f"{where}: no styles for {n}" for n in unstyled_radix_classes(page)]
        self.problems += [f"{where}: cut, yet matches {s}" for s in matching_cut_selectors(page)]

    def assert_clean(self) -> None:
        assert not self.problems, "accessibility problems:\n" + "\n".join(self.problems)


def _visit(page: Page, path: str, ready: Callable[[Page], object]) -> None:
    page.goto(path)
    expect(ready(page)).to_be_visible()


def test_public_pages_have_no_serious_violations(visitor: Page, scene: Scene) -> None:
    audit = Audit()
    _visit(visitor, "/login", lambda p: p.get_by_role("heading", name="Sign in to your dashboard"))
    audit.check(visitor, "sign-in")

    _visit(visitor, scene.open_path, lambda p: p.get_by_role("button", name=re.compile("^Pay ")))
    audit.check(visitor, "pay page")

    _visit(visitor, scene.paid_path, lambda p: p.get_by_role("heading", name="Payment received"))
    audit.check(visitor, "receipt")

    _visit(
        visitor,
        "/pay/" + "x" * 43,
        lambda p: p.get_by_role("heading", name="This payment link is no longer valid"),
    )
    audit.check(visitor, "invalid link")

    _visit(visitor, "/no/such/page", lambda p: p.get_by_role("heading", name="Page not found"))
    audit.check(visitor, "404")
    audit.assert_clean()


def test_dashboard_pages_have_no_serious_violations(merchant: Page, scene: Scene) -> None:
    page, audit = merchant, Audit()
    audit.check(page, "customers")

    _visit(
        page,
        f"/customers/{scene.customer_id}",
        lambda p: p.get_by_role("heading", name=scene.customer_name, level=1),
    )
    expect(page.get_by_role("region", name="Payment links")).to_contain_text("Paid")
    audit.check(page, "customer")

    page.get_by_role("button", name="Charge Customer").click()
    dialog = page.get_by_role("dialog", name=f"Charge {scene.customer_name}")
    expect(dialog.get_by_role("radio", name=re.compile("4242"))).to_be_checked()
    audit.check(page, "charge modal, card on file", dialog=True)
    dialog.get_by_role("tab", name="New card").click()
    expect(dialog.get_by_label("Card number")).to_be_visible()
    audit.check(page, "charge modal, new card", dialog=True)
    dialog.get_by_role("tab", name="Payment link").click()
    expect(dialog.get_by_label("Expires after (days)")).to_be_visible()
    audit.check(page, "charge modal, payment link", dialog=True)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    _visit(page, "/outbox", lambda p: p.get_by_role("heading", name="Outbox", level=1))
    expect(page.get_by_role("button", name=re.compile("^Preview")).first).to_be_visible()
    audit.check(page, "outbox")
    page.get_by_role("button", name=re.compile("^Preview")).first.click()
    expect(page.get_by_role("dialog").locator("iframe")).to_be_visible()
    audit.check(page, "outbox preview", dialog=True)
    page.keyboard.press("Escape")

    _visit(page, "/payments", lambda p: p.get_by_role("heading", name="Payments", level=1))
    expect(page.get_by_role("link", name=scene.customer_name).first).to_be_visible()
    audit.check(page, "payments")

    _visit(page, "/settings/payments", lambda p: p.get_by_text("Stripe is connected"))
    audit.check(page, "payment settings")
    _visit(page, "/settings/business", lambda p: p.get_by_label("Business name"))
    audit.check(page, "business settings")
    audit.assert_clean()


def test_skip_link_and_focus_after_navigation_and_the_modal(
    browser: Browser, stack: LocalStack, scene: Scene
) -> None:
    for page in _context_page(browser, stack, WIDTHS["desktop"]):
        sign_in(page)
        heading = page.get_by_role("heading", name="Customers", level=1)
        expect(heading).to_be_visible()
        # The first Tab reaches the skip link, which takes focus past the navigation.
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()

        # After moving to another page, focus is on its heading (a screen reader says it).
        page.get_by_role("link", name="Outbox").first.click()
        expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_focused()

        page.goto(f"/customers/{scene.customer_id}")
        charge = page.get_by_role("button", name="Charge Customer")
        charge.click()
        dialog = page.get_by_role("dialog", name=f"Charge {scene.customer_name}")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(charge).to_be_focused()
        charge.click()
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(charge).to_be_focused()

        # The booking's paid amount names the amount, not only what it opens.
        bookings = page.get_by_role("region", name="Bookings")
        expect(bookings.get_by_role("button", name=re.compile(r"^Paid \$\d+\.\d\d"))).to_have_count(
            1
        )


# The relative luminance contrast of two CSS colours, computed in the page (WCAG 2.2).
CONTRAST_JS = """([a, b]) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [x, y] = [lum(parse(a)), lum(parse(b))].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}"""


def test_the_focus_ring_stands_out(browser: Browser, stack: LocalStack) -> None:
    """axe cannot judge a focus ring: it must reach 3:1 against the card behind it."""
    for page in _context_page(browser, stack, WIDTHS["desktop"]):
        page.goto("/login")
        email = page.get_by_label("Email")
        expect(email).to_be_visible()
        page.get_by_role("button", name="Sign in").focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        button = page.get_by_role("button", name="Sign in")
        expect(button).to_be_focused()
        ring = button.evaluate("b => getComputedStyle(b).outlineColor")
        width = button.evaluate("b => parseFloat(getComputedStyle(b).outlineWidth)")
        behind = page.locator(".rt-Card").first.evaluate("c => getComputedStyle(c).backgroundColor")
        assert width >= 2
        assert page.evaluate(CONTRAST_JS, [ring, behind]) >= 3
