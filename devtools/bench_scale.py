"""Benchmark: issue 10's scale-out ratios, side by side in one run on this machine; prints a table.

    python -m devtools.bench_scale [--clients 50] [--idle-pages 200] [--idle-seconds 60]
                                   [--duration 20] [--charges 40] [--fresh-events 150]
    python -m devtools.bench_scale --only charge [--charges 40]   # the charge ratio alone, ~20 s

It starts `make run-cluster`'s layout with ONE app instance (PostgreSQL and Redis at
127.0.0.1, a scratch database and job queue of its own, dropped afterwards; the Stripe
emulator; nginx) and no job consumer, so nothing but the app touches the database. Then:

- charge: a card-on-file charge through `mioapp.payments.charges` (attempt row, Stripe,
  ledger applied and committed) against the same PaymentIntent made with a reused raw
  stripe-python client on the same emulator, alternating, in this process;
- webhook own work: fresh `payment_intent.succeeded` events handed to the app's
  `WebhookReceiver` in this process, the time spent re-fetching from Stripe taken out;
- head-of-line (1 worker): `/api/health` alone, then while a merchant's card-on-file charge
  (sent over the websocket, as the page does) waits on the emulator stopped with SIGSTOP;
- idle pages (1 worker): customer pages open over websockets, then database transactions
  (every statement runs in one) and the instance's CPU over a quiet minute;
- webhook duplicates (1 worker): one stored event delivered again and again by concurrent
  senders, over HTTP, beside `/api/health` under the same senders;
- throughput: simulated dashboard tabs (sign-in check, a search and the list's load that
  runs it, open customer, each waiting for its answer) on 1 worker, then the same instance
  restarted with 2 workers.

Medians unless said otherwise. The figures vary with the machine's load: compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import random
import secrets
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from devtools.cluster import (
    DEFAULT_REDIS_URL,
    Cluster,
    drop_postgres_database,
    ensure_postgres_database,
)
from devtools.reflex_client import AsyncReflexClient
from devtools.stack import (
    EMULATOR_PUBLISHABLE_KEY,
    EMULATOR_SECRET_KEY,
    EMULATOR_WEBHOOK_SECRET,
    free_port,
)

logger = logging.getLogger("bench_scale")
POSTGRES = "postgresql://postgres@127.0.0.1:5432"  # the server; the bench makes its own database
BIG_BOOKING = 999_999_99  # the largest amount a charge form takes; no run uses it up
CHARGE = 1_00


@dataclass
class Row:
    name: str
    figure: str
    goal: str
    met: bool | None = None


@dataclass
class Bench:
    cluster: Cluster
    args: argparse.Namespace
    rows: list[Row] = field(default_factory=list)
    app_intents: list[str] = field(default_factory=list)

    @property
    def instance_url(self) -> str:
        return f"http://127.0.0.1:{self.cluster.instance_ports[0]}"

    @property
    def instance_pid(self) -> int:
        return self.cluster.apps[0].popen.pid

    def add(self, name: str, figure: str, goal: str, met: bool | None = None) -> None:
        self.rows.append(Row(name, figure, goal, met))
        logger.info("    %s: %s (goal %s)", name, figure, goal)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds * 1000:,.0f} ms"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _sign(payload: bytes, secret: str) -> str:
    """A Stripe-Signature header for `payload`, as Stripe (and the emulator) computes it."""
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def _event(event_id: str, intent_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "livemode": False,
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    ).encode()


# Set-up -------------------------------------------------------------------------------------


def _credentials(cluster: Cluster):
    from mioapp.payments.gateway import StripeCredentials

    return StripeCredentials(
        secret_key=EMULATOR_SECRET_KEY,
        publishable_key=EMULATOR_PUBLISHABLE_KEY,
        webhook_secret=EMULATOR_WEBHOOK_SECRET,
        api_base=cluster.emulator.base_url,
    )


@dataclass(frozen=True)
class ChargeCustomer:
    id: int
    stripe_id: str
    booking_id: int
    card_id: int
    payment_method_id: str


async def _charge_customer(bench: Bench, name: str, total: int = BIG_BOOKING) -> ChargeCustomer:
    """A customer with one booking of `total` and a saved test card."""
    from devtools.demo import stripe_data
    from mioapp.db import database
    from mioapp.models import Booking, Customer, utcnow
    from mioapp.payments import cards, gateway

    credentials = _credentials(bench.cluster)
    db = database()
    email = f"{secrets.token_hex(4)}@bench.test"

    def add(session):
        customer = Customer(name=name, email=email)
        session.add(customer)
        session.flush()
        booking = Booking(
            reference=f"BK-BENCH-{customer.id}",
            customer_id=customer.id,
            tour_name="Benchmark Cruise",
            starts_at=utcnow(),
            participants=1,
            total_amount=total,
            currency="usd",
        )
        session.add(booking)
        session.flush()
        return customer.id, booking.id

    customer_id, booking_id = await db.run(add)
    stripe_id = await gateway.create_customer(
        credentials, name=name, email=email, phone="", local_id=customer_id
    )
    card = await asyncio.to_thread(
        stripe_data.attach_test_card,
        credentials,
        stripe_customer_id=stripe_id,
        number="4242424242424242",
        exp_month=12,
        exp_year=2031,
    )

    def store(session):
        session.get(Customer, customer_id).stripe_customer_id = stripe_id
        return cards.save_card(session, customer_id=customer_id, card=card).id

    card_id = await db.run(store)
    return ChargeCustomer(customer_id, stripe_id, booking_id, card_id, card.payment_method_id)


async def _merchant_cookie() -> str:
    from mioapp import auth
    from mioapp.db import database
    from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
    from mioapp.web import sign_in

    def start(session):
        return auth.sign_in(
            session,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            session_days=1,
            limiter=auth.build_limiter(None),
            client="bench-scale",
        ).token

    return f"{sign_in.COOKIE}={await database().run(start)}"


async def _customer_ids() -> list[int]:
    from sqlmodel import select

    from mioapp.db import database
    from mioapp.models import Customer

    return list(await database().run(lambda s: s.exec(select(Customer.id)).all()))


@contextlib.contextmanager
def _frozen(bench: Bench) -> Iterator[None]:
    pid = bench.cluster.emulator.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


# In this process: the charge and a fresh webhook's own work --------------------------------


async def bench_charge(bench: Bench) -> None:
    import stripe

    from mioapp.db import database
    from mioapp.models import PaymentStatus
    from mioapp.payments import charges

    logger.info("==> card-on-file charge: the app's code against raw stripe-python")
    customer = await _charge_customer(bench, "Bench Charges")
    credentials = _credentials(bench.cluster)
    raw = stripe.StripeClient(
        EMULATOR_SECRET_KEY,
        base_addresses={"api": bench.cluster.emulator.base_url},
        http_client=stripe.HTTPXClient(),
    )

    async def app_charge() -> None:
        request = charges.ChargeRequest(
            customer_id=customer.id,
            booking_ids=[customer.booking_id],
            amount=CHARGE,
            request_key=charges.new_request_key(),
            confirm_duplicate=True,
        )
        payment = await charges.charge_card_on_file(
            database(), credentials, request, saved_card_id=customer.card_id
        )
        if payment.status != PaymentStatus.SUCCEEDED:
            raise RuntimeError(f"the app's charge ended {payment.status}")
        bench.app_intents.append(payment.stripe_payment_intent_id)

    async def raw_charge() -> None:
        intent = await raw.v1.payment_intents.create_async(
            params={
                "amount": CHARGE,
                "currency": "usd",
                "customer": customer.stripe_id,
                "payment_method": customer.payment_method_id,
                "payment_method_types": ["card"],
                "off_session": True,
                "confirm": True,
                "metadata": {"bench": "raw"},
            },
            options={"idempotency_key": f"bench-raw-{secrets.token_hex(8)}"},
        )
        if intent.status != "succeeded":
            raise RuntimeError(f"the raw charge ended {intent.status}")

    # Each `Database.run` is one transaction on a worker thread: counting the engine's
    # transactions counts the thread hops too.
    counts = {"statements": 0, "transactions": 0}

    def count_statement(*_args) -> None:
        counts["statements"] += 1

    def count_transaction(*_args) -> None:
        counts["transactions"] += 1

    engine = database().engine
    times: dict[str, list[float]] = {"app": [], "raw": []}
    # This process's CPU (all threads) per charge: less swayed by the machine's load.
    cpu: dict[str, list[float]] = {"app": [], "raw": []}
    # The emulator would post a webhook for every charge to the app: not what is measured.
    with bench.cluster.emulator.webhooks_paused():
        for n in range(bench.args.charges + 5):
            pair = [("app", app_charge), ("raw", raw_charge)]
            for label, charge in pair if n % 2 else reversed(pair):
                counting = label == "app" and n == 5
                if counting:
                    sa.event.listen(engine, "before_cursor_execute", count_statement)
                    sa.event.listen(engine, "begin", count_transaction)
                started, cpu_started = time.perf_counter(), time.process_time()
                await charge()
                if n >= 5:  # the first few open connections and warm caches
                    times[label].append(time.perf_counter() - started)
                    cpu[label].append(time.process_time() - cpu_started)
                if counting:
                    sa.event.remove(engine, "before_cursor_execute", count_statement)
                    sa.event.remove(engine, "begin", count_transaction)
    app, raw_ = statistics.median(times["app"]), statistics.median(times["raw"])
    bench.add(
        "Card-on-file charge: app (to committed ledger) / raw stripe-python",
        f"{_ms(app)} / {_ms(raw_)} = {app / raw_:.2f}x",
        "<= 1.25x",
        app / raw_ <= 1.25,
    )
    app_cpu, raw_cpu = statistics.median(cpu["app"]), statistics.median(cpu["raw"])
    bench.add(
        "  this process's CPU per charge: app / raw",
        f"{_ms(app_cpu)} / {_ms(raw_cpu)} = {app_cpu / raw_cpu:.2f}x",
        "",
    )
    bench.add(
        "  its database work: statements, transactions (thread hops) per charge",
        f"{counts['statements']}, {counts['transactions']}",
        "",
    )


async def bench_fresh_webhooks(bench: Bench) -> None:
    from mioapp.db import database
    from mioapp.payments import gateway, webhooks

    logger.info("==> fresh webhook events: the receiver's own work (Stripe re-fetch excluded)")
    credentials = _credentials(bench.cluster)
    receiver = webhooks.WebhookReceiver(database(), credentials_for=lambda _s: credentials)
    fetching: list[float] = []
    original = gateway.retrieve_intent

    async def timed_retrieve(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            fetching.append(time.perf_counter() - started)

    own: list[float] = []
    intents = (bench.app_intents * (1 + bench.args.fresh_events // max(1, len(bench.app_intents))))[
        : bench.args.fresh_events
    ]
    gateway.retrieve_intent = timed_retrieve
    try:
        for n, intent_id in enumerate(intents):
            payload = _event(f"evt_bench_{secrets.token_hex(8)}", intent_id)
            fetching.clear()
            started = time.perf_counter()
            outcome = await receiver.handle(payload, _sign(payload, EMULATOR_WEBHOOK_SECRET))
            elapsed = time.perf_counter() - started - sum(fetching)
            if outcome.status_code != 200:
                raise RuntimeError(f"a fresh event was answered {outcome}")
            if n >= 5:
                own.append(elapsed)
    finally:
        gateway.retrieve_intent = original
    p99 = _p(own, 0.99)
    bench.add(
        "Webhook, fresh event: own work p99 (median)",
        f"{_ms(p99)} ({_ms(statistics.median(own))})",
        "< 20 ms",
        p99 < 0.020,
    )


# Against the running instance --------------------------------------------------------------


async def bench_head_of_line(bench: Bench, cookie: str) -> None:
    import httpx
    from sqlmodel import select

    from mioapp.db import database
    from mioapp.models import Payment, PaymentStatus
    from mioapp.ui.pages.charge.state import ChargeState
    from mioapp.ui.pages.customer.state import CustomerState

    logger.info("==> head-of-line: /api/health while a charge waits on a stopped emulator")
    customer = await _charge_customer(bench, "Bench Frozen", total=66_00)
    async with httpx.AsyncClient(base_url=bench.instance_url, timeout=60) as http:

        async def health() -> float:
            started = time.perf_counter()
            answer = await http.get("/api/health")
            answer.raise_for_status()
            return time.perf_counter() - started

        for _ in range(5):
            await health()
        alone = [await health() for _ in range(30)]
        tab = await AsyncReflexClient.connect(bench.instance_url, bench.cluster.base_url, cookie)
        path, params = f"/customers/{customer.id}", {"customer_id": str(customer.id)}

        def succeeded(session) -> bool:
            query = select(Payment).where(Payment.customer_id == customer.id)
            return any(p.status == PaymentStatus.SUCCEEDED for p in session.exec(query).all())

        try:
            await tab.call(CustomerState, "load_customer", {}, path, params)
            await tab.call(ChargeState, "open_charge", {}, path, params)
            with _frozen(bench):
                # Its first answer is the "in flight" update; then it waits on Stripe.
                await tab.call(ChargeState, "submit_charge", {}, path, params)
                await asyncio.sleep(0.3)
                during = [await health() for _ in range(10)]
            # The tab stays open until the charge is through, as a merchant's would.
            deadline = time.monotonic() + 60
            while not await database().run(succeeded):
                if time.monotonic() > deadline:
                    raise RuntimeError("the charge did not complete once the emulator resumed")
                await asyncio.sleep(0.2)
        finally:
            await tab.disconnect()
    ratio = statistics.median(during) / statistics.median(alone)
    bench.add(
        "Head-of-line: /api/health during a frozen-Stripe charge / alone (1 worker)",
        f"{_ms(statistics.median(during))} / {_ms(statistics.median(alone))} = {ratio:.1f}x"
        f" (worst {_ms(max(during))})",
        "<= 5x",
        ratio <= 5,
    )


async def _open_pages(bench: Bench, cookie: str, count: int) -> list[AsyncReflexClient]:
    from mioapp.ui.pages.customer.state import CustomerState

    ids = await _customer_ids()
    tabs: list[AsyncReflexClient] = []
    gate = asyncio.Semaphore(20)

    async def open_one(n: int) -> None:
        async with gate:
            tab = await AsyncReflexClient.connect(
                bench.instance_url, bench.cluster.base_url, cookie
            )
            tabs.append(tab)
            customer_id = ids[n % len(ids)]
            await tab.call(
                CustomerState,
                "load_customer",
                {},
                f"/customers/{customer_id}",
                {"customer_id": str(customer_id)},
            )
            if "/login" in json.dumps(tab.last_reply):
                raise RuntimeError(f"the page was sent to sign in: {tab.last_reply}")

    await asyncio.gather(*(open_one(n) for n in range(count)))
    return tabs


def _transactions(server: str, database_name: str) -> int:
    """Transactions the server counted in `database_name` (every statement runs in one)."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            (database_name,),
        ).fetchone()
    return int(row[0])


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, read from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _process_cpu(pid: int) -> tuple[str, float]:
    """The command name of `pid` and its user and system CPU time in seconds; ("", 0.0) for
    a process that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, IndexError, ValueError):
        return "", 0.0
    return stat[stat.index("(") + 1 : stat.rindex(")")], ticks / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and its descendants (workers), in seconds."""
    return sum(_process_cpu(member)[1] for member in _process_tree(pid))


async def bench_idle_pages(bench: Bench, cookie: str) -> None:
    count, seconds = bench.args.idle_pages, bench.args.idle_seconds
    logger.info("==> %s idle customer pages for %s s", count, seconds)
    tabs = await _open_pages(bench, cookie, count)
    database_name = make_url(bench.cluster.database_url).database
    try:
        # PostgreSQL publishes a session's counts when it goes idle (within 10 s).
        await asyncio.sleep(12)
        before_tx, before_cpu = (
            _transactions(bench.args.postgres, database_name),
            _cpu_seconds(bench.instance_pid),
        )
        started = time.monotonic()
        await asyncio.sleep(seconds)
        cpu = _cpu_seconds(bench.instance_pid) - before_cpu
        elapsed = time.monotonic() - started
        await asyncio.sleep(11)
        transactions = _transactions(bench.args.postgres, database_name) - before_tx
    finally:
        await asyncio.gather(*(tab.disconnect() for tab in tabs), return_exceptions=True)
    per_minute = transactions * 60 / (elapsed + 11)
    bench.add(
        f"{count} idle customer pages: database statements per minute (1 worker)",
        f"{per_minute:.0f} ({transactions} transactions in {elapsed + 11:.0f} s)",
        "0",
        transactions == 0,
    )
    share = cpu / elapsed * 100
    bench.add(
        f"{count} idle customer pages: backend CPU, % of one core",
        f"{share:.1f}%",
        "< 5%",
        share < 5,
    )


def _sender_process(url: str, body: bytes, headers: dict, senders: int, seconds: float) -> list:
    """Runs in a process of its own: `senders` concurrent posts (or gets) for `seconds`."""
    import aiohttp

    async def main() -> list:
        answers: dict[int, int] = {}
        deadline = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=senders)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def sender() -> None:
                while time.monotonic() < deadline:
                    if body:
                        request = session.post(url, data=body, headers=headers)
                    else:
                        request = session.get(url)
                    async with request as answer:
                        await answer.read()
                        answers[answer.status] = answers.get(answer.status, 0) + 1

            await asyncio.gather(*(sender() for _ in range(senders)))
        return sorted(answers.items())

    return asyncio.run(main())


def _flood(url: str, body: bytes, headers: dict, senders: int, seconds: float) -> dict[int, int]:
    """`senders` concurrent clients, spread over two processes so the senders' own CPU is not
    what limits the rate; answers by status code."""
    processes = 2
    shares = [senders // processes + (n < senders % processes) for n in range(processes)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = pool.starmap(
            _sender_process, [(url, body, headers, share, seconds) for share in shares]
        )
    total: dict[int, int] = {}
    for result in results:
        for status, n in result:
            total[status] = total.get(status, 0) + n
    return total


async def bench_webhook_duplicates(bench: Bench) -> None:
    import httpx

    senders, seconds = 20, bench.args.duration
    logger.info("==> webhook duplicates: %s concurrent senders for %s s", senders, seconds)
    payload = _event(f"evt_bench_dup_{secrets.token_hex(6)}", bench.app_intents[0])
    headers = {
        "Stripe-Signature": _sign(payload, EMULATOR_WEBHOOK_SECRET),
        "Content-Type": "application/json",
    }
    url = f"{bench.instance_url}/api/stripe/webhook"
    async with httpx.AsyncClient(timeout=60) as http:
        first = await http.post(url, content=payload, headers=headers)
        if first.status_code != 200:
            raise RuntimeError(f"the first delivery was answered {first.status_code}")
    answers = await asyncio.to_thread(_flood, url, payload, headers, senders, seconds)
    duplicates = answers.get(200, 0) / seconds
    health = await asyncio.to_thread(
        _flood, f"{bench.instance_url}/api/health", b"", {}, senders, seconds
    )
    health_rate = health.get(200, 0) / seconds
    others = {k: v for k, v in answers.items() if k != 200}
    bench.add(
        "Webhook duplicates answered per second, 20 senders (1 worker)",
        f"{duplicates:,.0f}/s (/api/health: {health_rate:,.0f}/s)"
        + (f", other answers {others}" if others else ""),
        ">= 1,000/s",
        duplicates >= 1000,
    )


@dataclass(frozen=True)
class EventMix:
    """What each simulated tab does, by event name, so load processes need not import the app."""

    sign_in: str
    search: str
    list_load: str
    open_customer: str
    customer_ids: list[int]
    words: tuple[str, ...] = ("a", "e", "an", "ma", "son", "li", "zzz", "ra", "o", "el")


def _mix_process(
    url: str, origin: str, cookie: str, mix: EventMix, tabs: int, seed: int, window: tuple
) -> tuple[int, float]:
    """Runs in a process of its own: `tabs` tabs repeat the mix, each waiting for every
    answer; returns the events answered between the window's two wall-clock times and the
    CPU seconds this process used meanwhile."""
    begin, measure_from, stop_at = window
    cpu: list[float] = []

    async def sample_cpu() -> None:
        for moment in (measure_from, stop_at):
            await asyncio.sleep(max(0.0, moment - time.time()))
            cpu.append(time.process_time())

    async def main() -> int:
        done = 0
        clients = [await AsyncReflexClient.connect(url, origin, cookie) for _ in range(tabs)]
        if time.time() > begin:
            raise RuntimeError("the tabs took too long to open; start later")
        await asyncio.sleep(begin - time.time())

        async def tab_loop(tab: AsyncReflexClient, rng: random.Random) -> None:
            nonlocal done
            while time.time() < stop_at:
                customer_id = rng.choice(mix.customer_ids)
                path, params = f"/customers/{customer_id}", {"customer_id": str(customer_id)}
                word = rng.choice(mix.words)
                for step in (
                    lambda: tab.call_event(mix.sign_in, {}, "/login"),
                    # The search box's event answers with the list's URL; the browser then
                    # opens it, and the list's load runs the search.
                    lambda w=word: tab.call_event(mix.search, {"value": w}, "/customers"),
                    lambda w=word: tab.call_event(mix.list_load, {}, f"/customers?q={w}"),
                    lambda p=path, q=params: tab.call_event(mix.open_customer, {}, p, q),
                ):
                    await step()
                    if measure_from <= time.time() < stop_at:
                        done += 1

        try:
            await asyncio.gather(
                sample_cpu(),
                *(tab_loop(tab, random.Random(seed * 1000 + n)) for n, tab in enumerate(clients)),
            )
        finally:
            await asyncio.gather(*(tab.disconnect() for tab in clients), return_exceptions=True)
        return done

    done = asyncio.run(main())
    return done, cpu[1] - cpu[0]


def _cpu_by_name(names: tuple[str, ...]) -> float:
    """CPU seconds of every process whose command name is one of `names` (e.g. Redis, which
    is not the bench's descendant)."""
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sum(cpu for name, cpu in map(_process_cpu, pids) if name in names)


def _machine_seconds() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy (all cores), and of those in the kernel
    (system, interrupts), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]
    )
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks, (system + irq + softirq) / ticks


def _backends(server: str, database_name: str) -> list[int]:
    """The PostgreSQL backends connected to `database_name` (not the other databases' work
    on a shared server)."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database_name,)
        ).fetchall()
    return [pid for (pid,) in rows]


BACKEND = "PostgreSQL backend"


def _cpu_sample(bench: Bench) -> dict[str, float]:
    server = bench.args.postgres.rstrip("/")
    database_name = make_url(bench.cluster.database_url).database
    machine, kernel = _machine_seconds()
    # Each process of the instance (its supervisor, its workers), then all of them.
    processes = {
        f"instance process {pid}": _process_cpu(pid)[1] for pid in _process_tree(bench.instance_pid)
    }
    return {
        **processes,
        "instance": sum(processes.values()),
        # Per backend: one that connected during the window counts whole (see `cores`).
        **{f"{BACKEND} {pid}": _process_cpu(pid)[1] for pid in _backends(server, database_name)},
        "transactions": _transactions(server, database_name),
        "Redis": _cpu_by_name(("redis-server",)),
        "machine": machine,
        "machine, in the kernel": kernel,
    }


async def _throughput(bench: Bench, cookie: str) -> tuple[float, dict[str, float]]:
    """Events answered per second to `--clients` tabs, spread over `--load-processes`
    processes so the simulated browsers' own CPU is not what limits the rate, and the cores
    each part used meanwhile."""
    from mioapp.ui.pages.customer.state import CustomerState
    from mioapp.ui.pages.customers.state import CustomerListState
    from mioapp.ui.pages.login.state import LoginState

    mix = EventMix(
        sign_in=f"{LoginState.get_full_name()}.load",
        search=f"{CustomerListState.get_full_name()}.search",
        list_load=f"{CustomerListState.get_full_name()}.load",
        open_customer=f"{CustomerState.get_full_name()}.load_customer",
        customer_ids=await _customer_ids(),
    )
    clients, processes = bench.args.clients, bench.args.load_processes
    seconds, warm = bench.args.duration, 3.0
    begin = time.time() + 20 + clients * 0.2
    window = (begin, begin + warm, begin + warm + seconds)
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    context = multiprocessing.get_context("spawn")

    async def cores() -> dict[str, float]:
        """Cores each part used during the measured window."""
        await asyncio.sleep(max(0.0, window[1] - time.time()))
        before = _cpu_sample(bench)
        await asyncio.sleep(max(0.0, window[2] - time.time()))
        after = _cpu_sample(bench)
        used = {part: (after[part] - before[part]) / seconds for part in before if part in after}
        # A backend that closed during the window is not seen at its end: its work is left
        # out, so this figure is a floor.
        used[f"{BACKEND}s of this database"] = sum(
            (cpu - before.get(part, 0.0)) / seconds
            for part, cpu in after.items()
            if part.startswith(f"{BACKEND} ")
        )
        # Only the instance's processes that did work: its workers (and supervisor).
        return {
            part: cores
            for part, cores in used.items()
            if not part.startswith(f"{BACKEND} ")
            and (not part.startswith("instance process") or cores >= 0.05)
        }

    with context.Pool(processes) as pool:
        sampler = asyncio.ensure_future(cores())
        results = await asyncio.to_thread(
            pool.starmap,
            _mix_process,
            [
                (bench.instance_url, bench.cluster.base_url, cookie, mix, share, n, window)
                for n, share in enumerate(shares)
            ],
        )
        used = await sampler
    used["load generator"] = sum(cpu for _done, cpu in results) / seconds
    return sum(done for done, _cpu in results) / seconds, used


async def bench_throughput(bench: Bench, cookie: str) -> None:
    logger.info("==> dashboard event mix, %s clients, 1 worker", bench.args.clients)
    one, one_cores = await _throughput(bench, cookie)
    logger.info("    %.0f events/s; restarting the instance with 2 workers", one)
    await asyncio.to_thread(bench.cluster.restart_instances, 2)
    logger.info("==> dashboard event mix, %s clients, 2 workers", bench.args.clients)
    two, two_cores = await _throughput(bench, cookie)
    bench.add(
        f"Dashboard event mix, {bench.args.clients} clients: 2 workers / 1 worker",
        f"{two:,.0f} / {one:,.0f} events/s = {two / one:.2f}x",
        ">= 1.6x",
        two / one >= 1.6,
    )
    transactions = (two_cores.pop("transactions") / two, one_cores.pop("transactions") / one)
    bench.add(
        "  PostgreSQL transactions per event, 2 workers / 1 worker",
        f"{transactions[0]:.1f} / {transactions[1]:.1f}",
        "",
    )
    for part in {**one_cores, **two_cores}:
        if part not in one_cores or part not in two_cores:
            cores = two_cores.get(part, one_cores.get(part))
            workers = "2 workers" if part in two_cores else "1 worker"
            bench.add(f"  {part} ({workers}): cores used", f"{cores:.2f}", "")
            continue
        bench.add(
            f"  {part}: cores used, 2 workers / 1 worker (CPU ms per event)",
            f"{two_cores[part]:.2f} / {one_cores[part]:.2f}"
            f" ({two_cores[part] / two * 1000:.2f} / {one_cores[part] / one * 1000:.2f} ms)",
            "",
        )


async def run_all(bench: Bench) -> None:
    cookie = await _merchant_cookie()
    await bench_charge(bench)
    await bench_fresh_webhooks(bench)
    await bench_head_of_line(bench, cookie)
    await bench_idle_pages(bench, cookie)
    await bench_webhook_duplicates(bench)
    await bench_throughput(bench, cookie)


async def run_throughput(bench: Bench) -> None:
    await bench_throughput(bench, await _merchant_cookie())


def print_table(bench: Bench) -> None:
    width = max(len(r.name) for r in bench.rows)
    fig = max(len(r.figure) for r in bench.rows)
    print()
    print(f"{'Measure':<{width}}  {'Figure':<{fig}}  {'Goal':<10}  Met")
    print("-" * (width + fig + 20))
    for row in bench.rows:
        met = "" if row.met is None else ("yes" if row.met else "NO")
        print(f"{row.name:<{width}}  {row.figure:<{fig}}  {row.goal:<10}  {met}")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _only_charge(bench: Bench) -> None:
    """The charge comparison alone: the emulator and a migrated scratch database, no app
    instance, no balancer, no consumer (the measure runs in this process)."""
    from devtools.stack import prepare_database
    from devtools.stripe_emulator.launcher import start_emulator

    cluster = bench.cluster
    cluster.logs.mkdir(parents=True, exist_ok=True)
    try:
        cluster.emulator = start_emulator(
            port=free_port(),
            secret_key=EMULATOR_SECRET_KEY,
            publishable_key=EMULATOR_PUBLISHABLE_KEY,
            # Posted to nobody (webhooks are paused while charging); the pair goes together.
            webhook_url=f"{cluster.base_url}/api/stripe/webhook",
            webhook_secret=EMULATOR_WEBHOOK_SECRET,
            log_path=str(cluster.logs / "stripe-emulator.log"),
        )
        env = cluster.app_env()
        prepare_database(env, ["--customers", "5", "--bookings", "5"], cluster.emulator)
        for name in ("DATABASE_URL", "REDIS_URL", "JOB_QUEUE", "DATA_DIR", "APP_BASE_URL"):
            os.environ[name] = env[name]
        os.environ["STRIPE_API_BASE"] = cluster.emulator.base_url
        from mioapp.settings import get_settings

        get_settings.cache_clear()
        asyncio.run(bench_charge(bench))
    finally:
        if cluster.emulator is not None:
            cluster.emulator.stop()
        from huey import RedisExpireHuey

        RedisExpireHuey(cluster.job_queue, url=bench.args.redis_url).flush()
        drop_postgres_database(cluster.database_url)
    print_table(bench)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--load-processes", type=int, default=4, help="processes simulating the clients"
    )
    parser.add_argument("--idle-pages", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--duration", type=float, default=20, help="seconds of each load run")
    parser.add_argument("--charges", type=int, default=40, help="charges of each kind")
    parser.add_argument("--fresh-events", type=int, default=150)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--only",
        choices=["charge", "throughput"],
        help="run one measure: `charge` needs only the emulator and a scratch database;"
        " `throughput` starts the cluster for the event mix alone",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for noisy in ("mioapp", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    suffix = secrets.token_hex(4)
    database_url = f"{args.postgres.rstrip('/')}/mio_bench_{suffix}"
    ensure_postgres_database(database_url)
    cluster = Cluster(
        port=free_port(),
        data_dir=Path(tempfile.mkdtemp(prefix="bench-scale-")),
        database_url=database_url,
        redis_url=args.redis_url,
        job_queue=f"mio-bench-{suffix}",
        instances=1,
        web_workers=1,
        # No consumer: the idle-page figure counts the app's statements only.
        consumer_count=0,
        seed_args=["--customers", "100", "--bookings", "300"],
    )
    bench = Bench(cluster=cluster, args=args)
    if args.only == "charge":
        _only_charge(bench)
        return
    try:
        with cluster.running():
            # This process runs the app's payments code on the cluster's database and queue.
            env = cluster.app_env()
            for name in ("DATABASE_URL", "REDIS_URL", "JOB_QUEUE", "DATA_DIR", "APP_BASE_URL"):
                os.environ[name] = env[name]
            os.environ["STRIPE_API_BASE"] = cluster.emulator.base_url
            from mioapp.settings import get_settings

            get_settings.cache_clear()
            asyncio.run(run_throughput(bench) if args.only else run_all(bench))
    finally:
        from huey import RedisExpireHuey

        RedisExpireHuey(cluster.job_queue, url=args.redis_url).flush()
        drop_postgres_database(database_url)
    print_table(bench)


if __name__ == "__main__":
    main()
