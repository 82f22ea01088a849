"""The sweep: what nobody is watching gets settled (unanswered, processing and abandoned
attempts, refunds whose answer was lost) and payment links whose time has run out expire,
their unfinished intents canceled at Stripe. Run every minute by the job engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mioapp.db import Database
from mioapp.models import utcnow
from mioapp.payments import links, reconcile, refunds
from mioapp.payments.gateway import StripeCredentials


@dataclass(frozen=True)
class SweepReport:
    payments_changed: int
    refunds_checked: int
    links_expired_with_attempts: int

    def __bool__(self) -> bool:
        return any((self.payments_changed, self.refunds_checked, self.links_expired_with_attempts))


async def sweep(
    db: Database, credentials: StripeCredentials, *, now: datetime | None = None
) -> SweepReport:
    """One pass; every step is idempotent, so a pass repeated (or run twice) changes nothing."""
    now = now or utcnow()
    changed = await reconcile.settle_due(db, credentials, now=now)
    pending = await db.run(lambda s: refunds.pending_refunds_due(s, now=now, limit=50))
    for refund_id in pending:
        await refunds.settle_refund(db, credentials, refund_id, now=now)
    unfinished = await db.run(lambda s: links.expire_due(s, now=now))
    for payment_id in unfinished:
        await reconcile.settle_payment(db, credentials, payment_id, release=True, now=now)
    return SweepReport(changed, len(pending), len(unfinished))
