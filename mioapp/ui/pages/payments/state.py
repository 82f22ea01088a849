"""The Payments page: every payment and refund across customers. Its filters, search and
place in the list live in the URL (shareable, the back button works): a change navigates,
and `load` reads the page the URL names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from mioapp.billing import transactions
from mioapp.billing.money import format_money
from mioapp.billing.transactions import (
    Cursor,
    StatusFilter,
    Transaction,
    TransactionFilter,
    TransactionKind,
    query_param,
)
from mioapp.business import BusinessProfile, current_profile
from mioapp.db import database
from mioapp.formatting import when
from mioapp.models import PaymentMethodKind, utcnow
from mioapp.notifications.receipts import receipt_number
from mioapp.ui.merchant_state import MerchantState, signed_in
from mioapp.ui.status import payment_display_status, payment_method_label
from mioapp.web import routes

# The select boxes' "no filter" choice (Radix selects cannot hold an empty value).
ALL = "all"
STATUS_CHOICES = [(s.value, s.label) for s in StatusFilter]
METHOD_CHOICES = [(m.value, m.label) for m in PaymentMethodKind]
TYPE_CHOICES = [
    (TransactionKind.PAYMENT.value, "Payments"),
    (TransactionKind.REFUND.value, "Refunds"),
]

# The filters in the URL: query parameter -> the state var holding it as typed.
FILTER_VARS = {
    "status": "status",
    "method": "method",
    "type": "kind",
    "from": "date_from",
    "to": "date_to",
    "q": "query",
}
# Those chosen in a select box, where no filter is ALL.
SELECT_FILTERS = ("status", "method", "type")


@dataclass
class PaymentRow:
    key: str
    kind: TransactionKind
    date: str
    amount: str
    # For a payment: how much of it went back ("" if none).
    refunded: str
    # A PaymentDisplayStatus for payments, a RefundStatus for refunds.
    status: str
    customer: str
    email: str
    method: str
    receipt: str
    bookings: str
    stripe_id: str
    # The customer's page with this transaction highlighted.
    href: str


def _row(t: Transaction, profile: BusinessProfile) -> PaymentRow:
    refund = t.refund
    if refund is not None:
        amount = format_money(-t.amount, t.currency, profile.locale)
        status = refund.status.value
        stripe_id = refund.stripe_refund_id or ""
    else:
        amount = format_money(t.amount, t.currency, profile.locale)
        status = payment_display_status(t.payment, t.refunded, utcnow()).value
        stripe_id = t.payment.stripe_payment_intent_id or ""
    return PaymentRow(
        key=f"{t.kind.value}-{t.id}",
        kind=t.kind,
        date=when(t.at, profile),
        amount=amount,
        refunded=format_money(t.refunded, t.currency, profile.locale) if t.refunded else "",
        status=status,
        customer=t.customer_name,
        email=t.customer_email,
        method=payment_method_label(t.payment),
        receipt=receipt_number(t.payment),
        bookings=", ".join(t.bookings),
        stripe_id=stripe_id,
        href=routes.customer_highlight_path(t.customer_id, t.payment.id),
    )


class PaymentsState(MerchantState):
    """What the URL asks for, and the rows of that page."""

    status: str = ALL
    method: str = ALL
    kind: str = ALL
    date_from: str = ""
    date_to: str = ""
    query: str = ""
    rows: list[PaymentRow] = []
    # Query strings of the neighbouring pages ("" where there is none).
    newer_query: str = ""
    older_query: str = ""
    loaded: bool = False

    def _params(self) -> dict[str, str]:
        """The filter as typed, under its URL query parameters' names (spelled out, not read
        through FILTER_VARS: Reflex finds a computed var's dependencies in its code)."""
        return {
            "status": self.status,
            "method": self.method,
            "type": self.kind,
            "from": self.date_from,
            "to": self.date_to,
            "q": self.query,
        }

    def _filter(self) -> TransactionFilter:
        return TransactionFilter.from_params(self._params())

    def _url(self, f: TransactionFilter, **cursor: str) -> str:
        params = {**f.to_params(), **cursor}
        return f"{routes.PAYMENTS}?{urlencode(params)}" if params else routes.PAYMENTS

    @rx.var
    def export_url(self) -> str:
        """The CSV of exactly the rows these filters select (every page of them)."""
        params = self._filter().to_params()
        return f"{routes.PAYMENTS_EXPORT}?{urlencode(params)}" if params else routes.PAYMENTS_EXPORT

    @rx.var
    def filtered(self) -> bool:
        return bool(self._filter().to_params())

    @rx.event
    @signed_in
    async def load(self):
        params = self.router.page.params
        f = TransactionFilter.from_params(params)
        shown = f.to_params()
        for param, var in FILTER_VARS.items():
            setattr(self, var, shown.get(param, ALL if param in SELECT_FILTERS else ""))
        after = Cursor.decode(query_param(params, "after"))
        before = None if after else Cursor.decode(query_param(params, "before"))

        def read(session: Session):
            profile = current_profile(session)
            page = transactions.transaction_page(
                session, f, time_zone=profile.time_zone, after=after, before=before
            )
            return page, profile

        page, profile = await database().run(read)
        self.rows = [_row(t, profile) for t in page.rows]
        base = f.to_params()
        self.newer_query = urlencode({**base, "before": page.newer.encode()}) if page.newer else ""
        self.older_query = urlencode({**base, "after": page.older.encode()}) if page.older else ""
        self.loaded = True

    def _go(self, *, replace: bool = False, **changes: str):
        values = {**self._params(), **changes}
        # A new filter starts at the newest rows: the cursor is left behind.
        return rx.redirect(self._url(TransactionFilter.from_params(values)), replace=replace)

    @rx.event
    @signed_in
    async def set_filter(self, param: str, value: str):
        """One filter changed, named by its URL query parameter (status, method, type...)."""
        if param not in FILTER_VARS or param == "q":
            return None
        return self._go(**{param: str(value)})

    @rx.event
    @signed_in
    async def search(self, value: str):
        # Typing replaces the entry in the history instead of adding one per pause.
        return self._go(replace=True, q=str(value)[: transactions.MAX_SEARCH])

    @rx.event
    @signed_in
    async def clear_filters(self):
        return rx.redirect(routes.PAYMENTS)
