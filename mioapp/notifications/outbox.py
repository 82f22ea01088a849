"""The outbox: emails are rows added in the caller's transaction, at most one per dedupe key.

Also the newest-first listing the Outbox page shows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import defer, make_transient_to_detached
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


@dataclass(frozen=True)
class Email:
    """One email to queue: see `queue_email` for the fields."""

    dedupe_key: str
    kind: str
    to_address: str
    context: Mapping[str, Any]
    customer_id: int | None = None
    secret: str | None = None


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
    email = Email(dedupe_key, kind, to_address, context, customer_id, secret)
    queued = queue_emails(session, [email], profile=profile)
    return queued[0] if queued else None


def queue_emails(
    session: Session, emails: list[Email], *, profile: BusinessProfile | None = None
) -> list[EmailMessage]:
    """`queue_email` for several emails in one statement; returns those newly queued (a
    key queued before, in an earlier or a concurrent transaction, is left out)."""
    queued = []
    for row in insert_emails(session, emails, profile=profile):
        # The row is written; the object joins the session as that row, without a re-read.
        message = EmailMessage(**row)
        make_transient_to_detached(message)
        session.add(message)
        queued.append(message)
    return queued


def insert_emails(
    session: Session, emails: list[Email], *, profile: BusinessProfile | None = None
) -> list[dict[str, Any]]:
    """`queue_emails` without ORM objects: returns the rows newly queued, with their `id`.
    For callers that need no objects, such as a payment's receipts, queued with every
    successful charge."""
    if not emails:
        return []
    profile = profile or current_profile(session)
    rows = [_row(email, profile) for email in emails]
    # One statement: a key queued before makes its row insert nothing, without an error
    # that would spoil the caller's transaction. Executemany with RETURNING: SQLAlchemy
    # sends the rows as one multi-row INSERT, from one cached compiled statement.
    new_ids = dict(session.execute(_insert(session.get_bind().dialect.name), rows).all())
    queued = []
    for row in rows:
        if row["dedupe_key"] not in new_ids:
            logger.info("Email %s was queued before", row["dedupe_key"])
            continue
        queued.append({**row, "id": new_ids.pop(row["dedupe_key"])})
    if queued:
        run_after_commit(session, send_outbox)
    return queued


def _row(email: Email, profile: BusinessProfile) -> dict[str, Any]:
    """The outbox row of `email`, every column but `id`: rendered now, the model's
    defaults (queued, no attempts yet, due now) for the rest."""
    rendered = render_email(email.kind, email.context, profile=profile, secret=email.secret)
    return {
        **{
            name: field.get_default(call_default_factory=True)
            for name, field in EmailMessage.model_fields.items()
            if name != "id" and not field.is_required()
        },
        "dedupe_key": email.dedupe_key,
        "kind": email.kind,
        "to_address": email.to_address,
        "subject": rendered.subject[:300],
        "text_body": rendered.text,
        "html_body": rendered.html,
        "secret_encrypted": (
            encrypt(email.secret, secret_key=get_settings().secret_key_value())
            if email.secret is not None
            else None
        ),
        "customer_id": email.customer_id,
    }


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@lru_cache(maxsize=2)
def _insert(dialect: str):
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key, id; built once."""
    table = EmailMessage.__table__
    return (
        _INSERTS[dialect](table)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.dedupe_key, table.c.id)
    )


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
