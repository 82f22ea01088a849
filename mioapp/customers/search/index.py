"""Reads of the customer search index: SQLite's FTS5 trigram table `customer_fts`,
PostgreSQL's pg_trgm GIN indexes on `search_text` and on `search_rest`.

A rare match (at most CANDIDATE_LIMIT customers) is read from the search index in full, and
the page sorted from those ids (a long query, like an email, is looked up by a part of it
and checked whole on what that finds: see `_windows`). A commoner one is reported as such
(`_Candidates.ids` None), with what the read learnt on the way: whether its matches mostly
start names, and on PostgreSQL how many of the table's rows there are to each match
(`_spacing`), which `walks` chooses its walk by. `containing` serves the Payments page's
customer search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.customers.search import limits
from mioapp.customers.search.terms import (
    _WORD,
    CustomerSort,
    _like_escape,
    _scan_condition,
    normalize,
)
from mioapp.models import Customer


@dataclass(frozen=True)
class _Candidates:
    # Every matching id, or None when there are more than CANDIDATE_LIMIT.
    ids: list[int] | None
    # Whether most of those read start with the query (a first name: the matches cluster in
    # name order).
    mostly_at_start: bool = False
    # (search_text, id) of each of `ids`: their name order, known without reading them again.
    keys: list[tuple[str, int]] = field(default_factory=list)
    # PostgreSQL, more than CANDIDATE_LIMIT: about how many of the table's rows there are to
    # each match, from how far through the table its bitmap scan went to find that many (it
    # reads pages in order); None where not known.
    spacing: float | None = None

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
            .limit(limits.CANDIDATE_LIMIT + 1)
        ).all()
        if len(rows) > limits.CANDIDATE_LIMIT:
            return _Candidates(None)
        return _Candidates.of([row for row in rows if row.search_text.startswith(text)])
    # More than CANDIDATE_LIMIT names start with it (a first name): counted off the name
    # index alone, where the search index would read a thousand rows to learn as much. Not
    # for another order, whose walk on PostgreSQL wants those rows' `spacing`.
    search_text = col(Customer.search_text)
    upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    starting = (
        select(Customer.id)
        .where(search_text >= text, search_text < upper)
        .limit(limits.CANDIDATE_LIMIT + 1)
        .subquery()
    )
    if keyed and session.execute(select(sa.func.count()).select_from(starting)).scalar_one() > (
        limits.CANDIDATE_LIMIT
    ):
        return _Candidates(None, mostly_at_start=True)
    windowed = _windowed(session, text)
    if windowed is not None:
        return _Candidates.of(windowed)
    rows = _index_rows(session, text, limits.CANDIDATE_LIMIT + 1, keyed=keyed)
    if not keyed and len(rows) > limits.CANDIDATE_LIMIT:
        return _Candidates(None, spacing=_spacing(session, rows))
    if not keyed:
        return _Candidates([row.id for row in rows])
    if len(rows) > limits.CANDIDATE_LIMIT:
        at_start = sum(1 for row in rows if row.search_text.startswith(text))
        return _Candidates(
            None, mostly_at_start=at_start * 2 > len(rows), spacing=_spacing(session, rows)
        )
    return _Candidates.of(rows)


def containing(session: Session, query: str, limit: int) -> list[int] | None:
    """Ids of every customer whose search text holds `query` (case-folded, ends trimmed, as
    search reads it) anywhere, found through the search index; None when more than `limit`
    match, or when the query is shorter than a trigram (the index cannot serve it)."""
    text = normalize(query)
    if len(text) < 3:
        return None
    windowed = _windowed(session, text)
    if windowed is not None:
        ids = [row.id for row in windowed]
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


def _windows(session: Session, text: str) -> list[str]:
    """Parts of a long query (3+ characters) to look up in the search index in turn, the
    whole of it then checked on what the first with at most CANDIDATE_LIMIT matches finds: a
    long query holds trigrams that half the customers share (an email's mail domain), which
    the index would read in full.

    SQLite (FTS5 reads every trigram's list of the phrase): WINDOW characters. For an email,
    from the end of its part before the "@" (a surname and digits), then from the start (a
    long first name and a dot alone match thousands at a million customers). For anything
    else, around its first space (the end of a first name and the start of a surname: a
    rare pair where each half is common), then from the start, then from the end.
    PostgreSQL: the text before an "@", where there is one with three characters before it
    (pg_trgm's index reads every trigram's whole list too; a name's words, which it
    intersects, narrow it down better than a first name and an initial do)."""
    local = text.split("@", 1)[0]
    if session.get_bind().dialect.name != "sqlite":
        return [local] if len(local) >= 3 and local != text else []
    if len(text) <= limits.WINDOW + 2:
        return []
    if "@" in text and len(local) >= 3:
        windows = [local[-limits.WINDOW :], text[: limits.WINDOW]]
    else:
        middle = max(text.find(" ") - limits.WINDOW // 2, 0)
        windows = [
            text[middle : middle + limits.WINDOW],
            text[: limits.WINDOW],
            text[-limits.WINDOW :],
        ]
    return [w for i, w in enumerate(windows) if len(w) >= 3 and w not in windows[:i]]


def _windowed(session: Session, text: str) -> list | None:
    """(id, search_text) of every customer holding `text`, found through the first of its
    `_windows` that at most CANDIDATE_LIMIT customers hold; None when none does."""
    for window in _windows(session, text):
        rows = _index_rows(session, window, limits.CANDIDATE_LIMIT + 1)
        if len(rows) <= limits.CANDIDATE_LIMIT:
            return [row for row in rows if text in row.search_text]
    return None


def _index_rows(session: Session, text: str, limit: int, *, keyed: bool = True) -> list:
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
        # each row's page in the table tells how far the scan went, measured against the
        # table's pages and rows (`_spacing`; read once per statement, as an init plan).
        query = select(Customer.id, Customer.search_text, *_PLACE).where(
            _scan_condition(text, CustomerSort.NAME)
        )
        query = query.limit(limit)
    return list(session.execute(query).all())


_TABLE = "(SELECT {} FROM pg_class WHERE oid = 'customer'::regclass)"
_PLACE = (
    sa.literal_column("(customer.ctid::text::point)[0]::int", sa.Integer).label("block"),
    sa.literal_column(_TABLE.format("relpages"), sa.Integer).label("pages"),
    sa.literal_column(_TABLE.format("reltuples"), sa.Float).label("tuples"),
)


def _spacing(session: Session, rows: list) -> float | None:
    """PostgreSQL: about how many customers there are to each match, for matches `rows`
    found by a scan that stopped at its limit: the table's rows in the share of its pages
    the scan crossed (a bitmap scan reads pages in order; a sequential one too, though it may
    start anywhere and wrap around, where another scan of the table is: the pages it did not
    reach are the widest gap between the rows' pages, round the table), divided by the rows
    found. None on SQLite or before the table's first ANALYZE."""
    if session.get_bind().dialect.name != "postgresql" or not rows:
        return None
    pages, tuples = rows[0].pages, rows[0].tuples
    if pages <= 0 or tuples <= 0:
        return None
    blocks = sorted({row.block for row in rows})
    gaps = [b - a for a, b in pairwise(blocks)]
    gaps.append(blocks[0] + pages - blocks[-1])
    reach = min(max(pages - max(gaps) + 1, 1) / pages, 1.0)
    return reach * tuples / len(rows)


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
    limit = limits.CANDIDATE_LIMIT + 1
    if session.get_bind().dialect.name == "sqlite":
        phrase = _fts_phrase(text)
        query = sa.text(
            "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :match LIMIT :limit"
        ).bindparams(match=f"{phrase} NOT ^{phrase}", limit=limit)
    else:
        query = select(Customer.id).where(_not_at_start_condition(text)).limit(limit)
    ids = list(session.execute(query).scalars().all())
    return ids if len(ids) <= limits.CANDIDATE_LIMIT else None
