"""The customers list: search, sort and page, all read from and kept in the URL
(`/customers?q=lima&sort=outstanding&after=123`), so a list can be shared and the back
button returns to the page before."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import reflex as rx

from mioapp.business import current_profile
from mioapp.customers import search as customers
from mioapp.customers.search import CustomerSort, parse_sort
from mioapp.db import database
from mioapp.formatting import day
from mioapp.ui.merchant_state import MerchantState, signed_in
from mioapp.ui.paging import PagedListState, PageInfo
from mioapp.ui.status import customer_balance
from mioapp.web import routes

SORTS = [(sort.value, sort.label) for sort in CustomerSort]


@dataclass
class CustomerListRow:
    id: int
    name: str
    email: str
    phone: str
    bookings: int
    outstanding: str
    # ui.status.CustomerBalance: paid up, due, overdue.
    balance: str
    last_activity: str


def list_url(
    *, query: str = "", sort: str = "", after: int | None = None, before: int | None = None
) -> str:
    """The customers list's address for this search, order and page (defaults left out)."""
    params: dict[str, str] = {}
    if query.strip():
        params["q"] = query.strip()
    if sort and sort != CustomerSort.NAME:
        params["sort"] = sort
    if after:
        params["after"] = str(after)
    elif before:
        params["before"] = str(before)
    return routes.CUSTOMERS + (f"?{urlencode(params)}" if params else "")


def _cursor(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class CustomerListState(PagedListState, MerchantState):
    noun = "customers"
    query: str = ""
    sort: str = CustomerSort.NAME.value
    rows: list[CustomerListRow] = []

    async def _load_page(self, *, after: int | None, before: int | None) -> PageInfo:
        query, sort = self.query, parse_sort(self.sort)

        def read(session):
            result = customers.search_customers(
                session, query=query, sort=sort, after=after, before=before
            )
            profile = current_profile(session)
            rows = [
                CustomerListRow(
                    id=row.id,
                    name=row.name,
                    email=row.email,
                    phone=row.phone,
                    bookings=row.booking_count,
                    outstanding=row.outstanding_display,
                    balance=customer_balance(owes=row.owes, overdue=row.overdue).value,
                    last_activity=day(row.last_activity_at, profile),
                )
                for row in result.rows
            ]
            return result, rows

        result, self.rows = await database().run(read)
        return PageInfo(
            has_previous=result.has_previous,
            has_next=result.has_next,
            first_id=result.rows[0].id if result.rows else None,
            last_id=result.rows[-1].id if result.rows else None,
            total=result.total,
            more=result.more,
        )

    def _url(self, *, after: int | None = None, before: int | None = None) -> str:
        return list_url(query=self.query, sort=self.sort, after=after, before=before)

    async def _turn(self, *, after: int | None = None, before: int | None = None):
        return rx.redirect(self._url(after=after, before=before))

    @rx.event
    @signed_in
    async def load(self):
        """On every visit of the list's URL (links, back and forward): show what it says."""
        params = self.router.url.query_parameters
        self.query = str(params.get("q", ""))[: customers.MAX_QUERY]
        self.sort = parse_sort(str(params.get("sort", ""))).value
        await self._show(after=_cursor(params.get("after")), before=_cursor(params.get("before")))

    @rx.event
    @signed_in
    async def search(self, value: str):
        # Refining a search replaces its history entry; starting one adds an entry, so back
        # returns to the list as it was.
        refining = bool(self.query.strip())
        self.query = str(value)[: customers.MAX_QUERY]
        return rx.redirect(self._url(), replace=refining)

    @rx.event
    @signed_in
    async def set_sort(self, value: str):
        self.sort = parse_sort(str(value)).value
        return rx.redirect(self._url())
