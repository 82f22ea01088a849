"""Card on file and new card against the emulator: rows first, one charge, the ledger applied."""

from __future__ import annotations

import pytest
import stripe
from sqlmodel import Session, select

from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.models import Customer, Payment, PaymentAllocation, PaymentStatus, SavedCard
from mioapp.payments import charges, gateway
from mioapp.payments.charges import ChargeError
from mioapp.payments.gateway import StripeCredentials, build_client
from tests.payments.conftest import (
    VISA,
    charge_saved_card,
    make_stripe_customer,
    run_at_once,
    save_test_card,
    start_card_charge,
)
from tests.unit.factories import make_booking, make_customer, make_payment


def _statuses(session: Session, customer: Customer) -> list[BookingStatus]:
    session.expire_all()
    return [line.status for line in customer_detail(session, customer.id).bookings]


def _intents(credentials: StripeCredentials) -> list:
    return build_client(credentials).v1.payment_intents.list().data


def _charge_new_booking(
    session: Session, credentials, customer: Customer, number: str = VISA
) -> Payment:
    """A new 10,000 booking charged in full to a newly saved test card `number`."""
    card = save_test_card(session, credentials, customer, number)
    booking = make_booking(session, customer)
    session.commit()
    return charge_saved_card(session, credentials, customer, card, [booking])


def test_card_on_file_charges_in_full(session: Session, credentials, customer, card) -> None:
    bookings = [make_booking(session, customer, total=12_000) for _ in range(2)]
    session.commit()

    payment = charge_saved_card(session, credentials, customer, card, bookings, 24_000)

    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert payment.idempotency_key == f"mio-payment-{payment.id}"
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL] * 2
    [intent] = _intents(credentials)
    assert intent.id == payment.stripe_payment_intent_id
    assert (intent.status, intent.amount) == ("succeeded", 24_000)
    assert intent.metadata["mio_payment_id"] == str(payment.id)


def test_partial_amount_is_partially_paid(session: Session, credentials, customer, card) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()

    charge_saved_card(session, credentials, customer, card, [booking], 5_000)

    assert _statuses(session, customer) == [BookingStatus.PARTIALLY_PAID]
    with pytest.raises(ChargeError, match=r"most you can charge .* \$70\.00"):
        charge_saved_card(session, credentials, customer, card, [booking], 7_001)


def test_decline_records_reason_and_changes_no_booking(
    session: Session, credentials, customer
) -> None:
    payment = _charge_new_booking(session, credentials, customer, "4000000000009995")

    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_message == "Your card was declined (insufficient funds)."
    assert payment.stripe_payment_intent_id
    assert _statuses(session, customer) == [BookingStatus.UNPAID]
    # The failed attempt holds nothing back: the full balance can be charged again.
    assert charges.chargeable_bookings(session, customer.id)[0].available == 10_000


def test_authentication_required_needs_the_customer(
    session: Session, credentials, customer
) -> None:
    payment = _charge_new_booking(session, credentials, customer, "4000002760003184")

    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert payment.failure_code == "authentication_required"
    assert _statuses(session, customer) == [BookingStatus.UNPAID]


def test_resubmitted_form_makes_one_payment_and_one_charge(
    session: Session, credentials, customer, engine
) -> None:
    card = save_test_card(session, credentials, customer)
    booking = make_booking(session, customer, total=8_000)
    session.commit()
    key = charges.new_request_key()

    def submit() -> int:
        with Session(engine) as own:
            return charge_saved_card(
                own, credentials, customer, card, [booking], 8_000, request_key=key
            ).id

    results = run_at_once(submit)

    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert len(session.exec(select(Payment)).all()) == 1
    assert len(_intents(credentials)) == 1


def test_second_tab_cannot_spend_a_balance_in_flight(
    session: Session, credentials, customer
) -> None:
    booking = make_booking(session, customer, total=8_000)
    make_payment(session, customer, [(booking, 8_000)], status=PaymentStatus.UNKNOWN)
    card = save_test_card(session, credentials, customer)

    with pytest.raises(ChargeError, match="nothing left to charge"):
        charge_saved_card(session, credentials, customer, card, [booking], 8_000)
    assert _intents(credentials) == []


def test_booking_of_another_customer_is_refused(
    session: Session, credentials, customer, card
) -> None:
    other = make_booking(session, make_customer(session))
    session.commit()

    with pytest.raises(ChargeError) as refused:
        charge_saved_card(session, credentials, customer, card, [other], 1_000)
    assert refused.value.field == "bookings"
    assert session.exec(select(Payment)).all() == []


def test_card_of_another_customer_is_refused(session: Session, credentials, customer) -> None:
    stranger = make_stripe_customer(session, credentials, name="X")
    card = save_test_card(session, credentials, stranger)
    booking = make_booking(session, customer)
    session.commit()

    with pytest.raises(ChargeError, match="saved cards"):
        charge_saved_card(session, credentials, customer, card, [booking], 1_000)


def test_stripe_unreachable_leaves_unknown_then_reconciles(
    session: Session, credentials, customer, card
) -> None:
    booking = make_booking(session, customer, total=9_000)
    session.commit()
    dead = StripeCredentials(
        secret_key=credentials.secret_key,
        publishable_key=credentials.publishable_key,
        api_base="http://127.0.0.1:9",
    )

    payment = charge_saved_card(session, dead, customer, card, [booking], 9_000)
    assert payment.status == PaymentStatus.UNKNOWN
    assert "did not answer" in payment.failure_message
    assert _statuses(session, customer) == [BookingStatus.UNPAID]

    # Nothing reached Stripe: checking again finds nothing and still does not say failed.
    assert charges.refresh_payment(session, credentials, payment).status == PaymentStatus.UNKNOWN

    # Now the request is taken to have reached Stripe after all (its answer was lost).
    gateway.charge_saved_card(
        credentials,
        amount=9_000,
        currency="usd",
        stripe_customer_id=customer.stripe_customer_id,
        payment_method_id=card.stripe_payment_method_id,
        description="",
        metadata={"mio_payment_id": str(payment.id)},
        idempotency_key=payment.idempotency_key,
    )
    settled = charges.refresh_payment(session, credentials, payment)
    assert settled.status == PaymentStatus.SUCCEEDED
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]


def test_new_card_saved_for_later(session: Session, credentials, customer) -> None:
    booking = make_booking(session, customer, total=15_000)
    session.commit()

    started = start_card_charge(session, credentials, customer, [booking], save_card=True)
    assert started.client_secret and started.payment.status == PaymentStatus.CREATED
    # What Stripe.js does in the browser with the typed card.
    client = build_client(credentials)
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 4, "exp_year": 2032, "cvc": "123"},
        }
    )
    client.v1.payment_intents.confirm(
        started.payment.stripe_payment_intent_id, params={"payment_method": pm.id}
    )

    payment = charges.finish_new_card_charge(
        session, credentials, customer_id=customer.id, payment_id=started.payment.id
    )

    assert payment.status == PaymentStatus.SUCCEEDED
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    [saved] = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all()
    assert (saved.last4, saved.exp_year, saved.is_default) == ("4242", 2032, True)

    second = make_booking(session, customer, total=2_000)
    session.commit()
    again = charge_saved_card(session, credentials, customer, saved, [second], 2_000)
    assert again.status == PaymentStatus.SUCCEEDED


def test_new_card_abandoned_is_canceled(session: Session, credentials, customer) -> None:
    booking = make_booking(session, customer)
    session.commit()
    started = start_card_charge(session, credentials, customer, [booking])

    payment = charges.finish_new_card_charge(
        session, credentials, customer_id=customer.id, payment_id=started.payment.id
    )

    assert payment.status == PaymentStatus.CANCELED
    intent = build_client(credentials).v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    with pytest.raises(stripe.StripeError):
        build_client(credentials).v1.payment_intents.confirm(intent.id)
    assert charges.chargeable_bookings(session, customer.id)[0].available == 10_000


def test_apply_never_downgrades_and_is_idempotent(session: Session, credentials, customer) -> None:
    payment = _charge_new_booking(session, credentials, customer)
    intent = gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id)
    failed = gateway.IntentSnapshot(
        id=intent.id,
        status="requires_payment_method",
        amount=intent.amount,
        currency=intent.currency,
        metadata=intent.metadata,
        error_code="card_declined",
        decline_code="generic_decline",
    )

    for snapshot in (intent, failed, intent):
        assert charges.apply_payment_intent(session, snapshot).status == PaymentStatus.SUCCEEDED
    assert len(session.exec(select(PaymentAllocation)).all()) == 1
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
