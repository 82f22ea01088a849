"""Card on file and new card against the emulator: rows first, one charge, the ledger applied,
abandoned attempts released."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import stripe
from sqlmodel import Session, select

from mioapp.billing.balances import chargeable_bookings
from mioapp.billing.errors import ChargeError
from mioapp.billing.ledger import BookingStatus
from mioapp.business import default_profile
from mioapp.customers.detail import customer_detail
from mioapp.db import Database
from mioapp.models import (
    AuditEntry,
    Customer,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    PaymentStatus,
    SavedCard,
    StatusWriteError,
    utcnow,
)
from mioapp.payments import charges, gateway, intents, reconcile
from mioapp.payments.gateway import StripeCredentials, build_client
from mioapp.ui.status import card_decline_words
from tests.conftest import run_coroutine as run
from tests.payments.conftest import (
    VISA,
    charge_saved_card,
    confirm_in_browser,
    make_stripe_customer,
    request_for,
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


def _available(session: Session, customer: Customer, now=None) -> int:
    session.expire_all()
    return sum(c.available for c in chargeable_bookings(session, customer.id, now=now))


def _charge_new_booking(
    session: Session, db: Database, credentials, customer: Customer, number: str = VISA
) -> Payment:
    """A new 10,000 booking charged in full to a newly saved test card `number`."""
    card = save_test_card(session, credentials, customer, number)
    booking = make_booking(session, customer)
    session.commit()
    return charge_saved_card(db, credentials, customer, card, [booking])


def test_card_on_file_charges_in_full(session: Session, db, credentials, customer, card) -> None:
    bookings = [make_booking(session, customer, total=12_000) for _ in range(2)]
    session.commit()

    payment = charge_saved_card(db, credentials, customer, card, bookings, 24_000)

    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    # Written with the row, random: unique to this attempt even if an id comes back.
    assert payment.idempotency_key.startswith("mio-payment-")
    assert len(payment.idempotency_key) == len("mio-payment-") + 24
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL] * 2
    [intent] = _intents(credentials)
    assert intent.id == payment.stripe_payment_intent_id
    assert (intent.status, intent.amount) == ("succeeded", 24_000)
    assert intent.metadata["mio_payment_id"] == str(payment.id)
    assert intent.metadata["mio_attempt"] == payment.idempotency_key


def test_partial_amount_is_partially_paid(
    session: Session, db, credentials, customer, card
) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()

    charge_saved_card(db, credentials, customer, card, [booking], 5_000)

    assert _statuses(session, customer) == [BookingStatus.PARTIALLY_PAID]
    with pytest.raises(ChargeError, match=r"most you can charge .* \$70\.00"):
        charge_saved_card(db, credentials, customer, card, [booking], 7_001)


def test_decline_records_reason_and_changes_no_booking(
    session: Session, db, credentials, customer
) -> None:
    payment = _charge_new_booking(session, db, credentials, customer, "4000000000009995")

    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_message == "Your card was declined (insufficient funds)."
    assert payment.stripe_payment_intent_id
    assert _statuses(session, customer) == [BookingStatus.UNPAID]
    # The failed attempt holds nothing back: the full balance can be charged again.
    assert _available(session, customer) == 10_000


def test_authentication_required_needs_the_customer(
    session: Session, db, credentials, customer
) -> None:
    payment = _charge_new_booking(session, db, credentials, customer, "4000002760003184")

    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert payment.failure_code == "authentication_required"
    assert _statuses(session, customer) == [BookingStatus.UNPAID]


def test_resubmitted_form_makes_one_payment_and_one_charge(
    session: Session, db, credentials, customer
) -> None:
    card = save_test_card(session, credentials, customer)
    booking = make_booking(session, customer, total=8_000)
    session.commit()
    key = charges.new_request_key()

    def submit() -> int:
        return charge_saved_card(
            db, credentials, customer, card, [booking], 8_000, request_key=key
        ).id

    results = run_at_once(submit)

    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert len(session.exec(select(Payment)).all()) == 1
    assert len(_intents(credentials)) == 1


def test_two_forms_at_once_cannot_both_spend_one_balance(
    session: Session, db, credentials, customer
) -> None:
    """Different forms (request keys) for the whole balance, submitted together: the
    customer's row lock lets one through; the others see nothing left to charge."""
    card = save_test_card(session, credentials, customer)
    booking = make_booking(session, customer, total=8_000)
    session.commit()

    results = run_at_once(
        lambda: charge_saved_card(db, credentials, customer, card, [booking], 8_000)
    )

    paid = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, ChargeError)]
    assert len(paid) == 1 and len(refused) == 2, results
    assert paid[0].status == PaymentStatus.SUCCEEDED
    assert len(session.exec(select(Payment)).all()) == 1
    assert len(_intents(credentials)) == 1


@pytest.mark.parametrize("status", [PaymentStatus.UNKNOWN, PaymentStatus.CREATED])
def test_second_tab_cannot_spend_a_balance_in_flight(
    session: Session, db, credentials, customer, status
) -> None:
    """An unanswered charge, or one whose call to Stripe is under way, holds its amount."""
    booking = make_booking(session, customer, total=8_000)
    make_payment(session, customer, [(booking, 8_000)], status=status)
    card = save_test_card(session, credentials, customer)

    with pytest.raises(ChargeError, match="nothing left to charge"):
        charge_saved_card(db, credentials, customer, card, [booking], 8_000)
    assert _intents(credentials) == []


def test_same_amount_again_needs_a_confirmation(
    session: Session, db, credentials, customer, card
) -> None:
    bookings = [make_booking(session, customer, total=3_000) for _ in range(2)]
    session.commit()
    charge_saved_card(db, credentials, customer, card, bookings[:1], 3_000)

    with pytest.raises(ChargeError) as refused:
        charge_saved_card(db, credentials, customer, card, bookings[1:], 3_000)
    assert refused.value.field == "duplicate"
    again = charge_saved_card(
        db, credentials, customer, card, bookings[1:], 3_000, confirm_duplicate=True
    )
    assert again.status == PaymentStatus.SUCCEEDED


def test_booking_of_another_customer_is_refused(
    session: Session, db, credentials, customer, card
) -> None:
    other = make_booking(session, make_customer(session))
    session.commit()

    with pytest.raises(ChargeError) as refused:
        charge_saved_card(db, credentials, customer, card, [other], 1_000)
    assert refused.value.field == "bookings"
    assert session.exec(select(Payment)).all() == []


def test_card_of_another_customer_is_refused(session: Session, db, credentials, customer) -> None:
    stranger = make_stripe_customer(session, credentials, name="X")
    card = save_test_card(session, credentials, stranger)
    booking = make_booking(session, customer)
    session.commit()

    with pytest.raises(ChargeError, match="saved cards"):
        charge_saved_card(db, credentials, customer, card, [booking], 1_000)


def test_stripe_unreachable_leaves_unknown_then_reconciles(
    session: Session, db, credentials, customer, card
) -> None:
    booking = make_booking(session, customer, total=9_000)
    session.commit()
    dead = StripeCredentials(
        secret_key=credentials.secret_key,
        publishable_key=credentials.publishable_key,
        api_base="http://127.0.0.1:9",
    )

    payment = charge_saved_card(db, dead, customer, card, [booking], 9_000)
    assert payment.status == PaymentStatus.UNKNOWN
    assert "did not answer" in payment.failure_message
    assert _statuses(session, customer) == [BookingStatus.UNPAID]

    # Nothing reached Stripe: checking again finds nothing and still does not say failed.
    settled = run(reconcile.settle_payment(db, credentials, payment.id))
    assert settled.status == PaymentStatus.UNKNOWN

    # Now the request is taken to have reached Stripe after all (its answer was lost).
    run(
        gateway.charge_saved_card(
            credentials,
            amount=9_000,
            currency="usd",
            stripe_customer_id=customer.stripe_customer_id,
            payment_method_id=card.stripe_payment_method_id,
            description="",
            metadata=intents.metadata(payment),
            idempotency_key=payment.idempotency_key,
        )
    )
    settled = run(reconcile.settle_payment(db, credentials, payment.id))
    assert settled.status == PaymentStatus.SUCCEEDED
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]


def test_unknown_attempt_stripe_never_received_is_closed_after_a_while(
    session: Session, db, credentials, customer, card
) -> None:
    booking = make_booking(session, customer, total=9_000)
    payment = make_payment(session, customer, [(booking, 9_000)], status=PaymentStatus.UNKNOWN)
    session.commit()
    later = utcnow() + reconcile.NEVER_RECEIVED_AFTER + timedelta(seconds=1)

    assert run(reconcile.settle_payment(db, credentials, payment.id)).status == "unknown"
    closed = run(reconcile.settle_payment(db, credentials, payment.id, now=later))

    assert closed.status == PaymentStatus.CANCELED
    assert closed.failure_message == reconcile.NEVER_RECEIVED_MESSAGE
    assert _available(session, customer) == 9_000


def test_idempotency_key_clash_is_our_fault_and_leaves_the_payment_unknown(
    session: Session, db, credentials, customer, card
) -> None:
    """A database restored from a backup hands out a payment id again: the new attempt's key
    must not be one Stripe has seen (it carries a random part), and if Stripe still refuses a
    key, that is an internal error, never a decline."""
    booking = make_booking(session, customer, total=5_000)
    session.commit()
    first = charge_saved_card(db, credentials, customer, card, [booking], 2_000)
    clash = gateway.GatewayError("key reused", code="idempotency_error", internal=True)

    recorded = run(db.run(lambda s: intents.record_gateway_error(s, first.id, clash)))

    assert first.idempotency_key != f"mio-payment-{first.id}"
    assert recorded.status == PaymentStatus.SUCCEEDED  # what took money stays taken
    second = make_payment(session, customer, [(booking, 1_000)], status=PaymentStatus.CREATED)
    session.commit()
    recorded = run(db.run(lambda s: intents.record_gateway_error(s, second.id, clash)))
    assert recorded.status == PaymentStatus.UNKNOWN
    session.expire_all()
    audit = session.exec(select(AuditEntry).where(AuditEntry.action == "payment.internal_error"))
    assert [entry.subject for entry in audit] == [f"payment {first.id}", f"payment {second.id}"]


def test_same_attempt_key_with_other_parameters_is_not_a_decline(
    session: Session, db, credentials, customer, card
) -> None:
    """Against the emulator: Stripe answers a reused key with other parameters with an
    idempotency error; the gateway reports it as ours, not the card's."""
    booking = make_booking(session, customer, total=5_000)
    session.commit()
    payment = charge_saved_card(db, credentials, customer, card, [booking], 2_000)

    with pytest.raises(gateway.GatewayError) as raised:
        run(
            gateway.charge_saved_card(
                credentials,
                amount=3_000,
                currency="usd",
                stripe_customer_id=customer.stripe_customer_id,
                payment_method_id=card.stripe_payment_method_id,
                description="",
                metadata={},
                idempotency_key=payment.idempotency_key,
            )
        )
    assert raised.value.internal and not raised.value.transient


def test_new_card_saved_for_later(session: Session, db, credentials, customer) -> None:
    booking = make_booking(session, customer, total=15_000)
    session.commit()

    started = start_card_charge(db, credentials, customer, [booking], save_card=True)
    assert started.client_secret and started.payment.status == PaymentStatus.CREATED
    assert started.payment.hold_until > utcnow()
    confirm_in_browser(credentials, started.payment.stripe_payment_intent_id, VISA)

    payment = run(
        charges.finish_card_charge(
            db, credentials, payment_id=started.payment.id, customer_id=customer.id
        )
    )

    assert payment.status == PaymentStatus.SUCCEEDED
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    [saved] = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all()
    assert (saved.last4, saved.exp_year, saved.is_default) == ("4242", 2031, True)

    second = make_booking(session, customer, total=2_000)
    session.commit()
    again = charge_saved_card(db, credentials, customer, saved, [second], 2_000)
    assert again.status == PaymentStatus.SUCCEEDED


def test_new_card_finished_without_a_card_is_canceled(
    session: Session, db, credentials, customer
) -> None:
    booking = make_booking(session, customer)
    session.commit()
    started = start_card_charge(db, credentials, customer, [booking])

    payment = run(
        charges.finish_card_charge(
            db, credentials, payment_id=started.payment.id, customer_id=customer.id
        )
    )

    assert payment.status == PaymentStatus.CANCELED
    intent = build_client(credentials).v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    with pytest.raises(stripe.StripeError):
        build_client(credentials).v1.payment_intents.confirm(intent.id)
    assert _available(session, customer) == 10_000


def test_abandoned_new_card_attempt_releases_its_hold(
    session: Session, db, credentials, customer
) -> None:
    """The tab closed before Stripe.js confirmed: the hold runs out by itself, the sweep
    cancels the intent at Stripe, and the balance can be charged again."""
    booking = make_booking(session, customer, total=39_300)
    session.commit()
    started = start_card_charge(db, credentials, customer, [booking])
    assert _available(session, customer) == 0
    after_hold = utcnow() + charges.CARD_HOLD + timedelta(seconds=1)
    swept = after_hold + reconcile.SWEEP_ABANDONED_AFTER

    assert _available(session, customer, now=after_hold) == 39_300
    assert run(reconcile.settle_due(db, credentials, now=after_hold)) == 0, "Release comes first"
    assert run(reconcile.settle_due(db, credentials, now=swept)) == 1

    session.expire_all()
    payment = session.get(Payment, started.payment.id)
    assert payment.status == PaymentStatus.CANCELED
    assert payment.failure_message == reconcile.ABANDONED_MESSAGE
    intent = build_client(credentials).v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    assert _available(session, customer) == 39_300


def test_release_now_cancels_the_abandoned_attempt(
    session: Session, db, credentials, customer
) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()
    started = start_card_charge(db, credentials, customer, [booking])

    released = run(
        charges.release_payment(
            db, credentials, payment_id=started.payment.id, customer_id=customer.id, user_id=None
        )
    )

    assert released.status == PaymentStatus.CANCELED
    assert _available(session, customer) == 12_000
    with pytest.raises(ChargeError, match="still open"):
        run(
            charges.release_payment(
                db, credentials, payment_id=released.id, customer_id=customer.id, user_id=None
            )
        )


def test_late_confirmation_after_release_is_recorded_as_overpaid_not_lost(
    session: Session, db, credentials, customer, card
) -> None:
    """The hold ran out, the merchant charged the saved card, then the customer's browser
    confirmed the old intent after all: the money taken shows, as an overpayment."""
    booking = make_booking(session, customer, total=10_000)
    session.commit()
    started = start_card_charge(db, credentials, customer, [booking])
    after_hold = utcnow() + charges.CARD_HOLD + timedelta(seconds=1)
    assert _available(session, customer, now=after_hold) == 10_000
    # The hold has run out; the merchant charges the card on file for the whole balance.
    session.expire_all()
    session.get(Payment, started.payment.id).hold_until = utcnow() - timedelta(seconds=1)
    session.commit()
    charged = charge_saved_card(db, credentials, customer, card, [booking], 10_000)
    assert charged.status == PaymentStatus.SUCCEEDED

    confirm_in_browser(credentials, started.payment.stripe_payment_intent_id, VISA)
    late = run(
        charges.finish_card_charge(
            db, credentials, payment_id=started.payment.id, customer_id=customer.id
        )
    )

    assert late.status == PaymentStatus.SUCCEEDED
    assert _statuses(session, customer) == [BookingStatus.OVERPAID]


def test_apply_never_downgrades_and_is_idempotent(
    session: Session, db, credentials, customer
) -> None:
    payment = _charge_new_booking(session, db, credentials, customer)
    intent = run(gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id))
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
        applied = run(db.run(lambda s, snap=snapshot: intents.apply_payment_intent(s, snap)))
        assert applied.status == PaymentStatus.SUCCEEDED
    assert len(session.exec(select(PaymentAllocation)).all()) == 1
    assert _statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]


def test_a_failure_rolls_back_everything_the_unit_of_work_did(
    session: Session, db, credentials, customer
) -> None:
    """The caller owns the transaction: a unit of work that raises after writing the attempt
    row leaves no row behind."""
    booking = make_booking(session, customer, total=4_000)
    session.commit()
    request = request_for(customer, [booking])

    def open_then_fail(s: Session) -> None:
        charges.open_payment(s, request, method_kind=PaymentMethodKind.CARD_ON_FILE)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run(db.run(open_then_fail))
    assert session.exec(select(Payment)).all() == []


def test_status_changes_only_through_its_writer(session: Session, customer) -> None:
    booking = make_booking(session, customer)
    payment = make_payment(session, customer, [(booking, 1_000)], status=PaymentStatus.CREATED)
    with pytest.raises(StatusWriteError):
        payment.status = PaymentStatus.SUCCEEDED
    with pytest.raises(StatusWriteError):
        Payment(
            customer_id=customer.id,
            amount=1,
            currency="usd",
            method_kind=PaymentMethodKind.CARD_ON_FILE,
            idempotency_key="x",
            status=PaymentStatus.SUCCEEDED,
        )


def test_a_card_declined_as_lost_is_flagged_so_nobody_charges_it_unwarned(
    session: Session, db, credentials, customer, monkeypatch
) -> None:
    """Stripe's test cards that decline as lost cannot be saved, so the emulator's generic
    decline (a card that attaches, then declines) is reported here as Stripe reports a lost
    card: decline code lost_card."""
    card = save_test_card(session, credentials, customer, "4000000000000341")
    booking = make_booking(session, customer)
    session.commit()
    real = gateway.charge_saved_card

    async def lost(*args, **kwargs):
        return dataclasses.replace(await real(*args, **kwargs), decline_code="lost_card")

    monkeypatch.setattr(gateway, "charge_saved_card", lost)

    payment = charge_saved_card(db, credentials, customer, card, [booking])

    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "lost_card")
    session.expire_all()
    flagged = session.get(SavedCard, card.id)
    assert flagged.declined_code == "lost_card" and flagged.declined_at is not None
    assert card_decline_words(flagged, default_profile()).startswith("Declined: reported lost on ")


def test_an_unanswered_attempt_is_found_among_more_than_a_page_of_intents(
    session: Session, db, credentials, customer, card
) -> None:
    """Finding an attempt by its metadata pages through all of the customer's intents (Stripe
    lists 100 at a time), not only the first page."""
    booking = make_booking(session, customer, total=500_000)
    payment = make_payment(session, customer, [(booking, 1_000)], status=PaymentStatus.CREATED)
    session.commit()
    client = build_client(credentials)

    def others(count: int) -> None:
        for n in range(count):
            client.v1.payment_intents.create(
                params={
                    "amount": 100 + n,
                    "currency": "usd",
                    "customer": customer.stripe_customer_id,
                }
            )

    # 105 intents on each side: beyond the first page whichever way the list is ordered.
    others(105)
    client.v1.payment_intents.create(
        params={
            "amount": 1_000,
            "currency": "usd",
            "customer": customer.stripe_customer_id,
            "payment_method": card.stripe_payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": intents.metadata(payment),
        }
    )
    others(105)

    settled = run(reconcile.settle_payment(db, credentials, payment.id))

    assert settled.status == PaymentStatus.SUCCEEDED


def _succeeded_intent(intent_id: str, amount: int, metadata: dict[str, str]):
    return gateway.IntentSnapshot(
        id=intent_id, status="succeeded", amount=amount, currency="usd", metadata=metadata
    )


def test_intent_is_applied_to_the_payment_its_metadata_names(session: Session, db) -> None:
    customer = make_customer(session)
    booking = make_booking(session, customer, total=4_000)
    payment = make_payment(session, customer, [(booking, 4_000)], status=PaymentStatus.CREATED)
    session.commit()
    intent = _succeeded_intent("pi_named_by_metadata", 4_000, intents.metadata(payment))

    applied = db.transaction(lambda s: intents.apply_payment_intent(s, intent))

    assert applied.id == payment.id
    session.expire_all()
    stored = session.get(Payment, payment.id)
    assert (stored.status, stored.stripe_payment_intent_id) == (
        PaymentStatus.SUCCEEDED,
        "pi_named_by_metadata",
    )
    # Applying it again finds the same row by either route and changes nothing.
    again = db.transaction(lambda s: intents.apply_payment_intent(s, intent))
    assert (again.id, again.status) == (payment.id, PaymentStatus.SUCCEEDED)


def test_intent_without_our_metadata_is_found_by_the_intent_id_stored_on_the_payment(
    session: Session, db
) -> None:
    customer = make_customer(session)
    booking = make_booking(session, customer, total=3_000)
    payment = make_payment(session, customer, [(booking, 3_000)], status=PaymentStatus.CREATED)
    payment.stripe_payment_intent_id = "pi_stored_on_the_row"
    session.commit()
    intent = _succeeded_intent("pi_stored_on_the_row", 3_000, {})

    applied = db.transaction(lambda s: intents.apply_payment_intent(s, intent))

    assert applied.id == payment.id
    session.expire_all()
    assert session.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED


def test_metadata_of_another_attempt_or_intent_never_claims_a_payment(session: Session, db) -> None:
    """Our payment id in an intent's metadata is not enough: the attempt key must match (a
    restored or second database hands out the same ids), and a payment already bound to
    another intent is not this one's."""
    customer = make_customer(session)
    booking = make_booking(session, customer, total=9_000)
    waiting = make_payment(session, customer, [(booking, 2_000)], status=PaymentStatus.CREATED)
    bound = make_payment(session, customer, [(booking, 3_000)], status=PaymentStatus.CREATED)
    bound.stripe_payment_intent_id = "pi_the_bound_one"
    session.commit()
    other_attempt = {**intents.metadata(waiting), intents.ATTEMPT_KEY: "mio-payment-elsewhere"}
    other_intent = intents.metadata(bound)

    for intent in (
        _succeeded_intent("pi_from_another_database", 2_000, other_attempt),
        _succeeded_intent("pi_not_the_bound_one", 3_000, other_intent),
    ):
        assert db.transaction(lambda s, i=intent: intents.apply_payment_intent(s, i)) is None

    session.expire_all()
    assert session.get(Payment, waiting.id).status == PaymentStatus.CREATED
    assert session.get(Payment, waiting.id).stripe_payment_intent_id is None
    assert session.get(Payment, bound.id).status == PaymentStatus.CREATED
    assert session.get(Payment, bound.id).stripe_payment_intent_id == "pi_the_bound_one"
