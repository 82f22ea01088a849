"""Customer search through its index, short queries, keyset pages and the list's sort keys
(kept by the commit that changes a customer's money), on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta
from itertools import chain

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mioapp.customers import summary
from mioapp.customers.search import CustomerSort, index, limits, search_customers
from mioapp.keyset import one_of
from mioapp.models import Customer, PaymentStatus, RefundStatus, utcnow
from tests.unit.factories import make_booking, make_customer, make_payment, make_refund


def _names(session: Session, query: str = "", **kwargs) -> list[str]:
    return [row.name for row in search_customers(session, query=query, **kwargs).rows]


def _index_matches(session: Session, text: str) -> set[int]:
    """Customer ids the search index itself finds for `text` (3+ characters)."""
    if session.get_bind().dialect.name == "sqlite":
        sql = "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q"
        params = {"q": f'"{text}"'}
    else:
        # Forbid the sequential scan: the answer must come from the trigram index.
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        sql = "SELECT id FROM customer WHERE search_text LIKE :q"
        params = {"q": f"%{text}%"}
    return set(session.execute(sa.text(sql), params).scalars())


def test_the_search_index_follows_inserts_updates_and_deletes(session: Session) -> None:
    ana = make_customer(session, name="Ana Lima", email="ana@example.test")
    bruno = make_customer(session, name="Bruno Costa", phone="+1 (808) 555-0199")
    session.commit()
    assert _index_matches(session, "lima") == {ana.id}
    assert _index_matches(session, "8085550199") == {bruno.id}, "phone digits are indexed"

    ana.name = "Ana Souza"
    session.add(ana)
    session.commit()
    assert _index_matches(session, "lima") == set()
    assert _index_matches(session, "souza") == {ana.id}
    assert _names(session, "souza") == ["Ana Souza"]

    session.delete(bruno)
    session.commit()
    assert _index_matches(session, "costa") == set()
    assert _names(session, "costa") == []


def test_search_is_case_insensitive_on_name_email_and_phone_digits(session: Session) -> None:
    make_customer(session, name="Ana Lima", email="Ana.Lima@Example.test", phone="+1 808-555-0101")
    make_customer(session, name="Bruno Costa", email="bruno@mail.test", phone="+1 808-555-0202")
    session.commit()
    assert _names(session, "LIMA") == ["Ana Lima"]
    assert _names(session, "ana.lima@example") == ["Ana Lima"]
    assert _names(session, "5550202") == ["Bruno Costa"]
    assert _names(session, "808") == ["Ana Lima", "Bruno Costa"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        pytest.param("a", ["Ana Lima", "anne Ray"], id="one-letter-any-case"),
        pytest.param("AN", ["Ana Lima", "anne Ray"], id="two-letters"),
        pytest.param("li", [], id="not-the-start-of-a-name"),
        pytest.param("ra", [], id="surname-start-is-not-a-name-start"),
        pytest.param("b", ["Bea Souza"], id="other-letter"),
    ],
)
def test_queries_under_three_characters_match_the_start_of_names(
    session: Session, query: str, names: list[str]
) -> None:
    for name in ("Ana Lima", "anne Ray", "Bea Souza", "Olivia Ramos"):
        make_customer(session, name=name, email="x@mail.test")
    session.commit()
    assert _names(session, query) == names


@pytest.mark.parametrize(
    ("walk_share", "bounds"),
    [(None, None), (math.inf, None), (math.inf, 2)],
    ids=["as-deployed", "walked", "bounds-exceeded"],
)
@pytest.mark.parametrize("query", ["lima", "ana", "a", "mail.test", "an"])
def test_a_common_match_walks_the_list_order_and_finds_the_same_rows(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    walk_share: float | None,
    bounds: int | None,
) -> None:
    """Past CANDIDATE_LIMIT matches the list is walked in order and checked row by row (in
    name order, names starting with the query are read as a range and merged with the
    other matches; on SQLite, in the other orders, up to MATCH_SET_LIMIT matches are looked
    up in the set of their ids; on PostgreSQL the walk is first tried over a bounded number
    of rows, in other orders when the candidate read found its matches close enough together
    to fill a page within WALK_SHARE of those rows): the rows, their order and the pages are
    those the index path gives, whether or not those bounds are exceeded."""

    def walking() -> None:
        monkeypatch.setattr(limits, "CANDIDATE_LIMIT", 3)
        if walk_share is not None:
            monkeypatch.setattr(limits, "WALK_SHARE", walk_share)
        if bounds is not None:
            for name in ("MATCH_SET_LIMIT", "START_WALK_ROWS", "WALK_ROWS"):
                monkeypatch.setattr(limits, name, bounds)

    for n in range(12):
        make_customer(session, name=f"Ana Lima {n:02d}", email=f"a{n}@mail.test")
    make_customer(session, name="Zed", email="z@other.test")
    # Matches of "ana" elsewhere than the start, before and after the Anas in name order.
    make_customer(session, name="Aaron Banana", email="ab@mail.test")
    make_customer(session, name="Bo Anand", email="bo@mail.test")
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # The table's pages and rows, which `_spacing` measures the candidate read against.
        session.execute(sa.text("ANALYZE customer"))
    for sort in CustomerSort:
        expected = search_customers(session, query=query, sort=sort, page_size=5)
        walking()
        walked = search_customers(session, query=query, sort=sort, page_size=5)
        monkeypatch.undo()
        assert [r.id for r in walked.rows] == [r.id for r in expected.rows], sort
        assert walked.has_next == expected.has_next
        assert (walked.total, walked.more) == (3, True), "more matches than the index read"
        after = search_customers(
            session, query=query, sort=sort, page_size=5, after=expected.rows[-1].id
        )
        walking()
        walked_after = search_customers(
            session, query=query, sort=sort, page_size=5, after=expected.rows[-1].id
        )
        monkeypatch.undo()
        assert [r.id for r in walked_after.rows] == [r.id for r in after.rows], sort
        before = search_customers(
            session, query=query, sort=sort, page_size=5, before=after.rows[0].id
        )
        walking()
        walked_before = search_customers(
            session, query=query, sort=sort, page_size=5, before=after.rows[0].id
        )
        monkeypatch.undo()
        assert [r.id for r in walked_before.rows] == [r.id for r in before.rows], sort
        assert walked_before.has_previous == before.has_previous
        # A page before a row with more than a page before it.
        cursor = after.rows[-1].id
        inner = search_customers(session, query=query, sort=sort, page_size=5, before=cursor)
        walking()
        walked_inner = search_customers(session, query=query, sort=sort, page_size=5, before=cursor)
        monkeypatch.undo()
        assert [r.id for r in walked_inner.rows] == [r.id for r in inner.rows], sort
        assert (walked_inner.has_previous, walked_inner.has_next) == (
            inner.has_previous,
            inner.has_next,
        )


def test_matches_other_than_at_the_start_are_found_wherever_they_sit(session: Session) -> None:
    """`_not_at_start` (read from its own index on PostgreSQL, which leaves out a customer's
    leading word where it recurs): exactly the customers holding the term elsewhere than at
    the start, whether inside the leading word, in a repeat of it, across words or in
    another word; none who only start with it."""
    people = [
        ("Michael Smith", "michael.smith@mail.test"),  # starts with it: left out
        ("Michael Michaelson", "mm@mail.test"),  # starts with it: left out
        ("Michaela Ray", "ray@mail.test"),  # starts with it: left out
        ("Jamichael Lee", "lee@mail.test"),  # inside the leading word
        ("Ann Michaels", "ann@mail.test"),  # another word
        ("Bob Stone", "bob.michael@mail.test"),  # the email
        ("Michaelmichael Roe", "roe@mail.test"),  # starts with it (and holds it again)
        ("Rachael Michaelmichael", "rm@mail.test"),  # twice in another word
        ("Dora Lee", "dora@michael.test"),  # another word of the email
        ("Émichael Ng", "ng@mail.test"),  # after a character the words are split by
        ("Zoe Park", "zoe@mail.test"),  # no match
    ]
    ids = {}
    for name, email in people:
        ids[name] = make_customer(session, name=name, email=email).id
    session.commit()
    found = index._not_at_start(session, "michael")
    expected = [
        "Jamichael Lee",
        "Ann Michaels",
        "Bob Stone",
        "Rachael Michaelmichael",
        "Dora Lee",
        "Émichael Ng",
    ]
    assert sorted(found) == sorted(ids[name] for name in expected)
    # A term the words index cannot serve (it spans two words) is read through the other one.
    assert index._not_at_start(session, "el smith") == [ids["Michael Smith"]]
    across = sorted(index._not_at_start(session, "ael mich"))
    assert across == sorted([ids["Michael Michaelson"], ids["Rachael Michaelmichael"]])


def _walk(session: Session, sort: CustomerSort, size: int, **kwargs) -> list[list[str]]:
    pages, page = [], search_customers(session, sort=sort, page_size=size, **kwargs)
    pages.append([r.name for r in page.rows])
    while page.has_next:
        page = search_customers(
            session, sort=sort, page_size=size, after=page.rows[-1].id, **kwargs
        )
        pages.append([r.name for r in page.rows])
    return pages


def test_keyset_pages_in_name_order_meet_at_their_boundaries(session: Session) -> None:
    for name in ("Gil", "bea", "Eva", "Ana", "Fay", "Dan", "Cai"):
        make_customer(session, name=name)
    session.commit()

    assert _walk(session, CustomerSort.NAME, 3) == [
        ["Ana", "bea", "Cai"],
        ["Dan", "Eva", "Fay"],
        ["Gil"],
    ]
    first = search_customers(session, page_size=3)
    assert (first.has_previous, first.has_next, first.total, first.more) == (False, True, 7, False)
    second = search_customers(session, page_size=3, after=first.rows[-1].id)
    assert (second.has_previous, second.has_next) == (True, True)
    back = search_customers(session, page_size=3, before=second.rows[0].id)
    assert [r.name for r in back.rows] == ["Ana", "bea", "Cai"]
    assert (back.has_previous, back.has_next) == (False, True)
    middle = search_customers(session, page_size=2, before=second.rows[-1].id)
    assert [r.name for r in middle.rows] == ["Dan", "Eva"]
    assert middle.has_previous


def test_a_cursor_naming_no_customer_gives_the_first_page(session: Session) -> None:
    for name in ("Ana", "Bea"):
        make_customer(session, name=name)
    session.commit()
    assert _names(session, after=999_999) == ["Ana", "Bea"]
    assert _names(session, before=999_999) == ["Ana", "Bea"]


def test_ties_in_a_sort_key_are_paged_by_id(session: Session) -> None:
    customers = [make_customer(session, name=f"Twin {n}") for n in range(5)]
    for customer in customers:
        make_booking(session, customer, total=5_000)
    session.commit()
    pages = _walk(session, CustomerSort.OUTSTANDING, 2)
    assert list(chain(*pages)) == [c.name for c in reversed(customers)]


def test_sort_by_outstanding_follows_payments_and_refunds(session: Session) -> None:
    ana, bea, cai = (make_customer(session, name=n) for n in ("Ana", "Bea", "Cai"))
    ana_booking = make_booking(session, ana, total=30_000)
    make_booking(session, bea, total=20_000)
    make_booking(session, cai, total=10_000)
    session.commit()
    assert _names(session, sort=CustomerSort.OUTSTANDING) == ["Ana", "Bea", "Cai"]

    payment = make_payment(session, ana, [(ana_booking, 25_000)])
    session.commit()
    assert _names(session, sort=CustomerSort.OUTSTANDING) == ["Bea", "Cai", "Ana"]

    make_refund(session, payment, [(ana_booking, 20_000)])
    session.commit()
    assert _names(session, sort=CustomerSort.OUTSTANDING) == ["Ana", "Bea", "Cai"]

    make_payment(session, bea, [(ana_booking, 5_000)], status=PaymentStatus.FAILED)
    make_refund(session, payment, [(ana_booking, 5_000)], status=RefundStatus.FAILED)
    session.commit()
    keys = dict(session.execute(sa.select(Customer.name, Customer.outstanding_total)).all())
    assert keys == {"Ana": 25_000, "Bea": 20_000, "Cai": 10_000}


def test_sort_by_last_activity_puts_the_latest_first(session: Session) -> None:
    now = utcnow()
    old, quiet, booked, paid = (
        make_customer(session, name=n) for n in ("Old", "Quiet", "Booked", "Paid")
    )
    for customer, days in ((old, 400), (quiet, 300), (booked, 200), (paid, 100)):
        customer.created_at = now - timedelta(days=days)
        session.add(customer)
    session.flush()
    summary.refresh(session.connection())
    booking = make_booking(session, booked, total=1_000)
    booking.created_at = now - timedelta(days=5)
    session.add(booking)
    paid_booking = make_booking(session, paid, total=1_000)
    paid_booking.created_at = now - timedelta(days=50)
    session.add(paid_booking)
    make_payment(session, paid, [(paid_booking, 1_000)], created_at=now - timedelta(days=1))
    session.commit()

    assert _names(session, sort=CustomerSort.ACTIVITY) == ["Paid", "Booked", "Quiet", "Old"]
    row = search_customers(session, sort=CustomerSort.ACTIVITY).rows[0]
    assert now - row.last_activity_at < timedelta(days=1, minutes=1)


def test_search_keeps_the_chosen_order(session: Session) -> None:
    for name, total in (("Lima A", 1_000), ("Lima B", 3_000), ("Lima C", 2_000), ("Zed", 9_000)):
        make_booking(session, make_customer(session, name=name), total=total)
    session.commit()
    assert _names(session, "lima", sort=CustomerSort.OUTSTANDING) == ["Lima B", "Lima C", "Lima A"]
    page = search_customers(session, query="lima", sort=CustomerSort.OUTSTANDING, page_size=2)
    rest = search_customers(
        session, query="lima", sort=CustomerSort.OUTSTANDING, page_size=2, after=page.rows[-1].id
    )
    assert [r.name for r in rest.rows] == ["Lima A"]
    assert (rest.has_next, rest.total) == (False, 3)


def test_a_balance_is_overdue_once_its_activity_date_has_passed(session: Session) -> None:
    now = utcnow()
    past_owing = make_customer(session, name="Ana")
    make_booking(session, past_owing, total=5_000, starts_at=now - timedelta(days=2))
    past_paid = make_customer(session, name="Bea")
    paid_booking = make_booking(session, past_paid, total=5_000, starts_at=now - timedelta(days=2))
    make_payment(session, past_paid, [(paid_booking, 5_000)])
    future = make_customer(session, name="Cai")
    make_booking(session, future, total=5_000, starts_at=now + timedelta(days=2))
    session.commit()
    rows = {row.name: row for row in search_customers(session).rows}
    assert (rows["Ana"].overdue, rows["Ana"].owes) == (True, True)
    assert (rows["Bea"].overdue, rows["Bea"].owes) == (False, False)
    assert (rows["Cai"].overdue, rows["Cai"].owes) == (False, True)


def test_counts_stop_at_the_limit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(6):
        make_customer(session, name=f"Kayak Fan {n}")
    session.commit()
    monkeypatch.setattr(limits, "COUNT_LIMIT", 4)
    page = search_customers(session, page_size=2)
    assert (page.total, page.more) == (4, True)
    monkeypatch.setattr(limits, "CANDIDATE_LIMIT", 3)
    found = search_customers(session, query="kayak", page_size=2)
    assert (found.total, found.more, len(found.rows)) == (3, True, 2)
    assert search_customers(session, query="fan 5").total == 1


def test_refresh_agrees_with_the_commit_hook(session: Session) -> None:
    ana = make_customer(session, name="Ana")
    booking = make_booking(session, ana, total=9_000)
    payment = make_payment(session, ana, [(booking, 4_000)])
    make_refund(session, payment, [(booking, 1_000)])
    session.commit()
    kept = session.execute(sa.select(Customer.outstanding_total, Customer.last_activity_at)).one()
    summary.refresh(session.connection())
    assert (
        session.execute(sa.select(Customer.outstanding_total, Customer.last_activity_at)).one()
        == kept
    )
    assert kept[0] == 6_000


@pytest.mark.parametrize("limit", [1000, 1], ids=["window-read", "window-too-common"])
def test_a_long_query_is_checked_whole(
    session: Session, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A long query is looked up by its start, then checked whole; when its start is too
    common, the whole query is looked up."""
    make_customer(session, name="Ana Lima", email="ana.lima.long@example.test")
    make_customer(session, name="Ana Lima", email="ana.lima.lo@other.test")
    make_customer(session, name="Ana Lima", email="ana.lima.longer@other.test")
    session.commit()
    monkeypatch.setattr(limits, "CANDIDATE_LIMIT", limit)
    found = search_customers(session, query="ANA.LIMA.LONG@EXAMPLE")
    assert [row.email for row in found.rows] == ["ana.lima.long@example.test"]
    assert found.total == 1


@pytest.fixture
def index_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of each search-index read (`index._index_rows`), in order."""
    read: list[str] = []
    index_rows = index._index_rows

    def counting(session_: Session, text: str, *args, **kwargs) -> list:
        read.append(text)
        return index_rows(session_, text, *args, **kwargs)

    monkeypatch.setattr(index, "_index_rows", counting)
    return read


@pytest.mark.parametrize(
    ("others", "query", "sqlite_reads"),
    [
        # Many share its start (a long first name and a dot): the end is read first.
        (["alexander.moss0", "alexander.moss1", "alexander.moss2"], "alexander.evans3", 1),
        # Many share its end: the start is read next.
        (["macharias.lee", "jacharias.lee", "racharias.lee"], "zacharias.lee", 2),
    ],
    ids=["rare-end", "rare-start"],
)
def test_a_long_query_is_looked_up_by_a_rare_part(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    index_reads: list[str],
    others: list[str],
    query: str,
    sqlite_reads: int,
) -> None:
    """A long query is looked up by a part of it that few customers hold, then checked
    whole: on SQLite an email by the end of its part before the "@", then its start; on
    PostgreSQL by the part before the "@". Every match is found, and only the one."""
    for local in others:
        make_customer(session, name=local.replace(".", " ").title(), email=f"{local}@mail.test")
    wanted = make_customer(session, name="Wanted One", email=f"{query}@mail.test")
    session.commit()
    monkeypatch.setattr(limits, "CANDIDATE_LIMIT", 2)
    found = search_customers(session, query=f"{query.upper()}@MAIL.TEST")
    assert [row.id for row in found.rows] == [wanted.id]
    assert found.total == 1
    if session.get_bind().dialect.name == "sqlite":
        windows = [query[-limits.WINDOW :], f"{query}@mail.test"[: limits.WINDOW]]
        assert index_reads == windows[:sqlite_reads]
    else:
        assert index_reads == [query]
    assert index.containing(session, f"{query}@mail.test", 5) == [wanted.id]


def test_a_long_name_is_looked_up_around_its_first_space(
    session: Session, monkeypatch: pytest.MonkeyPatch, index_reads: list[str]
) -> None:
    """SQLite: a full name is looked up by the end of its first word and the start of the
    next, where its start (a first name) and its end (a surname) are each common."""
    for name in ("Michael Roberts", "Michael Ross", "Anna Rodriguez", "Luis Rodriguez"):
        make_customer(session, name=name, email="x@mail.test")
    wanted = make_customer(session, name="Michael Rodriguez", email="mr@mail.test")
    session.commit()
    monkeypatch.setattr(limits, "CANDIDATE_LIMIT", 2)
    found = search_customers(session, query="michael rodriguez")
    assert [row.id for row in found.rows] == [wanted.id]
    if session.get_bind().dialect.name == "sqlite":
        assert index_reads == ["chael rodr"]


def test_a_statement_with_an_id_list_is_compiled_once_and_bound_anew(session: Session) -> None:
    """`keyset.one_of` is known to SQLAlchemy's statement cache: the same statement with other
    ids is not compiled again, and each run gets its own ids (never the first run's)."""
    ids = [make_customer(session, name=f"Id {n}").id for n in range(4)]
    session.commit()
    compiled = []

    def record(_conn, _cursor, _statement, _params, context, _many) -> None:
        compiled.append(context.compiled)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for chosen in (ids[:1], ids[1:4], [], [ids[3], ids[0]]):
            statement = sa.select(Customer.id).where(one_of(Customer.id, chosen))
            assert sorted(session.execute(statement).scalars()) == sorted(chosen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(compiled) == 4 and all(c is compiled[0] for c in compiled)
    by_name = sa.select(Customer.id).where(one_of(Customer.name, [1]))._generate_cache_key()
    by_id = sa.select(Customer.id).where(one_of(Customer.id, [1]))._generate_cache_key()
    assert by_name.key != by_id.key


def test_an_id_list_is_looked_up_by_the_primary_key(session: Session) -> None:
    """`keyset.one_of`, the id lists of search pages: an IN list SQLite serves from the
    primary key (not a boolean compared with 1, which made it scan), one array parameter on
    PostgreSQL."""
    ids = [make_customer(session, name=f"Id {n}").id for n in range(3)]
    session.commit()
    statement = sa.select(Customer.id).where(one_of(Customer.id, ids[:2]))
    assert sorted(session.execute(statement).scalars()) == ids[:2]
    assert list(session.execute(sa.select(Customer.id).where(one_of(Customer.id, [])))) == []
    bind = session.get_bind()
    compiled = statement.compile(bind, compile_kwargs={"render_postcompile": True})
    sql = str(compiled)
    if bind.dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
        assert "INTEGER PRIMARY KEY" in " ".join(str(row[-1]) for row in plan)
    else:
        assert "= any(" in sql.lower()
