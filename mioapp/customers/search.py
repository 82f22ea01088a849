"""Customer search and the customers list: keyset pages in three orders, each customer with
their outstanding balance and whether any of it is overdue.

Search matches a substring of the case-folded name, email, phone and phone digits
(`Customer.search_text`) through an index built for that: SQLite's FTS5 trigram table
`customer_fts`, PostgreSQL's pg_trgm GIN index. A trigram index needs three characters; a
query of one or two matches names that start with it, read off the name-order index.

How a page is found depends on how common the match is, so neither case scans:
- a rare one (at most CANDIDATE_LIMIT customers) is read from the search index in full, and
  the page sorted from those ids (a long query, like an email, is looked up by a part of it
  and checked whole on what that finds: see `_window`);
- a common one (a surname, a mail domain) is found by walking the chosen order's index and
  checking each customer against the query, which fills a page within a few thousand rows.
  The walk reads the index alone: the name index holds search_text; SQLite checks each id of
  another order's index against the set of matches the FTS index lists (up to
  MATCH_SET_LIMIT of them); PostgreSQL's other order indexes carry search_text. On
  PostgreSQL the walk is bounded, and taken only when the candidate read found its
  thousand matches within WALK_REACH of the table (`_reach`); a rarer term's few thousand
  matches are read through the trigram index and sorted instead;
- a common one that most names start with (a first name), in name order, would make that
  walk cross every name before it: those names are read as one range of the name index and
  merged with the other matches, read from the search index (on PostgreSQL from a second
  trigram index, on the stored column `search_rest`, that leaves out a customer's own
  leading word, so a first name's thousands of owners are not read to find them). Such a
  term is known by an index-only count of its range.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from mioapp.billing.balances import booking_money, format_totals
from mioapp.keyset import KeysetPage, Order, merge, one_of, page_of
from mioapp.models import Booking, Customer, utcnow

PAGE_SIZE = 25
# A search with more matches than this is walked in list order rather than read in full.
CANDIDATE_LIMIT = 1000
# The list says "1,000+ customers" rather than count a million rows for every page (a search
# counts its matches up to CANDIDATE_LIMIT, as it reads them).
COUNT_LIMIT = 1000
MAX_QUERY = 100
# Characters of a long query looked up in the index before the rest is checked row by row.
WINDOW = 10
# SQLite, another order than name: a common search with at most this many matches walks the
# order's (key, id) index index-only, each entry looked up in the set of their ids (read off
# the FTS index in a few milliseconds), rather than reading a row for each entry passed.
MATCH_SET_LIMIT = 10_000
# PostgreSQL: how far a common search first walks its order's index (index-only), checking
# each entry, before it reads its matches another way: for a first name in name order, for
# any other term in name order, in another order.
NAME_WALK_ROWS = 10_000
ROW_WALK_ROWS = 10_000
WALK_REACH = 0.25
# A term that `customer_search_rest` serves: one run of the characters it splits words by.
_WORD = re.compile(r"[a-z0-9]+")


class CustomerSort(StrEnum):
    NAME = "name"
    OUTSTANDING = "outstanding"
    ACTIVITY = "activity"

    @property
    def label(self) -> str:
        return {
            CustomerSort.NAME: "Name",
            CustomerSort.OUTSTANDING: "Outstanding",
            CustomerSort.ACTIVITY: "Last activity",
        }[self]


# Name A to Z (search_text starts with the case-folded name); the largest balance first;
# the most recent activity first.
ORDERS = {
    CustomerSort.NAME: Order((col(Customer.search_text), col(Customer.id))),
    CustomerSort.OUTSTANDING: Order(
        (col(Customer.outstanding_total), col(Customer.id)), descending=True
    ),
    CustomerSort.ACTIVITY: Order(
        (col(Customer.last_activity_at), col(Customer.id)), descending=True
    ),
}


def parse_sort(value: str | None) -> CustomerSort:
    try:
        return CustomerSort(value or CustomerSort.NAME)
    except ValueError:
        return CustomerSort.NAME


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    email: str
    phone: str
    booking_count: int
    last_activity_at: datetime
    outstanding: dict[str, int] = field(default_factory=dict)
    # Money is still owed on a booking whose activity date has passed.
    overdue: bool = False

    @property
    def outstanding_display(self) -> str:
        return format_totals(self.outstanding)

    @property
    def owes(self) -> bool:
        return any(self.outstanding.values())


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    has_previous: bool
    has_next: bool
    # How many customers match; a floor when `more` (counting stops at COUNT_LIMIT).
    total: int
    more: bool


def normalize(query: str) -> str:
    """What is searched for: the query case-folded like `search_text`, ends trimmed."""
    return query[:MAX_QUERY].strip().casefold()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_range(text: str) -> sa.ColumnElement[bool]:
    """search_text starting with `text` as a range of the name-order index (byte order on both
    databases for these characters); LIKE checks it exactly."""
    search_text = col(Customer.search_text)
    upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    return sa.and_(
        search_text >= text,
        search_text < upper,
        # On an expression, so PostgreSQL reads the ordered range of the name index and
        # checks each row rather than building a bitmap from the trigram index first.
        sa.func.coalesce(search_text, "").like(f"{_like_escape(text)}%", escape="\\"),
    )


def _scan_condition(text: str, sort: CustomerSort) -> sa.ColumnElement[bool]:
    """The query as a condition checked row by row while walking the list's order."""
    if len(text) < 3:
        # In name order the matches are one range of the index: read it, not the rows before.
        if sort is CustomerSort.NAME:
            return _prefix_range(text)
        return col(Customer.search_text).like(f"{_like_escape(text)}%", escape="\\")
    return col(Customer.search_text).like(f"%{_like_escape(text)}%", escape="\\")


@dataclass(frozen=True)
class _Candidates:
    # Every matching id, or None when there are more than CANDIDATE_LIMIT.
    ids: list[int] | None
    # Whether most of those read start with the query (a first name: the matches cluster in
    # name order).
    mostly_at_start: bool = False
    # (search_text, id) of each of `ids`: their name order, known without reading them again.
    keys: list[tuple[str, int]] = field(default_factory=list)
    # PostgreSQL, more than CANDIDATE_LIMIT: the share of the table's pages its bitmap scan
    # crossed to find that many (it reads them in page order), so about how common the
    # matches are; None where not known.
    reach: float | None = None

    @classmethod
    def of(cls, rows: list) -> _Candidates:
        return cls([row.id for row in rows], keys=[(row.search_text, row.id) for row in rows])


def _candidates(session: Session, text: str, *, keyed: bool = True) -> _Candidates:
    """The customers matching `text`, read from an index, up to CANDIDATE_LIMIT; `keyed`: with
    their name-order keys (for a page in name order), else the ids alone, which SQLite reads
    off the FTS index without a row each."""
    if len(text) < 3:
        # The range alone, so both databases read the name index in order and stop at the
        # limit; the start of each name is checked here.
        search_text = col(Customer.search_text)
        upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
        rows = session.execute(
            select(Customer.id, search_text)
            .where(search_text >= text, search_text < upper)
            .limit(CANDIDATE_LIMIT + 1)
        ).all()
        if len(rows) > CANDIDATE_LIMIT:
            return _Candidates(None)
        return _Candidates.of([row for row in rows if row.search_text.startswith(text)])
    # More than CANDIDATE_LIMIT names start with it (a first name): counted off the name
    # index alone, where the search index would read a thousand rows to learn as much. Not
    # for another order, whose walk on PostgreSQL wants those rows' `reach`.
    search_text = col(Customer.search_text)
    upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    starting = (
        select(Customer.id)
        .where(search_text >= text, search_text < upper)
        .limit(CANDIDATE_LIMIT + 1)
        .subquery()
    )
    if keyed and session.execute(select(sa.func.count()).select_from(starting)).scalar_one() > (
        CANDIDATE_LIMIT
    ):
        return _Candidates(None, mostly_at_start=True)
    window = _window(session, text)
    if window != text:
        # A long query (an email) holds trigrams that half the customers share (the mail
        # domain): look up its start, then check the whole of it on those few rows.
        rows = _index_rows(session, window)
        if len(rows) <= CANDIDATE_LIMIT:
            return _Candidates.of([row for row in rows if text in row.search_text])
    rows = _index_rows(session, text, keyed=keyed)
    if not keyed and len(rows) > CANDIDATE_LIMIT:
        return _Candidates(None, reach=_reach(session, rows))
    if not keyed:
        return _Candidates([row.id for row in rows])
    if len(rows) > CANDIDATE_LIMIT:
        at_start = sum(1 for row in rows if row.search_text.startswith(text))
        return _Candidates(
            None, mostly_at_start=at_start * 2 > len(rows), reach=_reach(session, rows)
        )
    return _Candidates.of(rows)


def _name_page(
    session: Session,
    keys: list[tuple[str, int]],
    *,
    after: tuple | None,
    before: tuple | None,
    size: int,
) -> KeysetPage:
    """A page in name order of the customers whose (search_text, id) are `keys`, as `page_of`
    gives it, reading only that page's customers (byte order, as the name index sorts on both
    databases here; see `_common_page`)."""
    keys = sorted(keys)
    if after is not None:
        rest = [k for k in keys if k > tuple(after)]
        chosen, has_previous, has_next = rest[:size], True, len(rest) > size
    elif before is not None:
        head = [k for k in keys if k < tuple(before)]
        chosen, has_previous, has_next = head[-size:] if size else [], len(head) > size, True
    else:
        chosen, has_previous, has_next = keys[:size], False, len(keys) > size
    ids = [i for _, i in chosen]
    found = {c.id: c for c in session.exec(select(Customer).where(one_of(col(Customer.id), ids)))}
    return KeysetPage([found[i] for i in ids if i in found], has_previous, has_next)


def containing(session: Session, query: str, limit: int) -> list[int] | None:
    """Ids of every customer whose search text holds `query` (case-folded, ends trimmed, as
    search reads it) anywhere, found through the search index; None when more than `limit`
    match, or when the query is shorter than a trigram (the index cannot serve it)."""
    text = normalize(query)
    if len(text) < 3:
        return None
    window = _window(session, text)
    if window != text:
        # As in `_candidates`: a long query's start is rare where its whole trigram set is
        # not (an email's domain); check the whole of it on what the start finds.
        rows = _index_rows(session, window, CANDIDATE_LIMIT + 1)
        if len(rows) <= CANDIDATE_LIMIT:
            ids = [row.id for row in rows if text in row.search_text]
            return ids if len(ids) <= limit else None
    rows = _index_rows(session, text, limit + 1)
    return [row.id for row in rows] if len(rows) <= limit else None


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_ids(text: str) -> sa.TextClause:
    """SQLite: the ids of the customers whose search text holds `text` (3+ characters)."""
    return sa.text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :phrase").bindparams(
        phrase=_fts_phrase(text)
    )


def _fts_count(session: Session, text: str, limit: int) -> int:
    """SQLite: how many customers hold `text` (3+ characters), counted up to `limit`, off the
    FTS index alone."""
    ids = _fts_ids(text).columns(sa.column("rowid")).subquery()
    inner = select(ids.c.rowid).limit(limit).subquery()
    return session.execute(select(sa.func.count()).select_from(inner)).scalar_one()


def _window(session: Session, text: str) -> str:
    """What of a query (3+ characters) is looked up in the search index, the whole of it
    then checked on what that finds. SQLite: the first WINDOW characters of a long query.
    PostgreSQL: the text before an "@", where there is one with three characters before it
    (pg_trgm's index reads every trigram's whole list, and the mail domain's are half the
    table; a name's words, which it intersects, narrow it down better than a first name and
    an initial do)."""
    if session.get_bind().dialect.name == "sqlite":
        return text[:WINDOW] if len(text) > WINDOW + 2 else text
    local = text.split("@", 1)[0]
    return local if len(local) >= 3 else text


def _index_rows(
    session: Session, text: str, limit: int = CANDIDATE_LIMIT + 1, *, keyed: bool = True
) -> list:
    """(id, search_text) of up to `limit` customers containing `text` (3+ characters), found
    through the trigram index; on SQLite only their ids unless `keyed`."""
    if session.get_bind().dialect.name == "sqlite" and not keyed:
        query = sa.text(
            "SELECT rowid AS id FROM customer_fts WHERE customer_fts MATCH :phrase LIMIT :limit"
        ).bindparams(phrase=_fts_phrase(text), limit=limit)
    elif session.get_bind().dialect.name == "sqlite":
        phrase = _fts_phrase(text)
        query = sa.text(
            "SELECT c.id, c.search_text FROM customer_fts JOIN customer c ON c.id = "
            "customer_fts.rowid WHERE customer_fts MATCH :phrase LIMIT :limit"
        ).bindparams(phrase=phrase, limit=limit)
    else:
        # pg_trgm's GIN index answers LIKE '%text%' (its recheck makes the match exact);
        # each row's place in the table (its page) tells how far the scan went (`_reach`).
        ctid = sa.cast(sa.literal_column("customer.ctid"), sa.Text).label("ctid")
        query = select(Customer.id, Customer.search_text, ctid).where(
            _scan_condition(text, CustomerSort.NAME)
        )
        query = query.limit(limit)
    return list(session.execute(query).all())


def _reach(session: Session, rows: list) -> float | None:
    """PostgreSQL: the share of the customer table's pages the scan that found `rows` crossed
    (a bitmap scan reads pages in order; a sequential one too, though it may start anywhere
    and wrap around, where another scan of the table is: the pages it did not reach are the
    widest gap between the rows' pages, round the table); None on SQLite or before the
    table's first ANALYZE."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pages = session.execute(
        sa.text("SELECT relpages FROM pg_class WHERE oid = 'customer'::regclass")
    ).scalar_one()
    if pages <= 0:
        return None
    blocks = sorted({int(row.ctid.strip("()").split(",")[0]) for row in rows})
    gaps = [b - a for a, b in pairwise(blocks)]
    gaps.append(blocks[0] + pages - blocks[-1])
    return min(max(pages - max(gaps) + 1, 1) / pages, 1.0)


def _count(session: Session) -> tuple[int, bool]:
    """How many customers there are, counted up to COUNT_LIMIT."""
    inner = select(Customer.id).limit(COUNT_LIMIT + 1).subquery()
    counted = session.execute(select(sa.func.count()).select_from(inner)).scalar_one()
    return min(counted, COUNT_LIMIT), counted > COUNT_LIMIT


def _sort_values(customer: Customer, sort: CustomerSort) -> tuple:
    return tuple(getattr(customer, c.key) for c in ORDERS[sort].columns)


def _not_at_start_condition(text: str) -> sa.ColumnElement[bool]:
    """PostgreSQL: customers holding `text` (3+ characters) other than at the start of their
    name, as a condition its trigram indexes serve."""
    search_text = col(Customer.search_text)
    rest = _WORD.fullmatch(text) is not None
    if rest:
        # Checked on the rows the index below finds, not looked up in the trigram index
        # too (the whole text's list of a first name is its thousands of owners).
        search_text = sa.func.coalesce(search_text, "")
    condition = sa.and_(
        search_text.like(f"%{_like_escape(text)}%", escape="\\"),
        sa.not_(search_text.like(f"{_like_escape(text)}%", escape="\\")),
    )
    if rest:
        # Every such customer holds the term in `customer_search_rest` (the text without
        # its leading word where that recurs, migration e8b3d6f0a2c5), kept as the column
        # `search_rest` (migration f3a7c1d9b2e4: the index's recheck reads it rather than
        # run the function on each row found), whose trigram index leaves out those who
        # merely start with it.
        rest_text = sa.literal_column("customer.search_rest", sa.Text)
        condition = sa.and_(condition, rest_text.like(f"%{text}%"))
    return condition


def _not_at_start(session: Session, text: str) -> list[int] | None:
    """Ids of customers matching `text` (3+ characters) other than at the start of their
    name; None when there are more than CANDIDATE_LIMIT."""
    limit = CANDIDATE_LIMIT + 1
    if session.get_bind().dialect.name == "sqlite":
        phrase = _fts_phrase(text)
        query = sa.text(
            "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :match LIMIT :limit"
        ).bindparams(match=f"{phrase} NOT ^{phrase}", limit=limit)
    else:
        query = select(Customer.id).where(_not_at_start_condition(text)).limit(limit)
    ids = list(session.execute(query).scalars().all())
    return ids if len(ids) <= CANDIDATE_LIMIT else None


def _not_at_start_page(
    session: Session, text: str, *, after: tuple | None, before: tuple | None, size: int
) -> KeysetPage:
    """PostgreSQL: `page_of` in name order of the (id, search_text) of the customers holding
    `text` other than at the start of their name, however many: all of them read through
    the trigram index (as one materialized set, so the planner never walks the name index
    for them instead, past every name before the few that hold it) and the page sorted from
    them."""
    found = select(Customer.id, Customer.search_text).where(_not_at_start_condition(text))
    others = found.cte("others").prefix_with("MATERIALIZED")
    order = Order((others.c.search_text, others.c.id))
    return page_of(
        session,
        select(others.c.id, others.c.search_text),
        order,
        after=after,
        before=before,
        size=size,
        scalars=False,
    )


def _bounded_page(
    session: Session,
    statement: sa.Select,
    text: str,
    order: Order,
    *,
    after: tuple | None,
    before: tuple | None,
    size: int,
    within: int,
    keys: bool = False,
) -> KeysetPage | None:
    """`page_of` the rows of `statement` that hold `text` (3+ characters), found among the
    next `within` rows in `order` from the cursor (read off the order's index, each checked
    as it comes); None when fewer than a page and one of them match (the page may reach
    past them). `statement` selects Customer, or (id, search_text) for keys."""
    backwards = before is not None
    walk = order.reversed() if backwards else order
    cursor = before if backwards else after
    if cursor is not None:
        statement = statement.where(walk.beyond(cursor))
    near = statement.order_by(*walk.by()).limit(within).subquery()
    columns = tuple(near.c[column.key] for column in order.columns)
    entity = near if keys else aliased(Customer, near)
    query = (
        select(entity)
        .where(near.c.search_text.like(f"%{_like_escape(text)}%", escape="\\"))
        .order_by(*Order(columns, walk.descending).by())
        .limit(size + 1)
    )
    result = session.execute(query)
    rows = list(result.all() if keys else result.scalars().all())
    if len(rows) <= size:
        return None
    if backwards:
        return KeysetPage(list(reversed(rows[:size])), has_previous=True, has_next=True)
    return KeysetPage(rows[:size], has_previous=after is not None, has_next=True)


def _page_of_keys(session: Session, keys: KeysetPage) -> KeysetPage:
    """The customers of a page of (id, search_text) rows, read by id."""
    ids = [row.id for row in keys.items]
    found = {c.id: c for c in session.exec(select(Customer).where(one_of(col(Customer.id), ids)))}
    return KeysetPage([found[i] for i in ids], keys.has_previous, keys.has_next)


def _common_page(
    session: Session,
    text: str,
    sort: CustomerSort,
    *,
    clustered: bool,
    reach: float | None = None,
    after: tuple | None,
    before: tuple | None,
    size: int,
) -> KeysetPage:
    """A page of a search with more than CANDIDATE_LIMIT matches, found by walking the
    order's index. In name order the matches of a first name sit together (the names that
    start with it), after every name before it alphabetically; when most matches read start
    with the query (`clustered`), those are read as one range of the index, and the few
    others from the search index, then merged (unless, on PostgreSQL, the next
    NAME_WALK_ROWS names hold the page already: the others are then common, and reading
    them through `customer_search_rest` costs far more)."""
    order = ORDERS[sort]
    postgres = session.get_bind().dialect.name == "postgresql"
    if sort is CustomerSort.NAME and len(text) >= 3 and clustered:
        if postgres:
            keys = _bounded_page(
                session,
                select(Customer.id, Customer.search_text),
                text,
                order,
                after=after,
                before=before,
                size=size,
                within=NAME_WALK_ROWS,
                keys=True,
            )
            if keys is not None:
                return _page_of_keys(session, keys)
        if postgres and _WORD.fullmatch(text) is not None:
            # However many the others, read through `search_rest`'s index and merged; the
            # range read index-only (whole rows made the planner read it through a bitmap
            # and sort it, thousands of rows for "kim"), then the page's customers by id.
            pages = [
                page_of(
                    session,
                    select(Customer.id, Customer.search_text).where(_prefix_range(text)),
                    order,
                    after=after,
                    before=before,
                    size=size,
                    scalars=False,
                ),
                _not_at_start_page(session, text, after=after, before=before, size=size),
            ]
            keys = merge(
                pages,
                key=lambda row: (row.search_text, row.id),
                size=size,
                backwards=before is not None,
            )
            return _page_of_keys(session, keys)
        others = _not_at_start(session, text)
        if others is not None:
            streams = [select(Customer).where(_prefix_range(text))]
            if others:
                streams.append(select(Customer).where(one_of(col(Customer.id), others)))
            pages = [
                page_of(session, stream, order, after=after, before=before, size=size)
                for stream in streams
            ]
            # Byte order, as the index sorts on both databases' default collations here.
            return merge(
                pages,
                key=lambda c: (c.search_text, c.id),
                size=size,
                backwards=before is not None,
            )
    name_order = sort is CustomerSort.NAME
    if len(text) >= 3 and postgres and reach is not None and reach <= WALK_REACH:
        # Common enough that the candidate read found its thousand within WALK_REACH of the
        # table: the next customers in the order (NAME_WALK_ROWS names, or ROW_WALK_ROWS in
        # another order), checked as they come, hold the page. Otherwise (or if they do
        # not) the plain walk below, which the planner serves as it sees fit: for a rarer
        # term, the few thousand matches read through the trigram index and sorted, where
        # the walk would pass tens of thousands. (The subquery's limit is what keeps it on
        # the order's index here: it guesses a hundred matches for any term.)
        # The sort key, id and search_text: all in the order's index (the others' carry it
        # since migration a9d4e6b1c8f7), so the walk reads no table row.
        columns = {c.key: c for c in (*order.columns, col(Customer.search_text))}
        keys = _bounded_page(
            session,
            select(*columns.values()),
            text,
            order,
            after=after,
            before=before,
            size=size,
            within=NAME_WALK_ROWS if name_order else ROW_WALK_ROWS,
            keys=True,
        )
        if keys is not None:
            return _page_of_keys(session, keys)
    condition = _scan_condition(text, sort)
    if name_order:
        # The name index holds search_text: the walk checks each entry there (an index-only
        # scan, where reading whole rows would visit a table page per name passed), and
        # only the page's own customers are read.
        keys = page_of(
            session,
            select(Customer.id, Customer.search_text).where(condition),
            order,
            after=after,
            before=before,
            size=size,
            scalars=False,
        )
        return _page_of_keys(session, keys)
    if (
        len(text) >= 3
        and not postgres
        and _fts_count(session, text, MATCH_SET_LIMIT + 1) <= MATCH_SET_LIMIT
    ):
        # The order's index walked index-only, each id looked up in the FTS index's set (the
        # unary + keeps SQLite from driving the query by the set through the primary key and
        # sorting every match); only the page's rows are read.
        ids = _fts_ids(text)
        condition = sa.text(f"+customer.id IN ({ids.text})").bindparams(*ids._bindparams.values())
    return page_of(
        session, select(Customer).where(condition), order, after=after, before=before, size=size
    )


def search_customers(
    session: Session,
    *,
    query: str = "",
    sort: CustomerSort = CustomerSort.NAME,
    after: int | None = None,
    before: int | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> CustomerPage:
    """One page of customers matching `query` (all of them when empty), in `sort` order:
    the first page, the one after customer `after`, or the one before customer `before`.
    A cursor that names no customer gives the first page."""
    text = normalize(query)
    order = ORDERS[sort]
    cursor_id = after if after is not None else before
    cursor = session.get(Customer, cursor_id) if cursor_id is not None else None
    values = _sort_values(cursor, sort) if cursor is not None else None
    keys = {
        "after": values if after is not None else None,
        "before": values if before is not None else None,
    }
    if not text:
        page = page_of(session, select(Customer), order, size=page_size, **keys)
        total, more = _count(session)
    else:
        candidates = _candidates(session, text, keyed=sort is CustomerSort.NAME)
        ids = candidates.ids
        if ids is not None:
            if not ids:
                return CustomerPage([], has_previous=False, has_next=False, total=0, more=False)
            if sort is CustomerSort.NAME:
                page = _name_page(session, candidates.keys, size=page_size, **keys)
            else:
                matches = select(Customer).where(one_of(col(Customer.id), ids))
                page = page_of(session, matches, order, size=page_size, **keys)
            total, more = len(ids), False
        else:
            page = _common_page(
                session,
                text,
                sort,
                clustered=candidates.mostly_at_start,
                reach=candidates.reach,
                size=page_size,
                **keys,
            )
            total, more = CANDIDATE_LIMIT, True  # the index found more than that already
    if values is not None and before is not None and not page.items:
        # Nothing before that row (it moved, or the list changed): start over.
        return search_customers(session, query=query, sort=sort, page_size=page_size, now=now)
    return CustomerPage(
        rows=_rows(session, page.items, now or utcnow()),
        has_previous=page.has_previous,
        has_next=page.has_next,
        total=total,
        more=more,
    )


def _rows(session: Session, customers: list[Customer], now: datetime) -> list[CustomerRow]:
    bookings = session.exec(
        select(Booking).where(col(Booking.customer_id).in_([c.id for c in customers]))
    ).all()
    money = booking_money(session, bookings)
    counts: dict[int, int] = defaultdict(int)
    outstanding: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: set[int] = set()
    for booking in bookings:
        balance = money[booking.id].balance
        counts[booking.customer_id] += 1
        outstanding[booking.customer_id][booking.currency] += balance
        if balance > 0 and booking.starts_at < now:
            overdue.add(booking.customer_id)
    return [
        CustomerRow(
            id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            booking_count=counts[c.id],
            last_activity_at=c.last_activity_at,
            outstanding=dict(outstanding[c.id]),
            overdue=c.id in overdue,
        )
        for c in customers
    ]
