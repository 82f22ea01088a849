"""Live Tour demo data: merchant, customers, bookings, saved cards, past payments (Faker)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from faker import Faker
from sqlalchemy import insert
from sqlmodel import Session, create_engine, select

from devtools.demo import stripe_data
from mioapp import auth
from mioapp.billing.ledger import allocate
from mioapp.db import Database
from mioapp.live_tour import DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD
from mioapp.models import (
    Booking,
    Customer,
    MerchantUser,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    PaymentStatus,
    SavedCard,
    customer_search_text,
)
from mioapp.payments import connection, gateway, intents
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

SEED = 20261126
CURRENCY = "usd"

TOURS = [
    ("Sunset Kayak Tour", 6500),
    ("Snorkel & Reef Safari", 8900),
    ("Volcano Sunrise Hike", 12000),
    ("Whale Watching Cruise", 9500),
    ("Island Food Walk", 5500),
    ("Waterfall Canyon Zipline", 14900),
]
START_HOURS = [7, 9, 13, 16]
# (card number, share of carded customers): mostly cards that work; a few for the failure stories.
DEMO_CARDS = [
    ("4242424242424242", 0.7),
    ("5555555555554444", 0.2),
    ("4000002500003155", 0.05),
    ("4000000000000341", 0.05),
]


@dataclass(frozen=True)
class SeedReport:
    customers: int
    bookings: int
    saved_cards: int
    payments: int


def demo_user_exists(session: Session) -> bool:
    return (
        session.exec(select(MerchantUser).where(MerchantUser.email == DEMO_EMAIL)).first()
        is not None
    )


def _ensure_demo_user(session: Session) -> MerchantUser:
    user = session.exec(select(MerchantUser).where(MerchantUser.email == DEMO_EMAIL)).first()
    return user or auth.create_user(
        session, email=DEMO_EMAIL, name=DEMO_NAME, password=DEMO_PASSWORD
    )


def _booking_rows(
    rng: random.Random, customer_ids: list[int], count: int, now: datetime
) -> list[dict]:
    """Bookings spread over the customers: every customer gets one, the rest at random."""
    owners = customer_ids + [rng.choice(customer_ids) for _ in range(count - len(customer_ids))]
    rows = []
    for number, owner in enumerate(owners, start=1):
        tour, price = rng.choice(TOURS)
        day = now.date() + timedelta(days=rng.randint(-75, 60))
        starts = datetime(day.year, day.month, day.day, rng.choice(START_HOURS), tzinfo=UTC)
        participants = rng.choices([1, 2, 3, 4, 5, 6], weights=[15, 35, 15, 20, 8, 7])[0]
        rows.append(
            {
                "reference": f"BK-{100000 + number}",
                "customer_id": owner,
                "tour_name": tour,
                "starts_at": starts,
                "participants": participants,
                "total_amount": price * participants,
                "currency": CURRENCY,
                "created_at": min(starts, now) - timedelta(days=rng.randint(1, 30)),
            }
        )
    return rows


def _insert_customers(session: Session, fake: Faker, count: int, now: datetime) -> list[int]:
    rows = []
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last}"
        email = f"{first}.{last}{index % 97 or ''}@{fake.free_email_domain()}".lower()
        phone = fake.numerify("+1 (%##) %##-####")
        rows.append(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "search_text": customer_search_text(name, email, phone),
                "created_at": now - timedelta(days=fake.random_int(30, 900)),
            }
        )
    ids: list[int] = []
    statement = insert(Customer).returning(Customer.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), 5000):
        ids += session.execute(statement, rows[start : start + 5000]).scalars().all()
    return ids


def seed_demo(
    session: Session,
    *,
    customers: int = 200,
    bookings: int = 600,
    credentials: gateway.StripeCredentials | None = None,
    seed: int = SEED,
) -> SeedReport:
    """Write the demo data set. With Stripe credentials (the emulator or test keys), a third of
    the customers get a saved card at Stripe and paid bookings get real PaymentIntents."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _ensure_demo_user(session)
    customer_ids = _insert_customers(session, fake, customers, now)
    booking_rows = _booking_rows(rng, customer_ids, max(bookings, customers), now)
    for start in range(0, len(booking_rows), 5000):
        session.execute(insert(Booking), booking_rows[start : start + 5000])
    session.commit()
    report = SeedReport(customers=customers, bookings=len(booking_rows), saved_cards=0, payments=0)
    if credentials is None:
        return report
    return asyncio.run(_seed_stripe(session, rng, customer_ids, credentials, report))


async def _seed_stripe(
    session: Session,
    rng: random.Random,
    customer_ids: list[int],
    credentials: gateway.StripeCredentials,
    report: SeedReport,
) -> SeedReport:
    cards = payments = 0
    numbers, weights = zip(*DEMO_CARDS, strict=True)
    for customer_id in customer_ids:
        customer = session.get(Customer, customer_id)
        customer.stripe_customer_id = await gateway.create_customer(
            credentials,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            local_id=customer.id,
        )
        session.add(customer)
        saved = None
        if rng.random() < 1 / 3:
            details = stripe_data.attach_test_card(
                credentials,
                stripe_customer_id=customer.stripe_customer_id,
                number=rng.choices(numbers, weights=weights)[0],
                exp_month=rng.randint(1, 12),
                exp_year=datetime.now(UTC).year + rng.randint(1, 4),
            )
            saved = SavedCard(
                customer_id=customer.id,
                stripe_payment_method_id=details.payment_method_id,
                brand=details.brand,
                last4=details.last4,
                exp_month=details.exp_month,
                exp_year=details.exp_year,
                is_default=True,
            )
            session.add(saved)
            cards += 1
        payments += _seed_past_payments(session, rng, customer, credentials)
        session.commit()
    return SeedReport(
        customers=report.customers, bookings=report.bookings, saved_cards=cards, payments=payments
    )


def _seed_past_payments(
    session: Session, rng: random.Random, customer: Customer, credentials: gateway.StripeCredentials
) -> int:
    """Pay some bookings in full and put deposits on others, through real PaymentIntents."""
    made = 0
    for booking in session.exec(select(Booking).where(Booking.customer_id == customer.id)).all():
        roll = rng.random()
        if roll < 0.45:
            continue
        amount = booking.total_amount if roll < 0.8 else booking.total_amount * 3 // 10
        payment = Payment(
            customer_id=customer.id,
            amount=amount,
            currency=booking.currency,
            method_kind=PaymentMethodKind.NEW_CARD,
            idempotency_key=f"demo-{booking.reference}",
            description=f"{booking.tour_name} ({booking.reference})",
            created_at=booking.created_at,
        )
        session.add(payment)
        session.flush()
        for booking_id, share in allocate(amount, [(booking.id, booking.total_amount)]):
            session.add(
                PaymentAllocation(payment_id=payment.id, booking_id=booking_id, amount=share)
            )
        intent = stripe_data.create_demo_payment(
            credentials,
            amount=amount,
            currency=booking.currency,
            stripe_customer_id=customer.stripe_customer_id,
            idempotency_key=payment.idempotency_key,
            metadata=intents.metadata(payment),
        )
        payment.stripe_payment_intent_id = intent.id
        payment.card_brand, payment.card_last4 = intent.card.brand, intent.card.last4
        # Past payments: recorded through the one writer, dated back, and not announced
        # (nobody should get 300 receipts for history).
        intents.set_status(
            session, payment, PaymentStatus.SUCCEEDED, at=booking.created_at, announce=False
        )
        made += 1
    return made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing if the demo user exists"
    )
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--bookings", type=int, default=600)
    parser.add_argument(
        "--no-stripe", action="store_true", help="skip Stripe (no saved cards, no past payments)"
    )
    parser.add_argument(
        "--connect",
        nargs=2,
        metavar=("SECRET_KEY", "PUBLISHABLE_KEY"),
        help="connect these Stripe keys in Settings first (as the demo user)",
    )
    parser.add_argument("--webhook-secret", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("stripe").setLevel(logging.WARNING)
    engine = create_engine(get_settings().resolved_database_url)
    with Session(engine) as session:
        if args.if_empty and demo_user_exists(session):
            logger.info("Demo data already present; not seeding.")
            return
        user = _ensure_demo_user(session)
        session.commit()
        if args.connect:
            asyncio.run(
                connection.connect(
                    Database(engine),
                    user_id=user.id,
                    secret_key=args.connect[0],
                    publishable_key=args.connect[1],
                    webhook_secret=args.webhook_secret,
                )
            )
        credentials = None if args.no_stripe else connection.active_credentials(session)
        report = seed_demo(
            session, customers=args.customers, bookings=args.bookings, credentials=credentials
        )
    logger.info(
        "Seeded %s customers, %s bookings, %s saved cards, %s past payments.",
        report.customers,
        report.bookings,
        report.saved_cards,
        report.payments,
    )
