"""Connecting Stripe in Settings: keys verified by the emulator, the secret never sent out."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from devtools.stack import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, EMULATOR_WEBHOOK_SECRET
from mioapp.models import StripeConnection

ROOT = Path(__file__).resolve().parents[2]


def _connection(session: Session) -> StripeConnection | None:
    session.expire_all()
    return session.exec(select(StripeConnection)).first()


def _fill_keys(page: Page, secret: str, publishable: str, webhook: str = "") -> None:
    page.get_by_label("Secret key").fill(secret)
    page.get_by_label("Publishable key").fill(publishable)
    page.get_by_label("Webhook signing secret (optional)").fill(webhook)
    page.get_by_role("button", name="Connect Stripe").click()


def test_disconnect_reject_bad_keys_and_connect_again(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
    page.goto("/settings/payments")
    expect(page.get_by_role("heading", name="Stripe is connected")).to_be_visible()
    expect(page.get_by_text("Emulator (simulated Stripe)")).to_be_visible()
    account_id = _connection(session).account_id
    expect(page.get_by_text(account_id)).to_be_visible()

    page.get_by_role("button", name="Disconnect Stripe").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Connect your Stripe account")).to_be_visible()
    assert _connection(session) is None

    page.goto("/customers/1")
    expect(page.get_by_role("button", name="Charge Customer")).to_be_disabled()
    expect(page.get_by_role("note")).to_contain_text("Connect Stripe to charge customers")
    page.get_by_role("link", name="Open payment settings").click()

    _fill_keys(page, "sk_test_emulator_wrongwrongwrong", EMULATOR_PUBLISHABLE_KEY)
    expect(page.get_by_role("alert")).to_contain_text("Stripe rejected the secret key")
    _fill_keys(page, "pk_test_in_the_wrong_box", EMULATOR_PUBLISHABLE_KEY)
    expect(page.get_by_role("alert")).to_contain_text("secret key starts with sk_test_ or sk_live_")
    _fill_keys(page, EMULATOR_SECRET_KEY, "pk_live_mismatched")
    expect(page.get_by_role("alert")).to_contain_text("different modes")
    assert _connection(session) is None

    _fill_keys(page, EMULATOR_SECRET_KEY, EMULATOR_PUBLISHABLE_KEY, EMULATOR_WEBHOOK_SECRET)
    expect(page.get_by_role("heading", name="Stripe is connected")).to_be_visible()
    expect(page.get_by_text("Stored encrypted · never shown")).to_be_visible()
    stored = _connection(session)
    assert stored is not None and stored.account_id == account_id
    assert EMULATOR_SECRET_KEY not in stored.secret_key_encrypted
    assert EMULATOR_WEBHOOK_SECRET not in (stored.webhook_secret_encrypted or "")

    page.goto("/customers/1")
    expect(page.get_by_role("button", name="Charge Customer")).to_be_enabled()
    assert frames, "the page talked to the server over its websocket"
    for secret in (EMULATOR_SECRET_KEY, EMULATOR_WEBHOOK_SECRET, "sk_test_emulator_wrong"):
        assert not any(secret in frame for frame in frames), "a secret reached the browser"
        assert secret not in page.content()


def test_no_secret_in_compiled_assets(stack) -> None:
    build = ROOT / ".web" / "build"
    files = [p for p in build.rglob("*") if p.is_file()]
    assert len(files) > 10, "the prod build exists"
    for path in files:
        data = path.read_bytes()
        for secret in (EMULATOR_SECRET_KEY, EMULATOR_WEBHOOK_SECRET):
            assert secret.encode() not in data, f"{secret[:12]}… found in {path}"
