"""Charge Customer in the browser: card on file, new card, 3D Secure and a double click."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mioapp.billing.ledger import BookingStatus
from mioapp.db import Database
from mioapp.models import (
    Booking,
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentLinkStatus,
    PaymentMethodKind,
    PaymentStatus,
    SavedCard,
    utcnow,
)
from mioapp.payments import charges, gateway, intents
from mioapp.payments.gateway import build_client
from tests.conftest import run_coroutine
from tests.e2e.helpers import (
    booking_row,
    fill_card,
    intents_of,
    new_customer,
    open_charge,
    statuses,
)


def test_card_on_file_charges_bookings_in_full(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(
        session, credentials, totals=[12_000, 12_000], card="4242424242424242", name="Ivy Chen"
    )
    dialog = open_charge(merchant_page, customer)

    expect(dialog.get_by_role("status", name="Charge summary")).to_have_text(
        "You are charging Ivy Chen $240.00 for 2 bookings"
    )
    expect(dialog.get_by_role("radio", name=re.compile("Visa •••• 4242"))).to_be_checked()
    dialog.get_by_role("button", name="Charge $240.00").click()

    expect(merchant_page.get_by_text("Charged Ivy Chen $240.00.")).to_be_visible()
    expect(dialog).to_be_hidden()
    for n in range(2):
        expect(booking_row(merchant_page, f"BK-T{customer.id}-{n}")).to_contain_text(
            "Charged in Full"
        )
    assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL] * 2
    [intent] = intents_of(credentials, customer)
    assert (intent.status, intent.amount) == ("succeeded", 24_000)
    transactions = merchant_page.get_by_role("region", name="Transactions")
    row = transactions.get_by_role("row").filter(has_text=intent.id)
    expect(row).to_contain_text("$240.00")
    expect(row).to_contain_text("Visa •••• 4242")
    expect(row).to_contain_text("Succeeded")


def test_partial_amount_leaves_booking_partially_paid(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[20_000], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)

    amount = dialog.get_by_label("Amount")
    expect(amount).to_have_value("200.00")
    amount.fill("250")
    expect(dialog.get_by_role("alert")).to_contain_text("The most you can charge")
    amount.fill("50")
    expect(dialog.get_by_role("status", name="Charge summary")).to_contain_text("$50.00")
    dialog.get_by_role("button", name="Charge $50.00").click()

    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Partially Paid")
    assert statuses(session, customer) == [BookingStatus.PARTIALLY_PAID]
    [intent] = intents_of(credentials, customer)
    assert (intent.status, intent.amount) == ("succeeded", 5_000)
    booking_row(merchant_page, f"BK-T{customer.id}-0").get_by_role(
        "button", name=f"Payments for BK-T{customer.id}-0"
    ).click()
    expect(merchant_page.get_by_role("dialog")).to_contain_text("Visa •••• 4242")


def test_declined_card_shows_reason_and_marks_nothing(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[9_000], card="4000000000000341")
    dialog = open_charge(merchant_page, customer)

    dialog.get_by_role("button", name="Charge $90.00").click()

    expect(dialog.get_by_role("alert")).to_contain_text("The customer's bank declined the card")
    assert statuses(session, customer) == [BookingStatus.UNPAID]
    session.expire_all()
    [payment] = session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()
    assert payment.status == PaymentStatus.FAILED
    # The modal stays open and can try again: the decline holds nothing back.
    expect(dialog.get_by_role("button", name="Charge $90.00")).to_be_enabled()
    dialog.get_by_role("button", name="Cancel").click()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Unpaid")
    transactions = merchant_page.get_by_role("region", name="Transactions")
    expect(transactions).to_contain_text("The customer's bank declined the card.")


def test_authentication_required_offers_a_payment_link(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[9_000], card="4000002500003155")
    dialog = open_charge(merchant_page, customer)

    dialog.get_by_role("button", name="Charge $90.00").click()

    expect(dialog.get_by_role("alert")).to_contain_text("confirm this payment themselves")
    expect(dialog.get_by_role("button", name="Send a payment link instead")).to_be_visible()
    session.expire_all()
    [payment] = session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert statuses(session, customer) == [BookingStatus.UNPAID]
    dialog.get_by_role("button", name="Send a payment link instead").click()
    expect(merchant_page.get_by_text(f"Payment link sent to {customer.email}.")).to_be_visible()
    session.expire_all()
    [link] = session.exec(select(PaymentLink).where(PaymentLink.customer_id == customer.id)).all()
    assert (link.amount, link.status) == (9_000, PaymentLinkStatus.SENT)


def test_new_card_is_charged_and_saved(merchant_page: Page, session: Session, credentials) -> None:
    customer = new_customer(session, credentials, totals=[15_000])
    dialog = open_charge(merchant_page, customer)

    expect(dialog.get_by_role("tab", name="New card")).to_have_attribute("aria-selected", "true")
    fill_card(dialog, "4242424242424242")
    expect(dialog.get_by_role("checkbox", name="Save card for future charges")).to_be_checked()
    dialog.get_by_role("button", name="Charge $150.00").click()

    expect(merchant_page.get_by_text("The card is saved.")).to_be_visible()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Charged in Full")
    expect(merchant_page.get_by_role("region", name="Payment methods")).to_contain_text(
        "Visa •••• 4242"
    )
    session.expire_all()
    [saved] = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all()
    methods = build_client(credentials).v1.payment_methods.list(
        params={"customer": customer.stripe_customer_id, "type": "card"}
    )
    assert [m.id for m in methods.data] == [saved.stripe_payment_method_id]
    [intent] = intents_of(credentials, customer)
    assert intent.status == "succeeded"

    # The saved card works for card on file.
    session.add(
        Booking(
            reference=f"BK-T{customer.id}-9",
            customer_id=customer.id,
            tour_name="Night Kayak",
            starts_at=utcnow() + timedelta(days=30),
            participants=1,
            total_amount=4_000,
            currency="usd",
        )
    )
    session.commit()
    dialog = open_charge(merchant_page, customer)
    dialog.get_by_role("tab", name="Card on file").click()
    dialog.get_by_role("button", name="Charge $40.00").click()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-9")).to_contain_text("Charged in Full")


@pytest.mark.parametrize("complete", [True, False], ids=["completed", "failed"])
def test_new_card_with_3d_secure(
    merchant_page: Page, session: Session, credentials, complete: bool
) -> None:
    customer = new_customer(session, credentials, totals=[7_000])
    dialog = open_charge(merchant_page, customer)
    fill_card(dialog, "4000002760003184")
    dialog.get_by_role("checkbox", name="Save card for future charges").click()

    dialog.get_by_role("button", name="Charge $70.00").click()
    challenge = merchant_page.get_by_role("dialog", name="3D Secure authentication")
    expect(challenge).to_be_visible()
    name = "Complete authentication" if complete else "Fail authentication"
    challenge.get_by_role("button", name=name).click()

    if complete:
        expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text(
            "Charged in Full"
        )
        assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    else:
        expect(dialog.get_by_role("alert")).to_contain_text("did not pass 3D Secure")
        assert statuses(session, customer) == [BookingStatus.UNPAID]
        session.expire_all()
        [payment] = session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()
        assert payment.status == PaymentStatus.FAILED
    [intent] = intents_of(credentials, customer)
    assert intent.status == ("succeeded" if complete else "canceled")


def test_double_click_charges_once(merchant_page: Page, session: Session, credentials) -> None:
    customer = new_customer(session, credentials, totals=[6_000], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)

    dialog.get_by_role("button", name="Charge $60.00").dblclick()

    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Charged in Full")
    merchant_page.wait_for_timeout(1500)
    assert len(intents_of(credentials, customer)) == 1
    session.expire_all()
    assert len(session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()) == 1


def test_same_amount_again_needs_confirmation(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[10_000], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)
    dialog.get_by_label("Amount").fill("30")
    dialog.get_by_role("button", name="Charge $30.00").click()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Partially Paid")

    dialog = open_charge(merchant_page, customer)
    dialog.get_by_label("Amount").fill("30")
    expect(dialog.get_by_role("alert")).to_contain_text("was charged $30.00")
    button = dialog.get_by_role("button", name="Charge $30.00")
    expect(button).to_be_disabled()
    dialog.get_by_role("checkbox", name="Yes, charge this amount again").click()
    button.click()

    expect(merchant_page.get_by_text(f"Charged {customer.name} $30.00.")).to_be_visible()
    assert len(intents_of(credentials, customer)) == 2


def test_refund_made_in_stripe_arrives_by_webhook(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[8_000], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)
    dialog.get_by_role("button", name="Charge $80.00").click()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Charged in Full")
    [intent] = intents_of(credentials, customer)

    build_client(credentials).v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 3_000}
    )

    # The emulator delivers charge.refunded to the app's webhook about a second later.
    for _ in range(40):
        if statuses(session, customer) == [BookingStatus.PARTIALLY_REFUNDED]:
            break
        merchant_page.wait_for_timeout(250)
    assert statuses(session, customer) == [BookingStatus.PARTIALLY_REFUNDED]
    merchant_page.reload()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Partially Refunded")
    row = merchant_page.get_by_role("region", name="Transactions").get_by_role("row")
    expect(row.filter(has_text=intent.id)).to_contain_text("Refunded $30.00")


def test_unanswered_charge_is_settled_by_check_status(
    merchant_page: Page, session: Session, credentials, stack
) -> None:
    """A charge whose answer was lost (and whose webhook was missed) stays "unknown" until
    Stripe is asked again: Check status on the transaction does that."""
    customer = new_customer(session, credentials, totals=[5_500], card="4242424242424242")
    card = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).one()
    booking = session.exec(select(Booking).where(Booking.customer_id == customer.id)).one()
    request = charges.ChargeRequest(
        customer_id=customer.id,
        booking_ids=[booking.id],
        amount=5_500,
        request_key=charges.new_request_key(),
    )
    payment, _ = charges.open_payment(
        session, request, method_kind=PaymentMethodKind.CARD_ON_FILE, card=card
    )
    lost = gateway.GatewayError("no answer", transient=True)
    intents.record_gateway_error(session, payment.id, lost)
    session.commit()
    with stack.emulator.webhooks_paused():
        run_coroutine(
            gateway.charge_saved_card(
                credentials,
                amount=5_500,
                currency="usd",
                stripe_customer_id=customer.stripe_customer_id,
                payment_method_id=card.stripe_payment_method_id,
                description="",
                metadata=intents.metadata(payment),
                idempotency_key=payment.idempotency_key,
            )
        )
        merchant_page.wait_for_timeout(1500)  # the webhook would have come by now
    assert statuses(session, customer) == [BookingStatus.UNPAID]

    merchant_page.goto(f"/customers/{customer.id}")
    transactions = merchant_page.get_by_role("region", name="Transactions")
    expect(transactions).to_contain_text("Unknown")
    transactions.get_by_role("button", name="Check status").click()

    expect(booking_row(merchant_page, booking.reference)).to_contain_text("Charged in Full")
    session.expire_all()
    assert session.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED


def test_charge_form_belongs_to_its_customer(
    merchant_page: Page, session: Session, credentials
) -> None:
    """A form left open on one customer (after a decline) never shows on another's page."""
    first = new_customer(
        session, credentials, totals=[50_660], card="4000000000000341", name="Ana First"
    )
    second = new_customer(session, credentials, totals=[7_700], name="Bo Second")
    dialog = open_charge(merchant_page, first)
    dialog.get_by_role("button", name="Charge $506.60").click()
    expect(dialog.get_by_role("alert")).to_contain_text("The customer's bank declined the card")

    merchant_page.goto(f"/customers/{second.id}")
    expect(merchant_page.get_by_role("heading", name="Bo Second")).to_be_visible()
    expect(merchant_page.get_by_role("dialog")).to_have_count(0)

    merchant_page.get_by_role("button", name="Charge Customer").click()
    dialog = merchant_page.get_by_role("dialog", name="Charge Bo Second")
    expect(dialog.get_by_role("status", name="Charge summary")).to_have_text(
        "You are charging Bo Second $77.00 for 1 booking"
    )
    expect(dialog).not_to_contain_text("Ana First")
    expect(dialog).not_to_contain_text("$506.60")


def test_abandoned_new_card_attempt_is_shown_and_released(
    merchant_page: Page, session: Session, credentials
) -> None:
    """The tab that typed a card closed before Stripe.js confirmed: the attempt shows as
    Abandoned with Release, which cancels it at Stripe and frees the balance at once."""
    customer = new_customer(session, credentials, totals=[39_300], name="Cy Gone")
    booking = session.exec(select(Booking).where(Booking.customer_id == customer.id)).one()
    request = charges.ChargeRequest(
        customer_id=customer.id,
        booking_ids=[booking.id],
        amount=39_300,
        request_key=charges.new_request_key(),
    )
    long_ago = utcnow() - charges.CARD_HOLD - timedelta(minutes=1)
    started = run_coroutine(
        charges.start_card_charge(
            Database(session.get_bind()), credentials, request, save_card=False, now=long_ago
        )
    )

    merchant_page.goto(f"/customers/{customer.id}")
    transactions = merchant_page.get_by_role("region", name="Transactions")
    expect(transactions).to_contain_text("Abandoned")
    expect(merchant_page.get_by_text("$393.00").first).to_be_visible()
    transactions.get_by_role("button", name="Release the hold of this abandoned attempt").click()

    expect(merchant_page.get_by_text("Released. The amount can be charged again.")).to_be_visible()
    expect(transactions).to_contain_text("Canceled")
    [intent] = intents_of(credentials, customer)
    assert (intent.id, intent.status) == (started.payment.stripe_payment_intent_id, "canceled")
    dialog = open_charge(merchant_page, customer)
    expect(dialog.get_by_role("button", name="Charge $393.00")).to_be_visible()


def test_a_deposit_goes_on_the_booking_the_merchant_means(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(
        session, credentials, totals=[48_000, 30_000], card="4242424242424242", name="Di Split"
    )
    first, second = f"BK-T{customer.id}-0", f"BK-T{customer.id}-1"
    dialog = open_charge(merchant_page, customer)

    dialog.get_by_label("Amount", exact=True).fill("200")
    expect(dialog.get_by_label(f"Part for {first}")).to_have_value("200.00")
    dialog.get_by_label(f"Part for {first}").fill("50")
    dialog.get_by_label(f"Part for {second}").fill("150")
    expect(dialog.get_by_label("Amount", exact=True)).to_have_value("200.00")
    expect(dialog.get_by_role("status", name="Charge summary")).to_have_text(
        "You are charging Di Split $200.00 for 2 bookings"
    )
    dialog.get_by_role("button", name="Charge $200.00").click()

    expect(merchant_page.get_by_text("Charged Di Split $200.00.")).to_be_visible()
    session.expire_all()
    [payment] = session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()
    parts = session.exec(
        select(Booking.reference, PaymentAllocation.amount)
        .join(PaymentAllocation, PaymentAllocation.booking_id == Booking.id)
        .where(PaymentAllocation.payment_id == payment.id)
    ).all()
    assert sorted(parts) == [(first, 5_000), (second, 15_000)]
    assert statuses(session, customer) == [BookingStatus.PARTIALLY_PAID] * 2


def test_the_form_says_why_it_cannot_be_submitted(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[10_000], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)

    dialog.get_by_role("checkbox").first.click()
    expect(dialog.get_by_text("Choose at least one booking to charge.")).to_be_visible()
    expect(dialog.get_by_role("button", name=re.compile("^Charge"))).to_be_disabled()

    dialog.get_by_role("checkbox").first.click()
    dialog.get_by_role("tab", name="Payment link").click()
    dialog.get_by_label("Expires after (days)").fill("90")
    expect(dialog.get_by_role("alert")).to_contain_text("between 1 and 60 days")
    expect(dialog.get_by_role("button", name="Send Payment Link")).to_be_disabled()
    dialog.get_by_label("Expires after (days)").fill("30")
    expect(dialog.get_by_role("button", name="Send Payment Link")).to_be_enabled()


def test_charge_customer_is_off_when_nothing_is_owed(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[2_500], card="4242424242424242")
    card = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).one()
    booking = session.exec(select(Booking).where(Booking.customer_id == customer.id)).one()
    request = charges.ChargeRequest(
        customer_id=customer.id,
        booking_ids=[booking.id],
        amount=2_500,
        request_key=charges.new_request_key(),
    )
    run_coroutine(
        charges.charge_card_on_file(
            Database(session.get_bind()), credentials, request, saved_card_id=card.id
        )
    )

    merchant_page.goto(f"/customers/{customer.id}")

    expect(merchant_page.get_by_role("button", name="Charge Customer")).to_be_disabled()
    expect(merchant_page.get_by_text("Nothing to charge: every booking is paid.")).to_be_visible()
