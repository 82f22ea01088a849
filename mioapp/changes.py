"""Change notices: after a transaction commits, say which customers' money or mail changed,
so open pages of those customers update themselves instead of polling.

Every session notes the customers of the payments, refunds, links, cards, bookings and
emails it writes; on commit the ids go to every subscriber:
- in this process, to the listener the web server registers (`set_local_listener`);
- with REDIS_URL, on a Redis pub/sub channel that every web process (any host) listens to;
- without Redis, from a process with no listener (the job consumer, a script), as a signed
  POST to the web app's `/api/internal/changes`.
A lost notice costs freshness, never money: pages read the database when they update.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from mioapp.db import customers_flushed
from mioapp.models import (
    Booking,
    EmailMessage,
    Payment,
    PaymentLink,
    Refund,
    SavedCard,
)
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "mio:customer-changes"
INTERNAL_PATH = "/api/internal/changes"
SIGNATURE_HEADER = "X-Mio-Signature"
# A signed notice older than this is refused (replays).
MAX_AGE_SECONDS = 60

Listener = Callable[[set[int]], None]
_local_listener: Listener | None = None
_redis_lock = threading.Lock()
_redis_client = None


def set_local_listener(listener: Listener | None) -> None:
    """The web server's hub registers here; notices then stay in this process (or go
    through Redis when it is configured, which reaches this process too)."""
    global _local_listener
    _local_listener = listener


def _customer_of(session: OrmSession, obj: object) -> int | None:
    if isinstance(obj, Payment | PaymentLink | SavedCard | Booking | EmailMessage):
        return obj.customer_id
    if isinstance(obj, Refund):
        with session.no_autoflush:
            payment = session.get(Payment, obj.payment_id)
        return payment.customer_id if payment else None
    return None


@sa.event.listens_for(OrmSession, "after_flush")
def _note_changes(session: OrmSession, _context) -> None:
    changed = session.info.setdefault("mio_changed_customers", set())
    changed.update(customers_flushed(session, _customer_of))


@sa.event.listens_for(OrmSession, "after_commit")
def _announce(session: OrmSession) -> None:
    changed = session.info.pop("mio_changed_customers", None)
    if changed:
        publish(changed)


@sa.event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop("mio_changed_customers", None)


def publish(customer_ids: Iterable[int]) -> None:
    """Tell every open page of these customers to read them again."""
    ids = {int(i) for i in customer_ids}
    if not ids:
        return
    settings = get_settings()
    try:
        if settings.redis_url:
            _redis().publish(CHANNEL, json.dumps(sorted(ids)))
        elif _local_listener is not None:
            _local_listener(ids)
        elif settings.internal_base_url:
            _post(ids, settings.internal_base_url)
    except Exception as exc:
        # Freshness only: the pages still show the truth the next time they read.
        logger.warning("change notice for customers %s not delivered: %r", sorted(ids), exc)


def _redis():
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(get_settings().redis_url)
        return _redis_client


def sign(body: bytes, timestamp: int, secret: str) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str, now: float | None = None) -> bool:
    """Whether `header` ("<timestamp>,<hmac>") signs `body` with `secret`, recently."""
    try:
        timestamp_text, signature = (header or "").split(",", 1)
        timestamp = int(timestamp_text)
    except ValueError:
        return False
    if abs((now or time.time()) - timestamp) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(sign(body, timestamp, secret), signature)


def _post(ids: set[int], base_url: str) -> None:
    body = json.dumps(sorted(ids)).encode()
    timestamp = int(time.time())
    signature = sign(body, timestamp, get_settings().secret_key_value())
    url = base_url.rstrip("/") + INTERNAL_PATH
    httpx.post(
        url,
        content=body,
        headers={SIGNATURE_HEADER: f"{timestamp},{signature}", "Content-Type": "application/json"},
        timeout=2.0,
    )
