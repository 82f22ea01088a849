"""A page of a common customer search (more than CANDIDATE_LIMIT matches), found by walking
the chosen order's index rather than reading every match:

- a common one (a surname, a mail domain) is found by walking the chosen order's index and
  checking each customer against the query, which fills a page within a few thousand rows.
  The walk reads the index alone: the name index holds search_text; SQLite checks each id of
  another order's index against the set of matches the FTS index lists (up to
  MATCH_SET_LIMIT of them); PostgreSQL's other order indexes carry search_text. On
  PostgreSQL the walk is bounded, and taken only when the candidate read found its
  thousand matches close enough together (`_spacing`) that a page should come within
  WALK_SHARE of the walk's rows; a rarer term's few thousand matches are read through the
  trigram index and sorted instead;
- a common one that most names start with (a first name), in name order, would make that
  walk cross every name before it: those names are read as one range of the name index and
  merged with the other matches, read from the search index (on PostgreSQL from a second
  trigram index, on the stored column `search_rest`, that leaves out a customer's own
  leading word, so a first name's thousands of owners are not read to find them). Such a
  term is known by an index-only count of its range.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from mioapp.customers.search import limits
from mioapp.customers.search.index import (
    _fts_count,
    _fts_ids,
    _not_at_start,
    _not_at_start_condition,
)
from mioapp.customers.search.terms import (
    _WORD,
    ORDERS,
    CustomerSort,
    _like_escape,
    _prefix_range,
    _scan_condition,
)
from mioapp.keyset import KeysetPage, Order, merge, one_of, page_of
from mioapp.models import Customer


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
    spacing: float | None = None,
    after: tuple | None,
    before: tuple | None,
    size: int,
) -> KeysetPage:
    """A page of a search with more than CANDIDATE_LIMIT matches, found by walking the
    order's index. In name order the matches of a first name sit together (the names that
    start with it), after every name before it alphabetically; when most matches read start
    with the query (`clustered`), those are read as one range of the index, and the few
    others from the search index, then merged (unless, on PostgreSQL, the next
    START_WALK_ROWS names hold the page already: the others are then common, and reading
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
                within=limits.START_WALK_ROWS,
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
    if (
        len(text) >= 3
        and postgres
        and spacing is not None
        and (size + 1) * spacing <= limits.WALK_ROWS * limits.WALK_SHARE
    ):
        # Common enough that the next WALK_ROWS customers in the order, checked as they
        # come, should hold the page, by how many customers the candidate read found to
        # each match. Otherwise (or if they do not) the plain walk below, which the
        # planner serves as it sees fit: for a rarer term, the few thousand matches read
        # through the trigram index and sorted, where the walk would pass tens of
        # thousands. (The subquery's limit is what keeps it on the order's index here: it
        # guesses a hundred matches for any term.)
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
            within=limits.WALK_ROWS,
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
        and _fts_count(session, text, limits.MATCH_SET_LIMIT + 1) <= limits.MATCH_SET_LIMIT
    ):
        # The order's index walked index-only, each id looked up in the FTS index's set (the
        # unary + keeps SQLite from driving the query by the set through the primary key and
        # sorting every match); only the page's rows are read.
        ids = _fts_ids(text)
        condition = sa.text(f"+customer.id IN ({ids.text})").bindparams(*ids._bindparams.values())
    return page_of(
        session, select(Customer).where(condition), order, after=after, before=before, size=size
    )
