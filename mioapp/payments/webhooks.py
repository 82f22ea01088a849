"""Stripe webhooks: verify the signature, store the event id once, re-fetch the object, apply it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from mioapp.models import Payment, StripeEvent, utcnow
from mioapp.payments import charges, connection, gateway
from mioapp.payments.gateway import GatewayError, StripeCredentials

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
REFUND_EVENTS = frozenset({"charge.refunded"})

CredentialsFor = Callable[[Session], StripeCredentials | None]
# Runs inside the transaction that stores the event; commits it, or returns False after
# rolling back because the object is not ours.
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


@dataclass(frozen=True)
class _Event:
    id: str
    type: str
    livemode: bool
    object_id: str | None
    payment_intent_id: str | None  # charge events name the intent they belong to


def _short_str(value: object, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _verified_event(payload: bytes, signature: str | None, secret: str) -> _Event | None:
    """The event if `signature` signs exactly these bytes, recently; None otherwise."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, TOLERANCE_SECONDS)
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    event_id, event_type = _short_str(data.get("id"), 255), _short_str(data.get("type"), 100)
    if event_id is None or event_type is None:
        return None
    obj = (data.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        obj = {}
    return _Event(
        id=event_id,
        type=event_type,
        livemode=bool(data.get("livemode")),
        object_id=_short_str(obj.get("id"), 255),
        payment_intent_id=_short_str(obj.get("payment_intent"), 255),
    )


def _already_stored(session: Session, event_id: str) -> bool:
    found = session.exec(select(StripeEvent.id).where(StripeEvent.event_id == event_id)).first()
    return found is not None


def _refetch(session: Session, credentials: StripeCredentials, event: _Event) -> Effect | None:
    """Ask Stripe for the event's object as it is now; the event body is only a pointer.

    Called with no transaction open, so no lock is held while Stripe answers. Returns what
    to do with the answer, or None when the event concerns nothing of ours.
    """
    if event.type in INTENT_EVENTS and event.object_id:
        intent = gateway.retrieve_intent(credentials, event.object_id)
        return lambda s: charges.apply_payment_intent(s, intent) is not None
    if event.type in REFUND_EVENTS and event.payment_intent_id:
        payment_id = session.exec(
            select(Payment.id).where(Payment.stripe_payment_intent_id == event.payment_intent_id)
        ).first()
        session.rollback()
        if payment_id is None:
            return None
        refunds = gateway.list_refunds(credentials, event.payment_intent_id)

        def record(s: Session) -> bool:
            charges.record_refunds(s, s.get(Payment, payment_id), refunds)
            return True

        return record
    return None


def _store(session: Session, event: _Event, *, error: str | None = None) -> bool:
    """Add the event's row in a new transaction; False if another delivery stored it first.

    On PostgreSQL a concurrent insert of the same id waits for the other transaction, so a
    delivery rolled back by a transient failure leaves the id free for Stripe's retry.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.add(
        StripeEvent(
            event_id=event.id,
            type=event.type,
            object_id=event.object_id,
            livemode=event.livemode,
            processed_at=utcnow(),
            error=error[:1000] if error else None,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _record(
    session: Session, event: _Event, effect: Effect | None, *, error: str | None = None
) -> WebhookOutcome:
    """Store the event and its effect in one transaction: both land, or neither does."""
    if not _store(session, event, error=error):
        return DUPLICATE
    if effect is not None and effect(session):
        logger.info("Stripe event %s (%s) applied", event.id, event.type)
        return WebhookOutcome(200, "Applied.")
    if effect is not None and not _store(session, event):
        # apply_payment_intent rolled the row back with its "not ours" answer; store it again.
        return DUPLICATE
    session.commit()
    logger.info("Stripe event %s (%s) stored; nothing of ours to change", event.id, event.type)
    return WebhookOutcome(200, "Nothing to do.")


def _handle(
    session: Session, payload: bytes, signature: str | None, credentials_for: CredentialsFor
) -> WebhookOutcome:
    credentials = credentials_for(session)
    secret = credentials.webhook_secret if credentials is not None else None
    if not secret:
        logger.error("Stripe webhook refused: no webhook signing secret is configured")
        return NO_SECRET
    event = _verified_event(payload, signature, secret)
    if event is None:
        logger.warning("Stripe webhook refused: missing, invalid or expired signature")
        return REJECTED
    if _already_stored(session, event.id):
        return DUPLICATE
    session.rollback()
    try:
        effect = _refetch(session, credentials, event)
    except GatewayError as exc:
        if exc.transient:
            logger.warning("Stripe event %s deferred: Stripe unreachable", event.id)
            return RETRY
        if exc.code != "resource_missing":
            logger.error("Stripe event %s not processed: %s", event.id, exc.message)
            return WebhookOutcome(500, "Could not read the object from Stripe.")
        # Stripe does not know the object under these keys: nothing of ours can change.
        return _record(session, event, None, error=exc.message)
    return _record(session, event, effect)


def handle(
    payload: bytes,
    signature: str | None,
    *,
    open_session: Callable[[], Session],
    credentials_for: CredentialsFor = connection.active_credentials,
) -> WebhookOutcome:
    """Process one delivery of `POST /api/stripe/webhook`; `payload` is the raw body.

    Blocking (database and Stripe calls): run it in a worker thread.
    """
    try:
        with open_session() as session:
            return _handle(session, payload, signature, credentials_for)
    except OperationalError as exc:
        # Locked database or lock timeout: the transaction is gone, so a retry is clean.
        logger.warning("Stripe webhook deferred, database busy: %s", exc.orig)
        return RETRY
