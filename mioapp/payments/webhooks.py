"""Stripe webhooks: verify the signature, store the event id once, re-fetch the object, apply it."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from mioapp.db import Database
from mioapp.models import Payment, StripeEvent, utcnow
from mioapp.payments import connection, gateway, intents, refunds
from mioapp.payments.gateway import GatewayError, StripeCredentials, WebhookEvent

logger = logging.getLogger(__name__)

# Stripe's own default: a captured delivery cannot be replayed after five minutes.
TOLERANCE_SECONDS = 300
# How long a delivery queues behind a payment's row lock before Stripe is told to retry.
LOCK_TIMEOUT = "5s"
INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.canceled",
        "payment_intent.requires_action",
    }
)
REFUND_EVENTS = frozenset({"charge.refunded", "charge.refund.updated", "refund.updated"})

CredentialsFor = Callable[[Session], StripeCredentials | None]
# Runs inside the transaction that stores the event; True if it changed something of ours.
Effect = Callable[[Session], bool]


@dataclass(frozen=True)
class WebhookOutcome:
    """The answer for Stripe: 2xx settles the delivery, 5xx asks for a retry, 400 refuses it."""

    status_code: int
    message: str


REJECTED = WebhookOutcome(400, "Invalid signature.")
NO_SECRET = WebhookOutcome(400, "No webhook signing secret is configured.")
DUPLICATE = WebhookOutcome(200, "Already processed.")
RETRY = WebhookOutcome(503, "Temporarily unavailable; retry later.")


def _already_stored(session: Session, event_id: str) -> bool:
    found = session.exec(select(StripeEvent.id).where(StripeEvent.event_id == event_id)).first()
    return found is not None


async def _refetch(
    db: Database, credentials: StripeCredentials, event: WebhookEvent
) -> Effect | None:
    """Ask Stripe for the event's object as it is now; the event body is only a pointer.

    No transaction is open while Stripe answers. Returns what to do with the answer, or None
    when the event concerns nothing of ours.
    """
    if event.type in INTENT_EVENTS and event.object_id:
        intent = await gateway.retrieve_intent(credentials, event.object_id)
        return lambda s: intents.apply_payment_intent(s, intent) is not None
    if event.type in REFUND_EVENTS and event.payment_intent_id:
        payment_id = await db.run(
            lambda s: s.exec(
                select(Payment.id).where(
                    Payment.stripe_payment_intent_id == event.payment_intent_id
                )
            ).first()
        )
        if payment_id is None:
            return None
        found = await gateway.list_refunds(credentials, event.payment_intent_id)

        def record(s: Session) -> bool:
            refunds.record_refunds(s, payment_id, found)
            return True

        return record
    return None


def _store_event(session: Session, values: dict) -> bool:
    """Insert the event unless its id is stored; True if this transaction stored it.

    One statement, no savepoint: `ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike)
    leaves the caller's transaction usable when the id is taken.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(StripeEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(StripeEvent.id)
    )
    return session.execute(statement).first() is not None


def _record(
    session: Session, event: WebhookEvent, effect: Effect | None, *, error: str | None = None
) -> WebhookOutcome:
    """Store the event and its effect in one transaction: both land, or neither does.

    On PostgreSQL a concurrent insert of the same id waits for the other transaction, so a
    delivery rolled back by a transient failure leaves the id free for Stripe's retry.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    now = utcnow()
    stored = _store_event(
        session,
        {
            "processed_at": now,
            "received_at": now,
            "error": error[:1000] if error else None,
            "event_id": event.id,
            "type": event.type,
            "object_id": event.object_id,
            "livemode": event.livemode,
        },
    )
    if not stored:
        return DUPLICATE
    if effect is not None and effect(session):
        logger.info("Stripe event %s (%s) applied", event.id, event.type)
        return WebhookOutcome(200, "Applied.")
    logger.info("Stripe event %s (%s) stored; nothing of ours to change", event.id, event.type)
    return WebhookOutcome(200, "Nothing to do.")


class WebhookReceiver:
    """Handles `POST /api/stripe/webhook` deliveries for one process.

    Two per-process shortcuts keep a flood of redeliveries cheap, and neither can apply an
    event twice: the signing keys are read at most every CREDENTIALS_TTL seconds, and ids of
    events this process has stored are answered as duplicates without asking the database
    (the unique event id in the database stays the guarantee across processes).
    """

    CREDENTIALS_TTL = 5.0
    RECENT_EVENTS = 10_000

    def __init__(
        self,
        db: Database,
        credentials_for: CredentialsFor = connection.active_credentials,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.credentials_for = credentials_for
        self._clock = clock
        self._credentials: tuple[float, StripeCredentials | None] | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()

    async def _current_credentials(self) -> StripeCredentials | None:
        now = self._clock()
        if self._credentials is None or now - self._credentials[0] > self.CREDENTIALS_TTL:
            self._credentials = (now, await self.db.run(self.credentials_for))
        return self._credentials[1]

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        self._recent.move_to_end(event_id)
        while len(self._recent) > self.RECENT_EVENTS:
            self._recent.popitem(last=False)

    async def handle(self, payload: bytes, signature: str | None) -> WebhookOutcome:
        """Process one delivery; `payload` is the raw body."""
        try:
            credentials = await self._current_credentials()
            secret = credentials.webhook_secret if credentials is not None else None
            if not secret:
                logger.error("Stripe webhook refused: no webhook signing secret is configured")
                return NO_SECRET
            event = gateway.verified_event(payload, signature, secret, TOLERANCE_SECONDS)
            if event is None:
                logger.warning("Stripe webhook refused: missing, invalid or expired signature")
                return REJECTED
            if event.id in self._recent:
                return DUPLICATE
            outcome = await self._process(credentials, event)
        except OperationalError as exc:
            # Locked database or lock timeout: the transaction is gone, so a retry is clean.
            logger.warning("Stripe webhook deferred, database busy: %s", exc.orig)
            return RETRY
        if outcome.status_code < 300:
            self._remember(event.id)
        return outcome

    async def _process(self, credentials: StripeCredentials, event: WebhookEvent) -> WebhookOutcome:
        db = self.db
        if await db.run(lambda s: _already_stored(s, event.id)):
            return DUPLICATE
        try:
            effect = await _refetch(db, credentials, event)
        except GatewayError as exc:
            if exc.transient:
                logger.warning("Stripe event %s deferred: Stripe unreachable", event.id)
                return RETRY
            if exc.code != "resource_missing":
                logger.error("Stripe event %s not processed: %s", event.id, exc.message)
                return WebhookOutcome(500, "Could not read the object from Stripe.")
            # Stripe does not know the object under these keys: nothing of ours can change.
            message = exc.message
            return await db.run(lambda s: _record(s, event, None, error=message))
        return await db.run(lambda s: _record(s, event, effect))
