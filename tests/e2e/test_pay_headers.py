"""The pay pages' headers in the real prod build: a CSP Chromium enforces, no token in logs."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from devtools.stack import LocalStack

# Inline scripts the way the HTML tokenizer finds them (Reflex's markup has no '>' in
# attribute values); the middleware uses html.parser, so this is a second opinion.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\ssrc=)[^>]*>(.*?)</script\s*>", re.I | re.S)


@dataclass
class Reply:
    status: int
    headers: Message
    body: str

    def csp(self) -> dict[str, list[str]]:
        policy = self.headers["Content-Security-Policy"]
        assert policy, "no Content-Security-Policy"
        return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def fetch(stack: LocalStack, path: str) -> Reply:
    # Accept-Encoding as a browser sends it: Reflex would answer with its gzip sidecar.
    request = urllib.request.Request(
        f"{stack.base_url}{path}", headers={"Accept-Encoding": "gzip, deflate, br, zstd"}
    )
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:  # no pay page yet (or an unknown path): still HTML
        response = error
    with response:
        body = response.read()
    if response.headers["Content-Encoding"] == "gzip":
        body = gzip.decompress(body)
    return Reply(response.status, response.headers, body.decode(errors="replace"))


def sha256_source(script: str) -> str:
    digest = hashlib.sha256(script.replace("\r\n", "\n").encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def pay_paths() -> list[str]:
    token = secrets.token_urlsafe(32)
    return [f"/pay/{token}", f"/pay/{token}/success"]


@pytest.mark.parametrize("path", pay_paths(), ids=["pay", "success"])
def test_pay_pages_send_strict_headers_and_hash_every_inline_script(
    stack: LocalStack, path: str
) -> None:
    reply = fetch(stack, path)
    assert reply.headers.get_content_type() == "text/html"
    assert reply.headers["Content-Encoding"] == "gzip", "compressed once its scripts are hashed"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    csp = reply.csp()
    emulator = stack.emulator.base_url
    websocket = stack.base_url.replace("http://", "ws://")
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert [s for s in csp["script-src"] if not s.startswith("'sha256-")] == ["'self'", emulator]
    assert emulator in csp["connect-src"]
    assert websocket in csp["connect-src"]
    assert csp["frame-src"] == [emulator]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]

    scripts = INLINE_SCRIPT.findall(reply.body)
    assert scripts, "Reflex's pages carry inline scripts"
    hashes = {s for s in csp["script-src"] if s.startswith("'sha256-")}
    assert {sha256_source(s) for s in scripts} == hashes
    # Stripe.js no longer blocks the page from its <head>: the card field loads it.
    assert stack.emulator.js_url not in reply.body


def test_other_pages_get_basic_headers_but_no_policy(stack: LocalStack) -> None:
    reply = fetch(stack, "/login")
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Content-Security-Policy"] is None


def open_pay_page(page: Page, path: str, *, takes_a_card: bool = True) -> list[str]:
    """Load `path`, wait until the page is live (websocket answering, Stripe.js loaded where
    a card is taken) and return every CSP violation and page error seen."""
    problems: list[str] = []
    # Injected by the DevTools protocol, so the page's own policy does not block it.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'securitypolicyviolation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error"
            and ("securitypolicyviolation" in m.text or "Content Security Policy" in m.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    with page.expect_websocket(lambda ws: "/_event" in ws.url) as websocket:
        page.goto(path)
    # Reflex's client sends its first event only once hydrated; the answer proves the round
    # trip through connect-src.
    websocket.value.wait_for_event("framereceived", timeout=15_000)
    expect(page.locator("body")).to_be_attached()
    page.wait_for_timeout(500)  # late violations (lazy chunks, styles) get reported too
    assert stripe_js_ran(page, wait=takes_a_card) is takes_a_card
    return problems


def stripe_js_ran(page: Page, *, wait: bool) -> bool:
    """Whether Stripe.js has run in the page; with `wait`, given up to 10 s to do so.
    (Polled from here: a string wait_for_function needs eval, which the pay CSP blocks.)"""
    deadline = time.monotonic() + (10 if wait else 0)
    while True:
        if page.evaluate("typeof window.Stripe") == "function":
            return True
        if time.monotonic() >= deadline:
            return False
        page.wait_for_timeout(100)


@pytest.mark.parametrize(
    ("path", "takes_a_card"),
    list(list(zip(pay_paths(), [True, False], strict=True))),
    ids=["pay", "success"],
)
def test_pay_pages_hydrate_under_their_policy_in_chromium(
    page: Page, path: str, takes_a_card: bool
) -> None:
    """Stripe.js runs under the policy where the card is taken, and is not loaded elsewhere."""
    assert open_pay_page(page, path, takes_a_card=takes_a_card) == []


def test_pay_tokens_stay_out_of_logs_and_referers(page: Page, stack: LocalStack) -> None:
    token = secrets.token_urlsafe(32)
    assert open_pay_page(page, f"/pay/{token}") == []
    fetch(stack, f"/pay/{token}/success")
    fetch(stack, f"/pay/{token}/missing-page")
    time.sleep(1.5)  # let both processes flush
    assert token not in stack.app.log_path.read_text(errors="replace")
    # Stripe.js came from the emulator: with no-referrer its access log never saw the URL.
    emulator_log = Path(stack.emulator.log_path).read_text(errors="replace")
    assert "/js.stripe.com/v3/" in emulator_log, "the emulator logs requests with Referer"
    assert token not in emulator_log
