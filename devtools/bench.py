"""Benchmark: customer search and the customer page on a large data set; prints figures.

    python -m devtools.bench [--customers 100000] [--database-url URL]

Without --database-url it builds a throwaway SQLite file. The figures are the median and
worst of repeated calls of the same functions the pages use.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from devtools.demo.seed import seed_demo
from mioapp.customers.detail import customer_detail
from mioapp.customers.search import search_customers
from mioapp.models import Customer


def _measure(label: str, fn: Callable[[], object], runs: int) -> None:
    fn()  # warm caches, as a running server would have them
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    print(f"  {label:<38} median {statistics.median(times):7.1f} ms   worst {max(times):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = sa.create_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        start = time.perf_counter()
        report = seed_demo(session, customers=args.customers, bookings=args.customers * 3)
        print(
            f"Seeded {report.customers:,} customers and {report.bookings:,} bookings "
            f"in {time.perf_counter() - start:.1f} s ({engine.dialect.name})"
        )
        sample = session.exec(select(Customer).order_by(Customer.id.desc())).first()
        last_page = search_customers(session).page_count
        print(f"Customer search and page ({args.runs} runs each):")
        cases = {
            "list, first page": lambda: search_customers(session),
            f"list, last page ({last_page:,})": lambda: search_customers(session, page=last_page),
            "search by surname": lambda: search_customers(session, query=sample.name.split()[-1]),
            "search by email": lambda: search_customers(session, query=sample.email),
            "search by phone digits": lambda: search_customers(session, query=sample.phone[-8:]),
            "search with no match": lambda: search_customers(session, query="zzzz-nobody"),
            "customer page": lambda: customer_detail(session, sample.id),
        }
        for label, fn in cases.items():
            _measure(label, fn, args.runs)
    engine.dispose()


if __name__ == "__main__":
    main()
