"""The Payments page's rows: payments and refunds across customers, newest first, filtered,
searched and paged by keyset; and the CSV export of exactly those rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.routing import Route

from mioapp.auth import hash_token
from mioapp.billing.transactions import (
    Cursor,
    SearchKind,
    StatusFilter,
    TransactionFilter,
    TransactionKind,
    classify_search,
    iter_transactions,
    transaction_page,
)
from mioapp.billing.transactions import search as transaction_search
from mioapp.billing.transactions_csv import HEADER, row_cells, safe_cell
from mioapp.business import BusinessProfile
from mioapp.db import Database
from mioapp.models import (
    LoginSession,
    MerchantUser,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    RefundStatus,
    utcnow,
)
from mioapp.web.exports import payments_export_endpoint
from mioapp.web.sign_in import COOKIE
from tests.conftest import run_coroutine
from tests.unit.factories import make_booking, make_customer, make_payment, make_refund

ZONE = "America/New_York"
PROFILE = BusinessProfile(
    name="Lagoon Tours",
    email="hello@lagoon.test",
    phone="",
    reply_to="",
    time_zone=ZONE,
    locale="en_US",
)
T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _keys(rows) -> list[tuple[str, int]]:
    return [(t.kind.value, t.id) for t in rows]


def _page(session: Session, f: TransactionFilter | None = None, **kwargs):
    return transaction_page(session, f or TransactionFilter(), time_zone=ZONE, **kwargs)


def _pay(session, customer, booking, *, at, amount=5_000, status=PaymentStatus.SUCCEEDED,
         method=PaymentMethodKind.CARD_ON_FILE, intent=None) -> Payment:  # fmt: skip
    payment = make_payment(session, customer, [(booking, amount)], status=status, created_at=at)
    payment.method_kind = method
    payment.stripe_payment_intent_id = intent
    session.flush()
    return payment


def _refund(session, payment, booking, *, at, amount=1_000, status=RefundStatus.SUCCEEDED):
    refund = make_refund(session, payment, [(booking, amount)], status=status)
    refund.created_at = at
    session.flush()
    return refund


@pytest.fixture
def ledger(session: Session) -> dict:
    """Two customers, five payments and two refunds at known times, one pair at one instant."""
    ana = make_customer(session, name="Ana Lima", email="ana@lagoon.test", phone="+1 555 0101")
    ben = make_customer(session, name="Ben Okafor", email="ben@reef.test")
    ana_booking = make_booking(session, ana, total=50_000)
    ben_booking = make_booking(session, ben, total=50_000)
    p1 = _pay(session, ana, ana_booking, at=T0, intent="pi_one")
    p2 = _pay(session, ben, ben_booking, at=T0 + timedelta(hours=1), status=PaymentStatus.FAILED,
              method=PaymentMethodKind.NEW_CARD, intent="pi_two")  # fmt: skip
    p3 = _pay(session, ana, ana_booking, at=T0 + timedelta(hours=2),
              method=PaymentMethodKind.PAYMENT_LINK, intent="pi_three")  # fmt: skip
    p4 = _pay(session, ben, ben_booking, at=T0 + timedelta(hours=3), status=PaymentStatus.CREATED)
    # A refund written at the very instant of a payment: the key's kind decides the order.
    r1 = _refund(session, p3, ana_booking, at=T0 + timedelta(hours=3))
    r1.stripe_refund_id = "re_first"
    r2 = _refund(session, p1, ana_booking, at=T0 + timedelta(days=1), status=RefundStatus.PENDING)
    p5 = _pay(session, ben, ben_booking, at=T0 + timedelta(days=2), status=PaymentStatus.CANCELED)
    session.commit()
    return {
        "ana": ana, "ben": ben, "ana_booking": ana_booking, "ben_booking": ben_booking,
        "p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5, "r1": r1, "r2": r2,
    }  # fmt: skip


def _order(ledger: dict) -> list[tuple[str, int]]:
    """Newest first; at one instant the refund comes before the payment."""
    return [
        ("payment", ledger["p5"].id),
        ("refund", ledger["r2"].id),
        ("refund", ledger["r1"].id),
        ("payment", ledger["p4"].id),
        ("payment", ledger["p3"].id),
        ("payment", ledger["p2"].id),
        ("payment", ledger["p1"].id),
    ]


def test_payments_and_refunds_of_every_customer_newest_first(session, ledger) -> None:
    page = _page(session)
    assert _keys(page.rows) == _order(ledger)
    assert page.newer is None and page.older is None
    refund = page.rows[2]
    assert refund.refund.id == ledger["r1"].id and refund.payment.id == ledger["p3"].id
    assert (refund.amount, refund.customer_name, refund.bookings) == (
        1_000,
        "Ana Lima",
        [ledger["ana_booking"].reference],
    )
    p3 = page.rows[4]
    assert (p3.amount, p3.refunded, p3.customer_email) == (5_000, 1_000, "ana@lagoon.test")


def test_keyset_pages_walk_every_row_once_both_ways(session, ledger) -> None:
    everything = _order(ledger)
    for size in (1, 2, 3, 7):
        seen, after, pages = [], None, []
        while True:
            page = _page(session, after=after, page_size=size)
            pages.append(page)
            seen += _keys(page.rows)
            assert 0 < len(page.rows) <= size
            if page.older is None:
                break
            after = page.older
        assert seen == everything, size
        assert pages[0].newer is None
        # Back from the last page to the first with the `before` cursors.
        back, page = [], pages[-1]
        while page.newer is not None:
            page = _page(session, before=page.newer, page_size=size)
            back.insert(0, _keys(page.rows))
        assert [k for keys in back for k in keys] + _keys(pages[-1].rows) == everything
        assert back == [_keys(p.rows) for p in pages[:-1]]


def test_a_full_last_page_has_no_older_cursor(session, ledger) -> None:
    first = _page(session, page_size=4)
    second = _page(session, after=first.older, page_size=4)
    assert len(second.rows) == 3 and second.older is None
    exact = _page(session, page_size=7)
    assert exact.older is None
    # A cursor between the refund and the payment at one instant.
    tie = Cursor(at=T0 + timedelta(hours=3), kind=TransactionKind.REFUND, id=ledger["r1"].id)
    assert _keys(_page(session, after=tie).rows) == _order(ledger)[3:]
    assert _keys(_page(session, before=tie).rows) == _order(ledger)[:2]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StatusFilter.SUCCEEDED, ["r1", "p3", "p1"]),
        (StatusFilter.PENDING, ["r2", "p4"]),
        (StatusFilter.FAILED, ["p2"]),
        (StatusFilter.CANCELED, ["p5"]),
    ],
)
def test_status_filter_covers_payments_and_refunds(session, ledger, status, expected) -> None:
    rows = _page(session, TransactionFilter(status=status)).rows
    assert _keys(rows) == [(ledger[n].__tablename__, ledger[n].id) for n in expected]


def test_method_type_and_dates_filter(session, ledger) -> None:
    link = _page(session, TransactionFilter(method=PaymentMethodKind.PAYMENT_LINK)).rows
    # The refund of a link payment is listed with its payment's method.
    assert _keys(link) == [("refund", ledger["r1"].id), ("payment", ledger["p3"].id)]
    refunds = _page(session, TransactionFilter(kind=TransactionKind.REFUND)).rows
    assert _keys(refunds) == [("refund", ledger["r2"].id), ("refund", ledger["r1"].id)]
    # T0 is 11:00 on March 10 in New York; the next day's refund falls on March 11 there.
    march_10 = TransactionFilter(date_from=date(2026, 3, 10), date_to=date(2026, 3, 10))
    assert _keys(_page(session, march_10).rows) == _order(ledger)[2:]
    from_11 = TransactionFilter(date_from=date(2026, 3, 11))
    assert _keys(_page(session, from_11).rows) == _order(ledger)[:2]
    combined = TransactionFilter(
        status=StatusFilter.SUCCEEDED,
        method=PaymentMethodKind.CARD_ON_FILE,
        kind=TransactionKind.PAYMENT,
        date_to=date(2026, 3, 10),
    )
    assert _keys(_page(session, combined).rows) == [("payment", ledger["p1"].id)]


def test_a_day_is_the_business_days_not_utc(session, ledger) -> None:
    ana, booking = ledger["ana"], ledger["ana_booking"]
    # 03:30 UTC on March 12 is still March 11 in New York.
    late = _pay(session, ana, booking, at=datetime(2026, 3, 12, 3, 30, tzinfo=UTC))
    session.commit()
    march_11 = TransactionFilter(date_from=date(2026, 3, 11), date_to=date(2026, 3, 11))
    assert ("payment", late.id) in _keys(_page(session, march_11).rows)
    march_12 = TransactionFilter(date_from=date(2026, 3, 12), date_to=date(2026, 3, 12))
    assert ("payment", late.id) not in _keys(_page(session, march_12).rows)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("lima", SearchKind.CUSTOMER, ["r2", "r1", "p3", "p1"]),
        ("BEN@REEF", SearchKind.CUSTOMER, ["p5", "p4", "p2"]),
        ("Ana@Lagoon.test", SearchKind.CUSTOMER, ["r2", "r1", "p3", "p1"]),
        ("5550101", SearchKind.CUSTOMER, ["r2", "r1", "p3", "p1"]),
        ("MIO-{p3:06d}", SearchKind.RECEIPT, ["r1", "p3"]),
        ("mio-{p1}", SearchKind.RECEIPT, ["r2", "p1"]),
        ("pi_two", SearchKind.PAYMENT_INTENT, ["p2"]),
        ("pi_three", SearchKind.PAYMENT_INTENT, ["r1", "p3"]),
        ("re_first", SearchKind.STRIPE_REFUND, ["r1"]),
        ("{ben_ref}", SearchKind.BOOKING, ["p5", "p4", "p2"]),
        ("{ana_ref_lower}", SearchKind.BOOKING, ["r2", "r1", "p3", "p1"]),
        ("nobody-here", SearchKind.CUSTOMER, []),
        ("pi_nothing", SearchKind.PAYMENT_INTENT, []),
        ("50%", SearchKind.CUSTOMER, []),
    ],
)
def test_search_by_each_kind(session, ledger, text, kind, expected) -> None:
    text = text.format(
        p1=ledger["p1"].id,
        p3=ledger["p3"].id,
        ben_ref=ledger["ben_booking"].reference,
        ana_ref_lower=ledger["ana_booking"].reference.lower(),
    )
    if kind != SearchKind.BOOKING:
        assert classify_search(text).kind == kind
    rows = _page(session, TransactionFilter(search=text)).rows
    assert _keys(rows) == [(ledger[n].__tablename__, ledger[n].id) for n in expected]


@pytest.mark.parametrize("text", ["lima", "BEN@REEF", "5550101", "a"])
def test_a_search_matching_many_customers_gives_the_same_rows(
    session, ledger, monkeypatch, text
) -> None:
    f = TransactionFilter(search=text)
    listed = [_keys(_page(session, f, page_size=size).rows) for size in (2, 10)]
    monkeypatch.setattr(transaction_search, "CUSTOMER_IDS_LISTED", 0)
    assert [_keys(_page(session, f, page_size=size).rows) for size in (2, 10)] == listed
    assert listed[1]


@pytest.mark.parametrize("text", ["lima", "Ana@Lagoon", "5550101"])
def test_a_customer_search_finds_its_customers_through_the_search_index(
    session, ledger, text
) -> None:
    """The customers are looked up in customer search's substring index, not read one by one:
    on SQLite an entry taken out of the FTS table is not found; on PostgreSQL the look-up's
    plan reads the trigram index."""
    ana = ledger["ana"]
    bind = session.get_bind()
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    sa.event.listen(bind, "before_cursor_execute", record)
    try:
        found = transaction_search.resolve_search(session, text)
    finally:
        sa.event.remove(bind, "before_cursor_execute", record)
    assert found.customer_ids == (ana.id,)
    if bind.dialect.name == "sqlite":
        session.execute(
            sa.text(
                "INSERT INTO customer_fts(customer_fts, rowid, search_text) "
                "VALUES ('delete', :id, :text)"
            ),
            {"id": ana.id, "text": ana.search_text},
        )
        assert transaction_search.resolve_search(session, text).customer_ids == ()
        return
    lookups = [(s, p) for s, p in statements if "LIKE" in s and "FROM customer" in s]
    assert lookups
    # A table this small is cheaper to read whole: plan as on a large one, where only the
    # trigram index can find a substring (the name-order index is left out of the choice).
    nested = session.begin_nested()
    session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    session.execute(sa.text("DROP INDEX ix_customer_name_order"))
    for statement, parameters in lookups:
        plan = session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        assert "ix_customer_search_trgm" in " ".join(row[0] for row in plan)
    nested.rollback()


def test_filter_round_trips_through_the_url_and_ignores_nonsense() -> None:
    f = TransactionFilter(
        status=StatusFilter.FAILED,
        method=PaymentMethodKind.NEW_CARD,
        kind=TransactionKind.PAYMENT,
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        search="Ana",
    )
    assert TransactionFilter.from_params(f.to_params()) == f
    assert TransactionFilter().to_params() == {}
    junk = {"status": "paid", "method": "cash", "type": "x", "from": "2026-13-01", "to": "soon"}
    assert TransactionFilter.from_params(junk) == TransactionFilter()
    assert len(TransactionFilter.from_params({"q": "a" * 500}).search) == 100


def test_cursor_round_trips_and_refuses_anything_else() -> None:
    cursor = Cursor(at=T0 + timedelta(microseconds=7), kind=TransactionKind.REFUND, id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    stamp = "20260310T150000.000000"
    for junk in ("", "x", f"{stamp}~payment~", "20260310~payment~1", f"{stamp}~charge~1",
                 f"{stamp}~payment~-1"):  # fmt: skip
        assert Cursor.decode(junk) is None


def test_export_batches_are_every_filtered_row_in_order(session, ledger) -> None:
    batches = list(iter_transactions(session, TransactionFilter(), time_zone=ZONE, batch=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [k for b in batches for k in _keys(b)] == _order(ledger)


def test_csv_cells_major_units_business_time_and_no_formulas(session, ledger) -> None:
    rows = {(t.kind.value, t.id): t for t in _page(session).rows}
    p3 = row_cells(rows[("payment", ledger["p3"].id)], PROFILE)
    assert dict(zip(HEADER, p3, strict=True)) == {
        "Date": "2026-03-10 13:00:00",  # 17:00 UTC, in New York (EDT from March 8)
        "Time zone": ZONE,
        "Type": "payment",
        "Status": "partially_refunded",
        "Amount": "50.00",
        "Currency": "USD",
        "Customer": "Ana Lima",
        "Customer email": "ana@lagoon.test",
        "Method": "Payment link",
        "Receipt number": f"MIO-{ledger['p3'].id:06d}",
        "Bookings": ledger["ana_booking"].reference,
        "Stripe ID": "pi_three",
        "Description": "",
    }
    r1 = row_cells(rows[("refund", ledger["r1"].id)], PROFILE)
    assert (r1[2], r1[3], r1[4], r1[11]) == ("refund", "succeeded", "-10.00", "re_first")
    assert [safe_cell(v) for v in ("=SUM(A1)", "+1", "-x", "@cmd", "\tx", "-12.50", "Ana")] == [
        "'=SUM(A1)", "'+1", "'-x", "'@cmd", "'\tx", "-12.50", "Ana",
    ]  # fmt: skip


def test_zero_decimal_currency_in_major_units(session) -> None:
    customer = make_customer(session, name='=HYPERLINK("http://evil.test")')
    booking = make_booking(session, customer, currency="jpy", total=9_000)
    _pay(session, customer, booking, at=T0, amount=5_000)
    session.commit()
    (row,) = _page(session).rows
    cells = dict(zip(HEADER, row_cells(row, PROFILE), strict=True))
    assert (cells["Amount"], cells["Currency"]) == ("5000", "JPY")
    assert cells["Customer"] == '\'=HYPERLINK("http://evil.test")'


# The HTTP export: signed-in merchants only, streamed, exactly the filtered rows.


def _export_app(engine: sa.Engine) -> Starlette:
    endpoint = payments_export_endpoint(Database(engine), batch=2)
    return Starlette(routes=[Route("/export.csv", endpoint)])


def _get(app: Starlette, path: str, cookie: str | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path, headers=headers)

    return run_coroutine(send())


def _signed_in(session: Session, *, expired: bool = False) -> str:
    user = MerchantUser(email="maya@lagoon.test", name="Maya", password_hash="x")
    session.add(user)
    session.flush()
    token = f"token-{user.id}"
    expires = utcnow() + (timedelta(days=-1) if expired else timedelta(days=1))
    session.add(LoginSession(user_id=user.id, token_hash=hash_token(token), expires_at=expires))
    session.commit()
    return token


def test_export_refuses_without_a_valid_session(session, engine, ledger) -> None:
    app = _export_app(engine)
    assert _get(app, "/export.csv").status_code == 401
    assert _get(app, "/export.csv", cookie="forged").status_code == 401
    expired = _signed_in(session, expired=True)
    response = _get(app, "/export.csv", cookie=expired)
    assert response.status_code == 401
    assert "Ana Lima" not in response.text


def test_export_streams_exactly_the_filtered_rows(session, engine, ledger) -> None:
    token = _signed_in(session)
    app = _export_app(engine)
    response = _get(app, "/export.csv?status=succeeded&q=lima", cookie=token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    lines = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert lines[0] == HEADER
    expected = _page(session, TransactionFilter(status=StatusFilter.SUCCEEDED, search="lima")).rows
    assert [(line[2], line[10 - 1]) for line in lines[1:]] == [
        (t.kind.value, f"MIO-{t.payment.id:06d}") for t in expected
    ]
    assert len(lines) == 1 + 3
    everything = _get(app, "/export.csv", cookie=token)
    assert len(list(csv.reader(io.StringIO(everything.text)))) == 1 + len(_order(ledger))
