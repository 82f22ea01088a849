"""The customers list: search text, page and the rows shown."""

from __future__ import annotations

import reflex as rx

from mioapp.customers import search as customers
from mioapp.db import database
from mioapp.ui.merchant_state import MerchantState, signed_in


class CustomerListState(MerchantState):
    query: str = ""
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loaded: bool = False

    async def _refresh(self) -> None:
        query, page = self.query, self.page
        result = await database().run(
            lambda s: customers.search_customers(s, query=query, page=page)
        )
        self.page, self.page_count, self.total = result.page, result.page_count, result.total
        self.rows = [
            {
                "id": str(row.id),
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "bookings": str(row.booking_count),
                "outstanding": row.outstanding_display,
                "owes": "yes" if any(row.outstanding.values()) else "",
            }
            for row in result.rows
        ]
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self):
        await self._refresh()

    @rx.event
    @signed_in
    async def search(self, value: str):
        self.query, self.page = str(value)[:100], 1
        await self._refresh()

    @rx.event
    @signed_in
    async def go_to_page(self, page: int):
        try:
            self.page = int(page)
        except (TypeError, ValueError):
            return  # not a page number: keep the page shown
        await self._refresh()
