"""Benchmark: customer search, the customers list and the customer page at growing sizes;
prints the figures of each size side by side.

    python -m devtools.bench [--customers 100000,1000000] [--runs 40] [--database-url URL]
                             [--reuse] [--only CASE,...]

Each size gets a database of its own, made from the previous size's as a copy and grown to
that size (three bookings a customer): without --database-url throwaway SQLite files; with a
PostgreSQL URL `<name>_<size>` on that server, dropped and made again (`--reuse` keeps them
from an earlier run and seeds only what they lack: a million customers take minutes). The
schema comes from the Alembic migrations, as deployed (search index included).

Every case is then called `--runs` times through the functions the pages use, each time with
another customer's name, email or phone, and each time at every size in turn with the same
customer (the smallest size's customers are in every database): the growth printed is the
same queries', measured side by side.
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


def _timings(
    fn: Case, sessions: list[Session], samples: list[list[Customer]]
) -> tuple[list[list[float]], list[list[float]]]:
    """Wall-clock and CPU milliseconds of each call, per size. The sizes take turns on each
    sample (in alternating order), so a change in the machine's speed weighs on them alike.
    CPU: this process's, which on SQLite is the query's own work, plus on a local PostgreSQL
    its backend's (read from /proc): the work itself, whatever else the machine's cores are
    busy with (waits for the disk left out)."""
    global session_
    for session, customers in zip(sessions, samples, strict=True):
        session_ = session
        fn(customers[-1])  # warm caches, as a running server would have them
    wall: list[list[float]] = [[] for _ in sessions]
    cpu: list[list[float]] = [[] for _ in sessions]
    for n in range(len(samples[0])):
        turns = list(range(len(sessions)))
        for k in turns if n % 2 == 0 else reversed(turns):
            session_ = sessions[k]
            customer = samples[k][n]
            start_backend = _backend_cpu_ns()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn(customer)
            wall[k].append((time.perf_counter() - start) * 1000)
            backend = _backend_cpu_ns() - start_backend
            cpu[k].append((time.process_time() - start_cpu) * 1000 + max(backend, 0) / 1e6)
    return wall, cpu


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def _server(url: sa.URL) -> sa.Engine:
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _exists(connection: sa.Connection, database: str) -> bool:
    found = connection.execute(
        sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
    ).first()
    return found is not None


def _sized(url: str, size: int, previous: int | None, *, fresh: bool) -> sa.Engine:
    """The engine of the database for `size` customers, migrated to head: a SQLite file or a
    PostgreSQL database `<name>_<size>`, made from the previous size's as a copy (or
    template) when new, so it holds those customers already; `fresh` drops it first."""
    base = sa.engine.make_url(url)
    if base.get_backend_name() == "sqlite":
        path = Path(base.database)
        sized = path.with_name(f"{path.stem}_{size}{path.suffix}")
        template = path.with_name(f"{path.stem}_{previous}{path.suffix}") if previous else None
        if fresh:
            sized.unlink(missing_ok=True)
        if template is not None and not sized.exists():
            shutil.copyfile(template, sized)
        engine = sa.create_engine(base.set(database=str(sized)))
    else:
        name = f"{base.database}_{size}"
        server = _server(base)
        with server.connect() as connection:
            if fresh and _exists(connection, name):
                connection.exec_driver_sql(f'DROP DATABASE "{name}"')
            if not _exists(connection, name):
                template = f"{base.database}_{previous}" if previous is not None else None
                if template is not None and _exists(connection, template):
                    connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                else:
                    connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        server.dispose()
        engine = sa.create_engine(base.set(database=name))
    with engine.begin() as connection:
        migrate(connection)
    return engine


def _seeded(engine: sa.Engine, size: int) -> None:
    """Grow the database to `size` customers (three bookings each), as autovacuum would
    leave it soon after."""
    with Session(engine) as session:
        seeded = session.execute(select(sa.func.count()).select_from(Customer)).scalar_one()
        start = time.perf_counter()
        report = seed_demo(
            session, customers=size - seeded, bookings=(size - seeded) * 3, seed=size
        )
        seconds = time.perf_counter() - start
    dialect = engine.dialect.name
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
        # Statistics for the planner; on PostgreSQL also the trigram index's pending list
        # (where fresh rows wait, read by every search until then) merged into the index,
        # and the visibility map that lets index-only scans skip the table (the bookings'
        # balances read theirs).
        raw.exec_driver_sql("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE")
    print(
        f"{dialect}: {size:,} customers (+{report.customers:,} customers and "
        f"{report.bookings:,} bookings seeded in {seconds:.1f} s)",
        flush=True,
    )


def main() -> None:
    global session_
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers",
        default="100000,1000000",
        help="comma-separated sizes, each a database of its own (default %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the databases of an earlier run (same URL) and seed only what they lack",
    )
    parser.add_argument("--only", default="", help="comma-separated parts of case names to run")
    args = parser.parse_args()
    sizes = sorted({int(size.replace("_", "")) for size in args.customers.split(",")})

    scratch = None if args.database_url else Path(tempfile.mkdtemp(prefix="mio-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    dialect = sa.engine.make_url(url).get_backend_name()
    engines: list[sa.Engine] = []
    previous = None
    for size in sizes:
        if engines:
            # The copy must see every write: a PostgreSQL template database may have no
            # connections, and SQLite writes its WAL back into the file when the last closes.
            engines[-1].dispose()
        engine = _sized(url, size, previous, fresh=not args.reuse)
        _seeded(engine, size)
        engines.append(engine)
        previous = size

    sessions = [Session(engine) for engine in engines]
    # The same customers' names, emails and phones at every size (the smallest size's
    # customers are in every database, with the same ids): the growth is the same query's.
    ids = sessions[0].execute(select(Customer.id)).scalars().all()
    chosen = random.Random(7).sample(ids, args.runs)
    samples = [[session.get(Customer, i) for i in chosen] for session in sessions]
    load = os.getloadavg()[0]
    results: dict[str, list[tuple[float, float]]] = {}
    cpu_results: dict[str, list[tuple[float, float]]] = {}
    for label, fn in _cases().items():
        if args.only and not any(part in label for part in args.only.split(",")):
            continue
        wall, cpu = _timings(fn, sessions, samples)
        results[label] = [(statistics.median(w), _p95(w)) for w in wall]
        cpu_results[label] = [(statistics.median(c), _p95(c)) for c in cpu]
    for session in sessions:
        session.close()
    for engine in engines:
        engine.dispose()
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)  # a million customers take a gigabyte

    print(
        f"\n{dialect}, {args.runs} runs per case, the sizes taking turns with the same "
        f"queries; load average when measuring began: {load:.1f}"
    )
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
