"""Runs the outbox's MailWorker for as long as the Reflex backend serves requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import reflex as rx
from sqlmodel import Session

from mioapp.notifications.sender import MailWorker, parse_smtp_url
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def mail_worker(open_session: Callable[[], Session] = rx.session) -> AsyncIterator[None]:
    """A Reflex lifespan task: start sending the outbox with the backend, stop with it.

    Only the server runs lifespan tasks, so `reflex db` and `reflex export` never send mail.
    Each backend worker process runs one; claims with leases keep them from sending twice.
    """
    settings = get_settings()
    worker = MailWorker(
        open_session=open_session, smtp_url=settings.smtp_url, mail_from=settings.mail_from
    )
    worker.start()
    target = parse_smtp_url(settings.smtp_url)
    # Host and port only: the URL may carry a password.
    logger.info("Mail worker sending the outbox through %s:%s", target.host, target.port)
    try:
        yield
    finally:
        # `stop` joins the thread (at most one SMTP pass): off the event loop.
        await asyncio.to_thread(worker.stop)
