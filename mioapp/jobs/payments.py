"""Payment jobs: the sweep (payments/sweep.py) every minute, one at a time."""

from __future__ import annotations

import asyncio
import logging

from huey import RedisExpireHuey, crontab

from mioapp.db import database
from mioapp.jobs import huey
from mioapp.payments import gateway
from mioapp.payments.connection import active_credentials
from mioapp.payments.sweep import SweepReport, sweep

logger = logging.getLogger(__name__)

# One sweep at a time per queue: two would only ask Stripe the same questions (each answer
# is applied idempotently, so even without the lock nothing would change twice). On Redis
# the lock expires, so a consumer that died mid-sweep cannot stop the sweeps for good.
_SWEEP_TTL = 15 * 60 if isinstance(huey, RedisExpireHuey) else None
sweep_lock = huey.lock_task("settle-payments", ttl=_SWEEP_TTL)


async def _sweep() -> SweepReport | None:
    db = database()
    credentials = await db.run(active_credentials)
    if credentials is None:
        return None
    try:
        return await sweep(db, credentials)
    finally:
        await gateway.close_clients()  # this loop ends with the task


@huey.periodic_task(crontab(minute="*"))
@sweep_lock
def settle_payments() -> SweepReport | None:
    """Settle open payments and refunds with Stripe, release abandoned holds, expire links."""
    report = asyncio.run(_sweep())
    if report:
        logger.info("Sweep: %s", report)
    return report
