"""Live Tour demo data: deterministic, mixed statuses, saved cards that exist at Stripe."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import stripe
from sqlmodel import Session, select

from devtools.demo.seed import seed_demo
from mioapp.auth import verify_password
from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.models import Booking, Customer, MerchantUser, Payment, PaymentStatus, SavedCard
from mioapp.payments.gateway import StripeCredentials, build_client


def _statuses(session: Session) -> Counter:
    counts: Counter = Counter()
    for customer in session.exec(select(Customer)).all():
        counts.update(line.status for line in customer_detail(session, customer.id).bookings)
    return counts


def test_seed_with_stripe(session: Session, credentials: StripeCredentials) -> None:
    # seed_demo runs asyncio.run, which refuses the thread where Playwright's loop runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(
            seed_demo, session, customers=45, bookings=135, credentials=credentials
        ).result()
    client: stripe.StripeClient = build_client(credentials)

    user = session.exec(select(MerchantUser)).one()
    assert user.email == DEMO_EMAIL and verify_password(DEMO_PASSWORD, user.password_hash)
    assert (report.customers, report.bookings) == (45, 135)
    assert len(session.exec(select(Booking)).all()) == 135
    assert all(c.stripe_customer_id for c in session.exec(select(Customer)).all())

    cards = session.exec(select(SavedCard)).all()
    assert report.saved_cards == len(cards)
    assert 45 // 6 <= len(cards) <= 45 * 2 // 3, "about a third of customers have a card"
    for card in cards[:5]:
        owner = session.get(Customer, card.customer_id)
        listed = client.v1.payment_methods.list(
            params={"customer": owner.stripe_customer_id, "type": "card"}
        ).data
        assert [pm.id for pm in listed] == [card.stripe_payment_method_id]
        assert listed[0].card.last4 == card.last4

    payments = session.exec(select(Payment)).all()
    assert report.payments == len(payments) > 0
    for payment in payments[:5]:
        intent = client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
        assert (intent.status, intent.amount) == ("succeeded", payment.amount)
        assert payment.status == PaymentStatus.SUCCEEDED

    statuses = _statuses(session)
    for status in (
        BookingStatus.UNPAID,
        BookingStatus.PARTIALLY_PAID,
        BookingStatus.CHARGED_IN_FULL,
    ):
        assert statuses[status] > 0, f"no {status} booking in the demo"


def test_seed_is_deterministic_without_stripe(session: Session) -> None:
    seed_demo(session, customers=20, bookings=50)
    first = [
        (c.name, c.email, c.phone) for c in session.exec(select(Customer).order_by(Customer.id))
    ]
    tours = [(b.tour_name, b.participants, b.total_amount) for b in session.exec(select(Booking))]
    assert session.exec(select(Payment)).all() == [], "no Stripe, no payments"
    assert session.exec(select(SavedCard)).all() == []

    for table in (Booking, Customer):
        for row in session.exec(select(table)).all():
            session.delete(row)
    session.commit()
    seed_demo(session, customers=20, bookings=50)
    again = [
        (c.name, c.email, c.phone) for c in session.exec(select(Customer).order_by(Customer.id))
    ]
    assert again == first
    assert [
        (b.tour_name, b.participants, b.total_amount) for b in session.exec(select(Booking))
    ] == tours
    assert all(c.search_text.startswith(c.name.casefold()) for c in session.exec(select(Customer)))
