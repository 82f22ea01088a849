"""The outbox: emails are rows added in the caller's transaction, at most one per dedupe key.

Also the newest-first listing the Outbox page shows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import defer, make_transient_to_detached
from sqlmodel import Session, col, func, select

from mioapp.business import BusinessProfile, current_profile
from mioapp.crypto import encrypt
from mioapp.db import run_after_commit
from mioapp.jobs.outbox import send_outbox
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
    # One statement: a key queued before (in an earlier or a concurrent transaction) makes
    # it insert nothing, without an error that would spoil the caller's transaction.
    table = EmailMessage.__table__
    insert = _INSERTS[session.get_bind().dialect.name](table)
    values = {c.key: getattr(message, c.key) for c in table.columns if c.key != "id"}
    new_id = session.execute(
        insert.values(values)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    ).scalar()
    if new_id is None:
        logger.info("Email %s was queued before", dedupe_key)
        return None
    # The row is written; the object joins the session as that row, without reading it back.
    message.id = new_id
    make_transient_to_detached(message)
    session.add(message)
    run_after_commit(session, send_outbox)
    return message


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class OutboxPage:
    messages: list[EmailMessage]
    total: int
    page: int
    page_count: int


def list_emails(session: Session, *, page: int = 1, page_size: int = PAGE_SIZE) -> OutboxPage:
    """One page of the outbox, newest first; the bodies stay unloaded until read."""
    total = session.exec(select(func.count()).select_from(EmailMessage)).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(page, 1), page_count)
    query = (
        select(EmailMessage)
        .options(defer(EmailMessage.text_body), defer(EmailMessage.html_body))
        .order_by(col(EmailMessage.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    messages = list(session.exec(query).all())
    return OutboxPage(messages=messages, total=total, page=page, page_count=page_count)
