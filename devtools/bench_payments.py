"""Benchmark: the Payments page's queries and its CSV export on 1,000,000 payments; prints figures.

    python -m devtools.bench_payments [--payments 1000000] [--database-url URL] [--runs 30]

Without --database-url it builds a throwaway SQLite file. A PostgreSQL --database-url
database is emptied (its public schema dropped) and built by the Alembic migrations, search
index included: give it one of its own. The figures are
the p50 and p95 of repeated calls of the functions the page and the export use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from devtools.bench import _prepare as prepare
from mioapp.billing.transactions import (
    EXPORT_BATCH,
    Cursor,
    StatusFilter,
    TransactionFilter,
    TransactionKind,
    iter_transactions,
    transaction_page,
)
from mioapp.business import BusinessProfile
from mioapp.db import Database
from mioapp.models import PaymentMethodKind, customer_search_text
from mioapp.web.exports import export_rows

SEED = 20261130
ZONE = "America/New_York"
PROFILE = BusinessProfile(
    name="Bench Tours",
    email="hello@example.test",
    phone="",
    reply_to="",
    time_zone=ZONE,
    locale="en_US",
)
FIRST = ["Ana", "Ben", "Chloe", "Diego", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jonas"]
LAST = [f"{stem}{suffix}" for stem in ("Lima", "Smith", "Okafor", "Berg", "Tanaka") for suffix in
        ("", "son", "ez", "ini", "ova", "sen", "er", "ley", "ford", "ton", "wick", "stein",
         "berg", "man", "ski", "eau", "ard", "ell", "ich", "o")]  # fmt: skip
TOURS = ["Sunset Kayak Tour", "Volcano Sunrise Hike", "Whale Watching Cruise"]
STATUSES = [("succeeded", 85), ("failed", 6), ("canceled", 4), ("created", 2),
            ("processing", 1), ("requires_action", 1), ("unknown", 1)]  # fmt: skip
METHODS = [("card_on_file", 50), ("new_card", 20), ("payment_link", 30)]
SPAN = timedelta(days=3 * 365)
END = datetime(2026, 11, 30, tzinfo=UTC)
BATCH = 20_000


def _weighted(choices: list[tuple[str, int]], rng: random.Random, n: int) -> list[str]:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights, k=n)


def _stamp(value: datetime, dialect: str) -> str:
    # SQLAlchemy's SQLite format for these columns; PostgreSQL reads ISO with the offset.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if dialect == "sqlite" else "+00")


def _load(engine: sa.Engine, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany in one transaction on SQLite."""
    count = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(sql, batch)
            count += len(batch)
        raw.commit()
    finally:
        raw.close()
    return count


def seed(engine: sa.Engine, payments: int) -> dict[str, int]:
    """`payments` payments over three years, a customer per 10, a booking per 3 payments,
    a refund for 1 in 20; ids are dense from 1."""
    rng = random.Random(SEED)
    d = engine.dialect.name
    customers = max(1, payments // 10)
    bookings = max(1, payments // 3)
    now = _stamp(END, d)

    def customer_rows():
        for i in range(1, customers + 1):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            email = f"guest{i}@example.test"
            phone = f"+1 555 {i:07d}"
            yield (i, name, email, phone, customer_search_text(name, email, phone), now, now)

    def booking_rows():
        for i in range(1, bookings + 1):
            yield (i, f"BK-{100000 + i}", (i - 1) % customers + 1, rng.choice(TOURS), now, 2,
                   30_000, "usd", now)  # fmt: skip

    statuses = _weighted(STATUSES, rng, payments)
    methods = _weighted(METHODS, rng, payments)
    # Ascending in time with the id, as rows are written, with some jitter.
    step = SPAN / payments
    times = [END - SPAN + step * i + timedelta(seconds=rng.random()) for i in range(payments)]

    booking_of = [rng.randint(1, bookings) for _ in range(payments)]

    def payment_rows():
        for i in range(1, payments + 1):
            booking = booking_of[i - 1]
            at = _stamp(times[i - 1], d)
            status = statuses[i - 1]
            yield (i, (booking - 1) % customers + 1, 10_000, "usd", methods[i - 1], status,
                   f"pi_bench{i:010d}", f"bench-{i}", f"Tour (BK-{100000 + booking})",
                   "visa", "4242", at, at, at if status == "succeeded" else None)  # fmt: skip

    def allocation_rows():
        for i in range(1, payments + 1):
            yield (i, i, booking_of[i - 1], 10_000)

    refund_of = sorted(rng.sample(range(1, payments + 1), payments // 20))

    def refund_rows():
        for n, payment in enumerate(refund_of, start=1):
            at = _stamp(times[payment - 1] + timedelta(days=2), d)
            status = "succeeded" if statuses[payment - 1] == "succeeded" else "failed"
            yield (n, payment, 5_000, "usd", status, f"re_bench{n:010d}", "", at)

    def refund_allocation_rows():
        for n, payment in enumerate(refund_of, start=1):
            yield (n, n, booking_of[payment - 1], 5_000)

    counts = {
        "customers": _load(
            engine,
            "customer",
            ["id", "name", "email", "phone", "search_text", "created_at", "last_activity_at"],
            customer_rows(),
        ),
        "bookings": _load(
            engine,
            "booking",
            [
                "id",
                "reference",
                "customer_id",
                "tour_name",
                "starts_at",
                "participants",
                "total_amount",
                "currency",
                "created_at",
            ],
            booking_rows(),
        ),
        "payments": _load(
            engine,
            "payment",
            [
                "id",
                "customer_id",
                "amount",
                "currency",
                "method_kind",
                "status",
                "stripe_payment_intent_id",
                "idempotency_key",
                "description",
                "card_brand",
                "card_last4",
                "created_at",
                "updated_at",
                "succeeded_at",
            ],
            payment_rows(),
        ),
        "allocations": _load(
            engine,
            "paymentallocation",
            ["id", "payment_id", "booking_id", "amount"],
            allocation_rows(),
        ),
        "refunds": _load(
            engine,
            "refund",
            [
                "id",
                "payment_id",
                "amount",
                "currency",
                "status",
                "stripe_refund_id",
                "reason",
                "created_at",
            ],
            refund_rows(),
        ),
        "refund allocations": _load(
            engine,
            "refundallocation",
            ["id", "refund_id", "booking_id", "amount"],
            refund_allocation_rows(),
        ),
    }
    with engine.begin() as connection:
        if d == "postgresql":
            for table in ("customer", "booking", "payment", "paymentallocation", "refund",
                          "refundallocation"):  # fmt: skip
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            connection.exec_driver_sql("ANALYZE")
    if d == "postgresql":
        # As autovacuum would soon after the load: the trigram index's pending list merged.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
            raw.exec_driver_sql("VACUUM ANALYZE customer")
    return counts


def _percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(label: str, fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches, as a running server would have them
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    p95 = _percentile(times, 0.95)
    print(
        f"  {label:<44} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms"
        f"{'' if p95 < 50 else '   (over 50 ms)'}"
    )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-payments.db'}"
    engine = prepare(url)
    start = time.perf_counter()
    counts = seed(engine, args.payments)
    print(
        f"Seeded {', '.join(f'{n:,} {what}' for what, n in counts.items())} "
        f"in {time.perf_counter() - start:.1f} s ({engine.dialect.name})"
    )

    with Session(engine) as session:

        def page(**kwargs) -> Callable[[], object]:
            f = TransactionFilter(**kwargs)
            return lambda: transaction_page(session, f, time_zone=ZONE)

        everything = TransactionFilter()
        deep = Cursor(at=END - SPAN * 0.9, kind=TransactionKind.PAYMENT, id=args.payments // 10)
        last_month = date(2026, 10, 1), date(2026, 10, 31)
        sample = args.payments // 2
        surname = LAST[7]
        cases = {
            "first page": page(),
            "status succeeded": page(status=StatusFilter.SUCCEEDED),
            "status failed": page(status=StatusFilter.FAILED),
            "status pending (4 payment statuses)": page(status=StatusFilter.PENDING),
            "method payment link": page(method=PaymentMethodKind.PAYMENT_LINK),
            "refunds only": page(kind=TransactionKind.REFUND),
            "date range (one month)": page(date_from=last_month[0], date_to=last_month[1]),
            "failed + link + one month": page(
                status=StatusFilter.FAILED,
                method=PaymentMethodKind.PAYMENT_LINK,
                date_from=last_month[0],
                date_to=last_month[1],
            ),
            "canceled refunds (none exist)": page(
                status=StatusFilter.CANCELED, kind=TransactionKind.REFUND
            ),
            f"search customer surname ({surname})": page(search=surname),
            "search customer email": page(search=f"guest{sample // 10}@example.test"),
            "search customer no match": page(search="zzzz-nobody"),
            "search receipt number": page(search=f"MIO-{sample:06d}"),
            "search booking reference": page(search=f"BK-{100000 + args.payments // 6}"),
            "search pi_ id": page(search=f"pi_bench{sample:010d}"),
            "search re_ id": page(search=f"re_bench{args.payments // 40:010d}"),
            "deep keyset page (90% down)": lambda: transaction_page(
                session, everything, time_zone=ZONE, after=deep
            ),
            "newer page (before a cursor)": lambda: transaction_page(
                session, everything, time_zone=ZONE, before=deep
            ),
            "deep page, status failed": lambda: transaction_page(
                session, TransactionFilter(status=StatusFilter.FAILED), time_zone=ZONE, after=deep
            ),
        }
        # Figures from a busy machine are worth less: say how busy it was.
        load = os.getloadavg()[0]
        print(
            f"Payments page queries ({args.runs} runs each, {engine.dialect.name}, "
            f"load average {load:.1f} on {os.cpu_count()} CPUs):"
        )
        worst = max(_measure(label, fn, args.runs) for label, fn in cases.items())
        print(f"  worst p95: {worst:.1f} ms")

        # The export as the route streams it: a batch per short transaction, CSV text out.
        export = TransactionFilter(date_from=date(2026, 1, 1), date_to=date(2026, 6, 30))

        async def download() -> int:
            size = 0
            async for chunk in export_rows(Database(engine), export, PROFILE, EXPORT_BATCH):
                size += len(chunk.encode())
            return size

        start = time.perf_counter()
        size = asyncio.run(download())
        elapsed = time.perf_counter() - start
        with Session(engine) as count_session:
            rows = sum(
                len(batch) for batch in iter_transactions(count_session, export, time_zone=ZONE)
            )
        print(
            f"CSV export (Jan-Jun 2026): {rows:,} rows, {size / 1e6:.1f} MB in {elapsed:.1f} s "
            f"= {rows / elapsed:,.0f} rows/s"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
