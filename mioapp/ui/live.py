"""Open customer pages follow changes pushed to them: which tab shows which customer in this
web process, and the per-process subscription that refreshes them (no polling).

A notice (see `mioapp.changes`) names customers; each tab of this process showing one of
them is refreshed through Reflex's `app.modify_state`, which sends the delta to the browser
wherever its websocket is (with Redis, on any process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from reflex.istate.manager.token import BaseStateToken

from mioapp import changes
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

# Notices arriving this close together are handled as one refresh per customer.
COALESCE_SECONDS = 0.05


class CustomerWatchers:
    """Tabs (client tokens) of this process showing each customer, and their refresh."""

    def __init__(self) -> None:
        self._by_customer: dict[int, set[str]] = {}
        self._state_cls: dict[str, type] = {}
        self._pending: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_scheduled = False

    def watch(self, customer_id: int, client_token: str, state_cls: type) -> None:
        """`client_token`'s tab now shows `customer_id` (and no other customer)."""
        self.unwatch(client_token)
        self._by_customer.setdefault(customer_id, set()).add(client_token)
        self._state_cls[client_token] = state_cls
        self._loop = self._loop or asyncio.get_running_loop()

    def unwatch(self, client_token: str) -> None:
        self._state_cls.pop(client_token, None)
        for customer_id, tokens in list(self._by_customer.items()):
            tokens.discard(client_token)
            if not tokens:
                del self._by_customer[customer_id]

    def watching(self, customer_id: int) -> set[str]:
        return set(self._by_customer.get(customer_id, ()))

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify_threadsafe(self, customer_ids: set[int]) -> None:
        """From any thread (a commit happens on a worker thread): refresh soon."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self.notify, set(customer_ids))

    def notify(self, customer_ids: set[int]) -> None:
        """On the event loop: queue the customers, refresh them together a moment later."""
        self._pending |= {c for c in customer_ids if c in self._by_customer}
        if self._pending and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(
                COALESCE_SECONDS, lambda: asyncio.ensure_future(self._flush())
            )

    async def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, set()
        for customer_id in pending:
            for token in self.watching(customer_id):
                await self._refresh(customer_id, token)

    async def _refresh(self, customer_id: int, token: str) -> None:
        from reflex.utils.prerequisites import get_app

        state_cls = self._state_cls.get(token)
        if state_cls is None:
            return
        try:
            app = get_app().app
            async with app.modify_state(BaseStateToken(ident=token, cls=state_cls)) as root:
                state = await root.get_state(state_cls)
                if not await state._follow_change(customer_id):
                    self.unwatch(token)  # the tab moved on to another page or customer
        except Exception:
            logger.warning("could not refresh the page of customer %s", customer_id, exc_info=True)
            self.unwatch(token)


watchers = CustomerWatchers()


async def _listen_to_redis(url: str) -> None:
    import redis.asyncio as aioredis

    while True:
        client = aioredis.Redis.from_url(url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(changes.CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        watchers.notify(set(json.loads(message["data"])))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("change notices from Redis interrupted; reconnecting", exc_info=True)
            await asyncio.sleep(1)
        finally:
            await client.aclose()


@contextlib.asynccontextmanager
async def change_notices() -> AsyncIterator[None]:
    """A Reflex lifespan task: this process hears about changes while it serves pages. It
    does no work of its own (each process subscribes for its own open tabs)."""
    watchers.bind(asyncio.get_running_loop())
    url = get_settings().redis_url
    listener = asyncio.create_task(_listen_to_redis(url)) if url else None
    changes.set_local_listener(watchers.notify_threadsafe)
    try:
        yield
    finally:
        changes.set_local_listener(None)
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
