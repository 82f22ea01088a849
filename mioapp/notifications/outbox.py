"""The outbox: emails are rows added in the caller's transaction, at most one per dedupe key.

Also the newest-first listing the Outbox page shows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from mioapp.business import BusinessProfile, current_profile
from mioapp.crypto import encrypt
from mioapp.db import run_after_commit
from mioapp.jobs.outbox import send_outbox
from mioapp.keyset import Order, page_of
from mioapp.models import EmailMessage
from mioapp.notifications.render import render_email
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


def queue_email(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    to_address: str,
    context: Mapping[str, Any],
    customer_id: int | None = None,
    secret: str | None = None,
    profile: BusinessProfile | None = None,
) -> EmailMessage | None:
    """Render `kind` for the business `profile` (default: the current one) and add it to the
    outbox; None if `dedupe_key` was queued before.

    Nothing is committed: the email lands with the caller's change or not at all, and once
    that transaction commits the job engine is nudged to send it. Choose the key from what
    the email announces (`receipt:payment:42`), so a redelivered webhook or a reload finds
    the existing row instead of mailing twice (never from the secret).

    `secret` is a value of the context that must not be readable from a copy of the
    database (a pay URL's token): the stored parts hold a slot instead, and the secret is
    kept encrypted with SECRET_KEY until the sender has put it into the email it sends.
    """
    if _exists(session, dedupe_key):
        return None
    rendered = render_email(
        kind, context, profile=profile or current_profile(session), secret=secret
    )
    message = EmailMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        to_address=to_address,
        subject=rendered.subject[:300],
        text_body=rendered.text,
        html_body=rendered.html,
        secret_encrypted=(
            encrypt(secret, secret_key=get_settings().secret_key_value())
            if secret is not None
            else None
        ),
        customer_id=customer_id,
    )
    try:
        # The savepoint confines a concurrent duplicate's unique violation to this insert,
        # leaving the caller's transaction usable.
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        logger.info("Email %s was already queued by a concurrent transaction", dedupe_key)
        return None
    run_after_commit(session, send_outbox)
    return message


def _exists(session: Session, dedupe_key: str) -> bool:
    query = select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key)
    return session.exec(query).first() is not None


@dataclass(frozen=True)
class OutboxPage:
    messages: list[EmailMessage]
    total: int
    has_previous: bool
    has_next: bool


# Newest first: the id is the order emails were queued in.
NEWEST_FIRST = Order((col(EmailMessage.id),), descending=True)


def list_emails(
    session: Session,
    *,
    after: int | None = None,
    before: int | None = None,
    page_size: int = PAGE_SIZE,
) -> OutboxPage:
    """One page of the outbox, newest first: the first, the one after email `after` or the one
    before email `before` (keyset). The bodies stay unloaded until read."""
    total = session.exec(select(func.count()).select_from(EmailMessage)).one()
    query = select(EmailMessage).options(
        defer(EmailMessage.text_body), defer(EmailMessage.html_body)
    )
    page = page_of(
        session,
        query,
        NEWEST_FIRST,
        after=(after,) if after is not None else None,
        before=(before,) if before is not None else None,
        size=page_size,
    )
    if before is not None and not page.items:
        return list_emails(session, page_size=page_size)
    return OutboxPage(
        messages=page.items, total=total, has_previous=page.has_previous, has_next=page.has_next
    )
