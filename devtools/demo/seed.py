"""Live Tour demo data: merchant, customers, bookings, saved cards, past payments (Faker)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

import sqlalchemy as sa
from faker.providers.internet.en_US import Provider as FakerInternetProvider
from faker.providers.person.en_US import Provider as FakerPersonProvider
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


# Names and mail domains come from Faker's lists, combined by a seeded random generator:
# a million customers in seconds (Faker itself makes about 20,000 a second).
_FIRST_NAMES = list(FakerPersonProvider.first_names.items())
_LAST_NAMES = list(FakerPersonProvider.last_names.items())
_DOMAINS = list(FakerInternetProvider.free_email_domains)
# Customers written per batch: memory stays flat however many are asked for.
_BATCH = 20_000


def _cumulative(weighted: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    names, weights = zip(*weighted, strict=True)
    return list(names), list(accumulate(weights))


def _customer_batch(rng: random.Random, first: int, count: int, now: datetime) -> list[dict]:
    first_names, first_weights = _cumulative(_FIRST_NAMES)
    last_names, last_weights = _cumulative(_LAST_NAMES)
    firsts = rng.choices(first_names, cum_weights=first_weights, k=count)
    lasts = rng.choices(last_names, cum_weights=last_weights, k=count)
    rows = []
    for index, given, family in zip(range(first, first + count), firsts, lasts, strict=True):
        name = f"{given} {family}"
        email = f"{given}.{family}{index % 97 or ''}@{rng.choice(_DOMAINS)}".lower()
        phone = (
            f"+1 ({rng.randint(2, 9)}{rng.randint(0, 99):02d}) "
            f"{rng.randint(2, 9)}{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"
        )
        created = now - timedelta(days=rng.randint(30, 900))
        rows.append(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "search_text": customer_search_text(name, email, phone),
                "created_at": created,
                "outstanding_total": 0,
                "last_activity_at": created,
            }
        )
    return rows


def _booking_batch(
    rng: random.Random, customers: list[dict], count: int, first_number: int, now: datetime
) -> list[dict]:
    """Bookings spread over `customers` (by position): every customer gets one, the rest at
    random. Each customer's sort keys (what is owed: all of it, nothing is paid yet; the last
    activity) are set to what `customers.summary` would compute."""
    owners = list(range(len(customers)))
    owners += [rng.randrange(len(customers)) for _ in range(count - len(customers))]
    rows = []
    for number, owner in enumerate(owners, start=first_number):
        tour, price = rng.choice(TOURS)
        day = now.date() + timedelta(days=rng.randint(-75, 60))
        starts = datetime(day.year, day.month, day.day, rng.choice(START_HOURS), tzinfo=UTC)
        participants = rng.choices([1, 2, 3, 4, 5, 6], weights=[15, 35, 15, 20, 8, 7])[0]
        created = min(starts, now) - timedelta(days=rng.randint(1, 30))
        customer = customers[owner]
        customer["outstanding_total"] += price * participants
        customer["last_activity_at"] = max(customer["last_activity_at"], created)
        rows.append(
            {
                "reference": f"BK-{100000 + number}",
                "customer_id": owner,  # a position until the customers have ids
                "tour_name": tour,
                "starts_at": starts,
                "participants": participants,
                "total_amount": price * participants,
                "currency": CURRENCY,
                "created_at": created,
            }
        )
    return rows


def _insert(session: Session, table: sa.Table, rows: list[dict]) -> None:
    """Bulk insert through the driver: COPY on PostgreSQL, executemany on SQLite (the same
    transaction as `session`). Triggers and indexes still apply."""
    if not rows:
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(columns)
        with raw.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    marks = ", ".join("?" for _ in columns)
    values = ([_sqlite_value(row[c]) for c in columns] for row in rows)
    raw.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values)


def _sqlite_value(value: object) -> object:
    # SQLAlchemy's storage format for DateTime on SQLite, so the rows read back as written.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_customers_and_bookings(
    session: Session, rng: random.Random, customers: int, bookings: int, now: datetime
) -> tuple[list[int], int]:
    """Customers and their bookings in batches; returns the new customer ids and how many
    bookings were written."""
    connection = session.connection()
    customer_table, booking_table = Customer.__table__, Booking.__table__
    first_number = connection.execute(sa.select(sa.func.count()).select_from(booking_table))
    number = first_number.scalar_one() + 1
    ids: list[int] = []
    per_customer = max(bookings, customers) / max(customers, 1)
    written = 0
    for first in range(0, customers, _BATCH):
        count = min(_BATCH, customers - first)
        rows = _customer_batch(rng, first, count, now)
        booking_rows = _booking_batch(rng, rows, round(count * per_customer), number, now)
        last_id = connection.execute(sa.select(sa.func.max(customer_table.c.id))).scalar() or 0
        _insert(session, customer_table, rows)
        # One writer, rows in order: the new ids are the next ones, in the order written.
        batch_ids = list(
            connection.execute(
                sa.select(customer_table.c.id)
                .where(customer_table.c.id > last_id)
                .order_by(customer_table.c.id)
            ).scalars()
        )
        for booking in booking_rows:
            booking["customer_id"] = batch_ids[booking["customer_id"]]
        _insert(session, booking_table, booking_rows)
        ids += batch_ids
        number += len(booking_rows)
        written += len(booking_rows)
    return ids, written


def seed_demo(
    session: Session,
    *,
    customers: int = 200,
    bookings: int = 600,
    credentials: gateway.StripeCredentials | None = None,
    seed: int = SEED,
) -> SeedReport:
    """Write the demo data set (more of it when called again). With Stripe credentials (the
    emulator or test keys), a third of the customers get a saved card at Stripe and paid
    bookings get real PaymentIntents."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _ensure_demo_user(session)
    session.flush()
    customer_ids, written = _insert_customers_and_bookings(session, rng, customers, bookings, now)
    session.commit()
    report = SeedReport(customers=customers, bookings=written, saved_cards=0, payments=0)
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
