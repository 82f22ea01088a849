"""The customers list: search text, page and the rows shown."""

from __future__ import annotations

import reflex as rx

from mioapp.customers import search as customers
from mioapp.ui.merchant_state import MerchantState


class CustomerListState(MerchantState):
    query: str = ""
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loaded: bool = False

    def _refresh(self) -> None:
        with rx.session() as session:
            result = customers.search_customers(session, query=self.query, page=self.page)
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
    def load(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self._refresh()
        return None

    @rx.event
    def search(self, value: str):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self.query, self.page = str(value)[:100], 1
        self._refresh()
        return None

    @rx.event
    def go_to_page(self, page: int):
        if self._merchant_id() is None:
            return self._to_sign_in()
        try:
            self.page = int(page)
        except (TypeError, ValueError):
            return None  # not a page number: keep the page shown
        self._refresh()
        return None
