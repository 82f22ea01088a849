"""A raw Socket.IO client of Reflex's event websocket: calls handlers by name, as any client
could, for the security tests and the load benchmarks."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import socketio

NAMESPACE = "/_event"  # Reflex's Socket.IO namespace (and path) for state events


def connect(base_url: str, origin: str, cookie: str | None = None) -> socketio.Client:
    """A websocket to the app at `base_url`, claiming `origin`, carrying `cookie` if given."""
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
    client.connect(
        f"{base_url}?token={uuid.uuid4()}",
        headers={"Cookie": cookie} if cookie else {},
        socketio_path="/_event",
        transports=["websocket"],
        namespaces=[NAMESPACE],
        wait_timeout=10,
    )
    return client


def _emit(
    client: socketio.Client,
    state: type,
    handler: str,
    payload: dict,
    path: str,
    params: dict | None,
    headers: dict | None,
) -> None:
    router_data = {"pathname": path, "query": params or {}, "asPath": path}
    if headers is not None:
        router_data["headers"] = headers
    client.emit(
        "event",
        {
            "name": f"{state.get_full_name()}.{handler}",
            "payload": payload,
            "router_data": router_data,
        },
        namespace=NAMESPACE,
    )


def call(
    client: socketio.Client,
    state: type,
    handler: str,
    payload: dict,
    path: str,
    params: dict | None = None,
    headers: dict | None = None,
    settle: float = 1.5,
) -> list:
    """Send one event and collect every reply that arrives within `settle` seconds."""
    replies: list = []
    client.on("event", replies.append, namespace=NAMESPACE)
    _emit(client, state, handler, payload, path, params, headers)
    time.sleep(settle)
    return replies


def timed_call(
    client: socketio.Client,
    state: type,
    handler: str,
    payload: dict,
    path: str,
    params: dict | None = None,
    timeout: float = 30.0,
) -> float:
    """Seconds from sending one event to its first reply (the handler's state update)."""
    answered = threading.Event()
    client.on("event", lambda _reply: answered.set(), namespace=NAMESPACE)
    started = time.perf_counter()
    _emit(client, state, handler, payload, path, params, None)
    if not answered.wait(timeout):
        raise TimeoutError(f"{handler} did not answer in {timeout:.0f} s")
    return time.perf_counter() - started


class AsyncReflexClient:
    """One tab's websocket for load benchmarks: many of them share one event loop (a thread
    per client, as the sync client has, would make the load generator the bottleneck)."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self._client = client
        self._answered: asyncio.Event | None = None
        self.last_reply: object = None
        client.on("event", self._reply, namespace=NAMESPACE)

    @classmethod
    async def connect(
        cls, base_url: str, origin: str, cookie: str | None = None
    ) -> AsyncReflexClient:
        headers = {"Origin": origin, **({"Cookie": cookie} if cookie else {})}
        # As websocket options, not `connect(headers=)`: engine.io moves a Cookie header from
        # there into aiohttp's cookie jar, which drops cookies for IP addresses.
        client = socketio.AsyncClient(
            reconnection=False, websocket_extra_options={"headers": headers}
        )
        await client.connect(
            f"{base_url}?token={uuid.uuid4()}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=30,
        )
        return cls(client)

    async def _reply(self, reply) -> None:
        self.last_reply = reply
        if self._answered is not None:
            self._answered.set()

    async def call(
        self,
        state: type,
        handler: str,
        payload: dict,
        path: str,
        params: dict | None = None,
        timeout: float = 60.0,
    ) -> float:
        """Seconds from sending one event to its first reply (the handler's state update)."""
        return await self.call_event(
            f"{state.get_full_name()}.{handler}", payload, path, params, timeout
        )

    async def call_event(
        self,
        name: str,
        payload: dict,
        path: str,
        params: dict | None = None,
        timeout: float = 60.0,
    ) -> float:
        """`call` by the event's full name (`<state's full name>.<handler>`), for processes
        that do not import the app."""
        self._answered = asyncio.Event()
        started = time.perf_counter()
        await self._client.emit(
            "event",
            {
                "name": name,
                "payload": payload,
                "router_data": {"pathname": path, "query": params or {}, "asPath": path},
            },
            namespace=NAMESPACE,
        )
        await asyncio.wait_for(self._answered.wait(), timeout)
        return time.perf_counter() - started

    async def disconnect(self) -> None:
        await self._client.disconnect()
