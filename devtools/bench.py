"""Benchmark: customer search, the customers list and the customer page at growing sizes;
prints the figures of each size side by side.

    python -m devtools.bench [--customers 100000,1000000] [--runs 30] [--database-url URL]
                             [--reuse]

Without --database-url it builds a throwaway SQLite file; with a PostgreSQL URL it creates
that database if missing and DROPS its public schema (use a database of its own). The schema
comes from the Alembic migrations, as deployed (search index included). The data grows to
each size in turn (three bookings a customer); every case is then called `--runs` times,
each time with another customer's name, email or phone, through the functions the pages use.

With --reuse (PostgreSQL only) each size keeps a database of its own, `<name>_<size>`, made
from the previous size's as a template and seeded once: later runs migrate it to head and
measure at once (seeding a million customers takes minutes). The data is the same as a run
without it (each size seeds the same customers on top of the last).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

import mioapp.models  # noqa: F401  (every table; the sort keys' commit hook)
from devtools.demo.seed import seed_demo
from devtools.migrations import migrate
from mioapp.customers.detail import customer_detail
from mioapp.customers.search import CustomerSort, search_customers
from mioapp.models import Customer

Case = Callable[[Customer], object]


def _cases() -> dict[str, Case]:
    def first(sort: CustomerSort) -> Case:
        return lambda _c: search_customers(session_, sort=sort)

    def deep(sort: CustomerSort) -> Case:
        return lambda c: search_customers(session_, sort=sort, after=c.id)

    return {
        "list by name, first page": first(CustomerSort.NAME),
        "list by outstanding, first page": first(CustomerSort.OUTSTANDING),
        "list by last activity, first page": first(CustomerSort.ACTIVITY),
        "list by name, deep page": deep(CustomerSort.NAME),
        "list by outstanding, deep page": deep(CustomerSort.OUTSTANDING),
        "list by activity, page before": lambda c: search_customers(
            session_, sort=CustomerSort.ACTIVITY, before=c.id
        ),
        "search full name": lambda c: search_customers(session_, query=c.name),
        "search surname": lambda c: search_customers(session_, query=c.name.split()[-1]),
        "search first name": lambda c: search_customers(session_, query=c.name.split()[0]),
        "search surname, by outstanding": lambda c: search_customers(
            session_, query=c.name.split()[-1], sort=CustomerSort.OUTSTANDING
        ),
        "search 2 letters": lambda c: search_customers(session_, query=c.name[:2]),
        "search 1 letter, by activity": lambda c: search_customers(
            session_, query=c.name[:1], sort=CustomerSort.ACTIVITY
        ),
        "search email": lambda c: search_customers(session_, query=c.email),
        "search mail domain": lambda c: search_customers(session_, query=c.email.split("@")[1]),
        "search phone digits": lambda c: search_customers(
            session_, query="".join(ch for ch in c.phone if ch.isdigit())[-7:]
        ),
        "search, no match": lambda c: search_customers(session_, query=f"zq{c.id}xj"),
        "customer page": lambda c: customer_detail(session_, c.id),
    }


session_: Session  # the benchmark's one session, read by the cases


def _backend_cpu_ns() -> int:
    """CPU time so far of the session's PostgreSQL backend (a local server: /proc), 0 where
    that cannot be read (SQLite, a remote server)."""
    connection = session_.connection().connection.dbapi_connection
    pid = getattr(getattr(connection, "info", None), "backend_pid", None)
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) if pid else 0
    except OSError:
        return 0


def _timings(fn: Case, samples: list[Customer]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call. CPU: this process's, which on SQLite is
    the query's own work, plus on a local PostgreSQL its backend's (read from /proc): the work
    itself, whatever else the machine's cores are busy with (waits for the disk left out)."""
    fn(samples[-1])  # warm caches, as a running server would have them
    wall, cpu = [], []
    for customer in samples:
        start_backend = _backend_cpu_ns()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(customer)
        wall.append((time.perf_counter() - start) * 1000)
        backend = _backend_cpu_ns() - start_backend
        cpu.append((time.process_time() - start_cpu) * 1000 + max(backend, 0) / 1e6)
    return wall, cpu


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def _prepare(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        database = engine.url.database
        server = sa.create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).first()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        server.dispose()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        migrate(connection)
    return engine


def _reused(url: str, size: int, previous: int | None) -> tuple[sa.Engine, int]:
    """--reuse: the engine of `<name>_<size>` (made from `<name>_<previous>` when new) migrated
    to head, and how many customers it holds already."""
    base = sa.engine.make_url(url)
    name = f"{base.database}_{size}"
    server = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:

        def exists(database: str) -> bool:
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).first()
            return found is not None

        if not exists(name):
            template = f"{base.database}_{previous}" if previous is not None else None
            if template is not None and exists(template):
                connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    server.dispose()
    engine = sa.create_engine(base.set(database=name))
    with engine.begin() as connection:
        migrate(connection)
    with Session(engine) as session:
        count = session.execute(select(sa.func.count()).select_from(Customer)).scalar_one()
    return engine, count


def main() -> None:
    global session_
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers",
        default="100000,1000000",
        help="comma-separated sizes, measured in turn as the data grows (default %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: keep one database per size and seed it only once (see above)",
    )
    parser.add_argument("--only", default="", help="comma-separated parts of case names to run")
    args = parser.parse_args()
    sizes = sorted({int(size.replace("_", "")) for size in args.customers.split(",")})

    scratch = None if args.database_url else Path(tempfile.mkdtemp(prefix="mio-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    reuse = args.reuse and sa.engine.make_url(url).get_backend_name() == "postgresql"
    engine = None if reuse else _prepare(url)
    dialect = sa.engine.make_url(url).get_backend_name()
    results: dict[str, list[tuple[float, float]]] = {}
    cpu_results: dict[str, list[tuple[float, float]]] = {}
    loads: list[float] = []
    rng = random.Random(7)
    seeded, previous = 0, None
    for size in sizes:
        if reuse:
            if engine is not None:
                engine.dispose()  # a template database must have no connections
            engine, seeded = _reused(url, size, previous)
            previous = size
        with Session(engine) as session:
            session_ = session
            start = time.perf_counter()
            report = seed_demo(
                session, customers=size - seeded, bookings=(size - seeded) * 3, seed=size
            )
            seconds = time.perf_counter() - start
            seeded = size
            if dialect == "postgresql":
                # What autovacuum does soon after a bulk load: statistics for the planner, and
                # the trigram index's pending list (where fresh rows wait, read by every
                # search until then) merged into the index.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                    raw.exec_driver_sql("VACUUM ANALYZE customer")
                    raw.exec_driver_sql("ANALYZE")
            print(
                f"{dialect}: {size:,} customers (+{report.customers:,} customers and "
                f"{report.bookings:,} bookings seeded in {seconds:.1f} s)",
                flush=True,
            )
            ids = session.execute(select(Customer.id)).scalars().all()
            samples = [session.get(Customer, i) for i in rng.sample(ids, args.runs)]
            loads.append(os.getloadavg()[0])
            for label, fn in _cases().items():
                if args.only and not any(part in label for part in args.only.split(",")):
                    continue
                wall, cpu = _timings(fn, samples)
                results.setdefault(label, []).append((statistics.median(wall), _p95(wall)))
                cpu_results.setdefault(label, []).append((statistics.median(cpu), _p95(cpu)))
    engine.dispose()
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)  # a million customers take a gigabyte

    load = ", ".join(f"{value:.1f}" for value in loads)
    print(f"\n{dialect}, {args.runs} runs per case; load average when measured: {load}")
    _table("wall-clock ms", results, sizes)
    if dialect == "sqlite":
        _table("CPU ms of this process (the query's own work on SQLite)", cpu_results, sizes)
    else:
        _table(
            "CPU ms of this process and its PostgreSQL backend (local server)", cpu_results, sizes
        )


def _table(title: str, results: dict[str, list[tuple[float, float]]], sizes: list[int]) -> None:
    header = "".join(f"{f'{size:,}: median / p95':>28}" for size in sizes)
    print(f"\n{title}\n{'case':<36}{header}   growth (median, p95)")
    for label, figures in results.items():
        cells = "".join(f"{median:>17.1f} / {p95:>8.1f}" for median, p95 in figures)
        growth = ""
        if len(figures) > 1:
            medians = figures[-1][0] / max(figures[0][0], 0.01)
            p95s = figures[-1][1] / max(figures[0][1], 0.01)
            growth = f"{medians:>6.2f}x {p95s:>6.2f}x"
        print(f"{label:<36}{cells}   {growth}")


if __name__ == "__main__":
    main()
