"""The customers list's sort keys (outstanding total, last activity), recomputed from the
ledger when a transaction that changed a customer's bookings, payments or refunds commits.

They are a copy kept for ordering a million customers off an index; what a page shows is
still read from the ledger. ORM writes keep them by themselves; a bulk load through Core
(the demo seed, a migration) calls `refresh` once afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

# A module, not its names: the models import this module at their end (see there).
from mioapp.billing import allocated
from mioapp.db import customers_flushed
from mioapp.models import Booking, Customer, Payment, PaymentAllocation, Refund, RefundAllocation

_customer = Customer.__table__
_booking = Booking.__table__
_payment = Payment.__table__
_refund = Refund.__table__


def _greatest(dialect: str, *values: sa.ColumnElement) -> sa.ColumnElement:
    # SQLite's scalar max() is PostgreSQL's greatest(); every value here is non-null.
    return sa.func.greatest(*values) if dialect == "postgresql" else sa.func.max(*values)


@lru_cache(maxsize=4)
def refresh_statement(dialect: str, *, every: bool = False) -> sa.Update:
    """UPDATE customer sort keys from the ledger: for the customers given as its `ids`
    parameter (a list), or for every customer (`every`).

    Built once per dialect: a commit that touched a customer runs it, and building this
    expression costs more than the statement itself takes to run."""
    booking = _booking.alias("b")
    paid = allocated.paid_column(booking.c.id)
    refunded = allocated.refunded_column(booking.c.id)
    owed = booking.c.total_amount - paid + refunded
    # billing.ledger.BookingMoney.balance: never negative, an overpayment is no credit.
    outstanding = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((owed > 0, owed), else_=0)), 0))
        .where(booking.c.customer_id == _customer.c.id)
        .scalar_subquery()
    )
    created = _customer.c.created_at

    def latest(select: sa.Select) -> sa.ColumnElement:
        return sa.func.coalesce(select.scalar_subquery(), created)

    last_booking = sa.select(sa.func.max(_booking.c.created_at)).where(
        _booking.c.customer_id == _customer.c.id
    )
    last_payment = sa.select(sa.func.max(_payment.c.created_at)).where(
        _payment.c.customer_id == _customer.c.id
    )
    last_refund = (
        sa.select(sa.func.max(_refund.c.created_at))
        .select_from(_refund.join(_payment, _payment.c.id == _refund.c.payment_id))
        .where(_payment.c.customer_id == _customer.c.id)
    )
    statement = _customer.update().values(
        outstanding_total=outstanding,
        last_activity_at=_greatest(
            dialect, created, latest(last_booking), latest(last_payment), latest(last_refund)
        ),
    )
    if not every:
        statement = statement.where(_customer.c.id.in_(sa.bindparam("ids", expanding=True)))
    return statement


def refresh(connection: sa.Connection, customer_ids: Iterable[int] | None = None) -> None:
    """Recompute the sort keys of `customer_ids` (all customers when None)."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids is None:
        connection.execute(refresh_statement(connection.dialect.name, every=True))
    elif ids:
        connection.execute(refresh_statement(connection.dialect.name), {"ids": ids})


def _customer_of(session: OrmSession, obj: object) -> int | None:
    if isinstance(obj, Booking | Payment):
        return obj.customer_id
    with session.no_autoflush:
        if isinstance(obj, PaymentAllocation | Refund):
            payment = session.get(Payment, obj.payment_id)
            return payment.customer_id if payment else None
        if isinstance(obj, RefundAllocation):
            booking = session.get(Booking, obj.booking_id)
            return booking.customer_id if booking else None
    return None


_TOUCHED = "mioapp.summary_customers"


@sa.event.listens_for(OrmSession, "after_flush")
def _note_touched(session: OrmSession, _context) -> None:
    session.info.setdefault(_TOUCHED, set()).update(customers_flushed(session, _customer_of))


@sa.event.listens_for(OrmSession, "before_commit")
def _refresh_touched(session: OrmSession) -> None:
    # At commit, after the last flush: the customer rows are written last, so a transaction
    # that locked a payment never waits for a customer row while holding one (the charge
    # flows lock the customer first). Ids noted in a transaction that rolled back are
    # refreshed with the next commit: a recompute too many, never a stale key.
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        refresh(session.connection(), touched)
