"""What pages say about outcomes the payments code decided: pure mappings, no browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mioapp.models import Payment, PaymentMethodKind, PaymentStatus, status_writer
from mioapp.ui.pages.charge.wording import Outcome, charge_result, duplicate_question, summary
from mioapp.ui.status import (
    DECLINED_NEXT_STEP,
    PaymentDisplayStatus,
    merchant_reason,
    payment_display_status,
    payment_method_label,
)

NOW = datetime(2026, 6, 14, 9, 30, tzinfo=UTC)


def _payment(status: PaymentStatus, **fields) -> Payment:
    payment = Payment(
        customer_id=1,
        amount=24_000,
        currency="usd",
        method_kind=fields.pop("method_kind", PaymentMethodKind.CARD_ON_FILE),
        idempotency_key="k",
        created_at=NOW,
        **fields,
    )
    with status_writer():
        payment.status = status
    return payment


def test_a_success_closes_the_modal_with_the_amount() -> None:
    result = charge_result(_payment(PaymentStatus.SUCCEEDED), "Ivy Chen", card_saved=False)
    assert (result.outcome, result.toast) == (Outcome.CHARGED, "Charged Ivy Chen $240.00.")
    saved = charge_result(_payment(PaymentStatus.SUCCEEDED), "Ivy Chen", card_saved=True)
    assert saved.toast == "Charged Ivy Chen $240.00. The card is saved."


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("insufficient_funds", "The customer's bank declined the card (insufficient funds)."),
        ("generic_decline", "The customer's bank declined the card."),
        (None, "The customer's bank declined the card."),
        ("lost_card", "The customer's bank declined the card: it was reported lost."),
        ("expired_card", "The customer's card has expired."),
        (
            "payment_intent_authentication_failure",
            "The customer did not pass 3D Secure authentication, so nothing was charged.",
        ),
    ],
)
def test_a_decline_speaks_to_the_merchant_with_a_next_step(code, words) -> None:
    payment = _payment(
        PaymentStatus.FAILED,
        failure_code=code,
        failure_message="Your card was declined (insufficient funds).",
    )
    result = charge_result(payment, "Ivy", card_saved=False)
    assert (result.outcome, result.error) == (Outcome.DECLINED, f"{words} {DECLINED_NEXT_STEP}")
    assert merchant_reason(payment) == words


def test_authentication_offers_a_payment_link() -> None:
    result = charge_result(_payment(PaymentStatus.REQUIRES_ACTION), "Ivy", card_saved=False)
    assert result.outcome == Outcome.REQUIRES_ACTION


@pytest.mark.parametrize(
    "status", [PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.CREATED]
)
def test_an_unsettled_charge_is_pending_not_failed(status: PaymentStatus) -> None:
    result = charge_result(_payment(status), "Ivy", card_saved=False)
    assert result.outcome == Outcome.PENDING
    assert "will update by itself" in result.toast


def test_an_idempotency_clash_is_our_fault_not_the_card() -> None:
    payment = _payment(PaymentStatus.UNKNOWN, failure_code="idempotency_error")
    result = charge_result(payment, "Ivy", card_saved=False)
    assert result.outcome == Outcome.PENDING
    assert "on our side, not with the card" in result.toast


def test_summary_and_duplicate_question() -> None:
    assert summary("Ivy", 24_000, "usd", 2) == "You are charging Ivy $240.00 for 2 bookings"
    assert summary("Ivy", 5_000, "jpy", 1) == "You are charging Ivy ¥5,000 for 1 booking"
    assert duplicate_question("Ivy", 3_000, "usd", NOW) == (
        "Ivy was charged $30.00 at Jun 14, 2026 · 9:30 AM. Charge the same amount again?"
    )


@pytest.mark.parametrize(
    ("status", "refunded", "hold_until", "shown"),
    [
        (PaymentStatus.SUCCEEDED, 0, None, PaymentDisplayStatus.SUCCEEDED),
        (PaymentStatus.SUCCEEDED, 1_000, None, PaymentDisplayStatus.PARTIALLY_REFUNDED),
        (PaymentStatus.SUCCEEDED, 24_000, None, PaymentDisplayStatus.REFUNDED),
        (PaymentStatus.CREATED, 0, None, PaymentDisplayStatus.PENDING),
        (PaymentStatus.CREATED, 0, NOW + timedelta(minutes=1), PaymentDisplayStatus.PENDING),
        (PaymentStatus.CREATED, 0, NOW - timedelta(minutes=1), PaymentDisplayStatus.ABANDONED),
        (PaymentStatus.FAILED, 0, None, PaymentDisplayStatus.FAILED),
        (PaymentStatus.UNKNOWN, 0, None, PaymentDisplayStatus.UNKNOWN),
    ],
)
def test_payment_display_status(status, refunded, hold_until, shown) -> None:
    payment = _payment(status, hold_until=hold_until)
    assert payment_display_status(payment, refunded, NOW) == shown


def test_method_label_names_the_card_when_known() -> None:
    card = _payment(PaymentStatus.SUCCEEDED, card_brand="amex", card_last4="0005")
    assert payment_method_label(card) == "American Express •••• 0005"
    link = _payment(PaymentStatus.CREATED, method_kind=PaymentMethodKind.PAYMENT_LINK)
    assert payment_method_label(link) == "Payment link"
