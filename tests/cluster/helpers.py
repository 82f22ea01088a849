"""What the cluster tests share: signing in, and which instance holds a page's websocket."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from devtools.cluster import UPSTREAM_HEADER
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD

# Pages load through nginx from instances under load; a reconnect after an instance died
# takes socket.io a few seconds. Generous, since a timeout here only makes a failure slower.
PATIENCE = 30_000


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible(timeout=PATIENCE)


def upstream_port(upstream: str) -> int:
    """The port of the instance that answered (nginx lists every one it tried, last wins)."""
    return int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])


class SocketWatch:
    """Which instance each websocket of a page landed on: nginx names it in a header of the
    101 answer, which Chromium reports over the DevTools protocol."""

    def __init__(self, page: Page) -> None:
        self.ports: list[int] = []
        # What the page received over its websockets, in order (Socket.IO frames).
        self.received: list[str] = []
        self._frames_before_socket = 0
        self._page = page
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.webSocketHandshakeResponseReceived", self._handshake)
        cdp.on("Network.webSocketFrameReceived", self._frame_received)
        cdp.send("Network.enable")

    def _frame_received(self, event: dict) -> None:
        self.received.append(event["response"]["payloadData"])

    def _handshake(self, event: dict) -> None:
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        self.ports.append(upstream_port(headers[UPSTREAM_HEADER.lower()]))
        self._frames_before_socket = len(self.received)

    @property
    def current(self) -> int:
        """The instance (port) of the page's latest websocket."""
        self.wait_for(lambda ports: ports, "the page's websocket", timeout=30)
        return self.ports[-1]

    def wait_for(self, check: Callable[[list[int]], object], what: str, timeout: float) -> None:
        """Wait until `check(ports)` holds. Playwright's sync API delivers DevTools events
        only while one of its calls runs, so the wait is Playwright's, not a sleep."""
        self._wait(lambda: check(self.ports), what, timeout)

    def wait_for_update(self, what: str, timeout: float) -> None:
        """Wait until the page's latest websocket has brought a state update (a Socket.IO
        `event` packet). DevTools reports a socket's handshake before its frames."""
        self._wait(
            lambda: any('"event"' in f for f in self.received[self._frames_before_socket :]),
            what,
            timeout,
        )

    def _wait(self, check: Callable[[], object], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            self._page.wait_for_timeout(250)
