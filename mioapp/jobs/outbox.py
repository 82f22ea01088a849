"""Outbox jobs: drain due emails over SMTP, on a nudge after each commit and every minute."""

from __future__ import annotations

import logging

from huey import RedisExpireHuey, crontab

from mioapp.db import open_session
from mioapp.jobs import huey
from mioapp.notifications.sender import CLAIM_LEASE, send_due
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

BATCH = 20
# One drain at a time per queue: the rest would only find claimed rows. Claims with leases
# keep two drains from sending one email twice even without the lock. On Redis the lock
# expires after a claim lease, so a consumer that died while draining cannot block mail for
# good; SQLite keys cannot expire, and every consumer of a SQLite queue (one machine) clears
# stale locks when it starts.
_lock_ttl = int(CLAIM_LEASE.total_seconds()) if isinstance(huey, RedisExpireHuey) else None
outbox_lock = huey.lock_task("send-outbox", ttl=_lock_ttl)


def drain() -> int:
    """Send due emails, batch after batch while batches come back full; returns how many."""
    settings = get_settings()
    total = 0
    while True:
        with open_session() as session:
            sent = send_due(
                session, smtp_url=settings.smtp_url, mail_from=settings.mail_from, batch=BATCH
            )
        total += sent
        if sent < BATCH:
            return total


# A nudge that finds the lock taken comes back twice, a few seconds apart: the running drain
# may have made its last claim just before this email was committed.
@huey.task(retries=2, retry_delay=3)
@outbox_lock
def send_outbox() -> int:
    """Deliver what is due now: enqueued after each commit that queued an email."""
    sent = drain()
    if sent:
        logger.info("Outbox: %s email(s) sent", sent)
    return sent


@huey.periodic_task(crontab(minute="*"))
def send_outbox_every_minute() -> None:
    """Retries whose backoff has passed, and emails whose nudge was lost, go out within a minute."""
    send_outbox()
