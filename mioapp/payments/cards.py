"""Saved cards: which of a customer's cards may be charged, and remembering a new one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from mioapp.billing.errors import ChargeError
from mioapp.models import SavedCard, utcnow
from mioapp.payments.gateway import CardDetails


def is_expired(card: SavedCard, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (card.exp_year, card.exp_month) < (now.year, now.month)


# Decline codes that mean the card will not work again (not "try later").
DEAD_CARD_CODES = frozenset({"expired_card", "lost_card", "stolen_card", "pickup_card"})


def note_decline(session: Session, *, saved_card_id: int, code: str | None) -> None:
    """Remember that a charge found the card dead, so it is not picked again unwarned."""
    if code in DEAD_CARD_CODES:
        card = session.get(SavedCard, saved_card_id)
        card.declined_code, card.declined_at = code, utcnow()
        session.flush()


def usable_card(session: Session, *, customer_id: int, saved_card_id: int) -> SavedCard:
    card = session.get(SavedCard, saved_card_id)
    if card is None or card.customer_id != customer_id:
        raise ChargeError("Choose one of this customer's saved cards.", field="card")
    if is_expired(card):
        raise ChargeError("That card has expired. Choose another card.", field="card")
    return card


def save_card(session: Session, *, customer_id: int, card: CardDetails) -> SavedCard:
    """Remember a card Stripe attached to the customer; the first one becomes the default."""
    existing = session.exec(
        select(SavedCard).where(SavedCard.stripe_payment_method_id == card.payment_method_id)
    ).first()
    if existing is not None:
        return existing
    has_default = session.exec(
        select(SavedCard.id).where(SavedCard.customer_id == customer_id, SavedCard.is_default)
    ).first()
    saved = SavedCard(
        customer_id=customer_id,
        stripe_payment_method_id=card.payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=has_default is None,
    )
    session.add(saved)
    session.flush()
    return saved
