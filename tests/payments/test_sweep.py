"""The sweep against the emulator: what nobody watches gets settled, once, however often or
however many consumers run it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, func, select

from mioapp.billing.balances import chargeable_bookings
from mioapp.models import (
    AuditEntry,
    Payment,
    PaymentLink,
    PaymentLinkStatus,
    PaymentStatus,
    utcnow,
)
from mioapp.payments import charges, gateway, intents, link_payments, links, reconcile
from mioapp.payments.gateway import GatewayError, build_client
from mioapp.payments.sweep import sweep
from tests.conftest import run_coroutine as run
from tests.payments.conftest import request_for, run_at_once, start_card_charge
from tests.unit.factories import make_booking


def _status(session: Session, payment_id: int) -> PaymentStatus:
    session.expire_all()
    return session.get(Payment, payment_id).status


def test_one_pass_settles_what_nobody_watches_and_a_second_changes_nothing(
    session: Session, db, credentials, customer, card
) -> None:
    abandoned_booking, unanswered_booking, link_booking = (
        make_booking(session, customer, total=t) for t in (4_000, 5_000, 6_000)
    )
    session.commit()
    # 1. A new-card attempt whose browser went away.
    abandoned = start_card_charge(db, credentials, customer, [abandoned_booking]).payment
    # 2. A card-on-file charge that reached Stripe, whose answer was lost.
    request = request_for(customer, [unanswered_booking])
    unanswered, _ = charges.open_payment(
        session, request, method_kind=charges.PaymentMethodKind.CARD_ON_FILE, card=card
    )
    intents.record_gateway_error(session, unanswered.id, GatewayError("lost", transient=True))
    session.commit()
    run(
        gateway.charge_saved_card(
            credentials,
            amount=unanswered.amount,
            currency="usd",
            stripe_customer_id=customer.stripe_customer_id,
            payment_method_id=card.stripe_payment_method_id,
            description="",
            metadata=intents.metadata(unanswered),
            idempotency_key=unanswered.idempotency_key,
        )
    )
    # 3. A payment link the customer opened, started paying, and left; then it expired.
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[link_booking.id],
        amount=6_000,
        expires_in_days=1,
        message="",
        user_id=None,
    )
    session.commit()
    started = run(
        link_payments.start_link_payment(
            db, credentials, link_id=link.id, save_card=False, client_address="198.51.100.7"
        )
    )
    later = utcnow() + timedelta(days=2)

    report = run(sweep(db, credentials, now=later))

    assert _status(session, abandoned.id) == PaymentStatus.CANCELED
    assert _status(session, unanswered.id) == PaymentStatus.SUCCEEDED
    assert _status(session, started.payment.id) == PaymentStatus.CANCELED
    assert session.get(PaymentLink, link.id).status == PaymentLinkStatus.EXPIRED
    stripe = build_client(credentials).v1.payment_intents
    for payment_id in (abandoned.id, started.payment.id):
        intent_id = session.get(Payment, payment_id).stripe_payment_intent_id
        assert stripe.retrieve(intent_id).status == "canceled"
    # The link's attempt was abandoned by then too: the sweep canceled it before the link
    # expired, so expiring the link found nothing left open.
    assert (report.payments_changed, report.links_expired_with_attempts) == (3, 0)
    available = {c.booking.id for c in chargeable_bookings(session, customer.id, now=later)}
    assert {abandoned_booking.id, link_booking.id} <= available

    again = run(sweep(db, credentials, now=later))
    assert not again, again


def test_two_consumers_sweeping_at_once_change_each_payment_once(
    session: Session, db, credentials, customer
) -> None:
    bookings = [make_booking(session, customer, total=2_000 + n) for n in range(4)]
    session.commit()
    attempts = [start_card_charge(db, credentials, customer, [b]).payment for b in bookings]
    later = utcnow() + charges.CARD_HOLD + reconcile.SWEEP_ABANDONED_AFTER + timedelta(seconds=1)

    results = run_at_once(lambda: run(sweep(db, credentials, now=later)), times=2)

    assert not [r for r in results if isinstance(r, Exception)], results
    session.expire_all()
    assert {_status(session, p.id) for p in attempts} == {PaymentStatus.CANCELED}
    canceled = session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payment.canceled")
    ).one()
    assert canceled == len(attempts)


def test_an_expired_link_closes_the_attempt_it_left_open(
    session: Session, db, credentials, customer
) -> None:
    booking = make_booking(session, customer, total=7_700)
    session.commit()
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[booking.id],
        amount=7_700,
        expires_in_days=1,
        message="",
        user_id=None,
    )
    session.commit()
    expiry = link.expires_at + timedelta(seconds=30)
    # The customer started paying a minute before the link ran out: the hold still runs.
    started = run(
        link_payments.start_link_payment(
            db,
            credentials,
            link_id=link.id,
            save_card=False,
            client_address="198.51.100.8",
            now=link.expires_at - timedelta(minutes=1),
        )
    )

    report = run(sweep(db, credentials, now=expiry))

    assert report.links_expired_with_attempts == 1
    session.expire_all()
    assert session.get(PaymentLink, link.id).status == PaymentLinkStatus.EXPIRED
    assert _status(session, started.payment.id) == PaymentStatus.CANCELED
