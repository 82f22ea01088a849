"""Benchmark: the pay page `/pay/<token>` opened on a phone, in Chromium; prints figures.

    python -m devtools.bench_pay_page [--runs 15] [--no-throttle] [--list]

Starts the real app (production build) with the Stripe emulator on a free port, makes a
payment link the way the dashboard does, then opens its page in a fresh browser context
each run (a first visit from an email: nothing cached) at 390x844 with Lighthouse's mobile
emulation: 4x CPU slowdown, 150 ms round trip, 1.6 Mbps down, 750 Kbps up. "Ready" is
the moment the card field and the Pay button are both on screen, from navigation start.
The machine's load average is printed too: on a shared machine the CPU-bound part of the
page (parsing and running its scripts at a quarter speed) varies with it.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright
from sqlmodel import Session

from devtools.stack import LocalStack, free_port
from mioapp.models import Booking, Customer, utcnow
from mioapp.payments import links

logger = logging.getLogger("bench_pay_page")

VIEWPORT = {"width": 390, "height": 844}
CPU_SLOWDOWN = 4
# Lighthouse's mobile preset (a slow 4G): its figures in kilobits, as bytes per second here.
NETWORK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,
    "uploadThroughput": 750 * 1024 / 8,
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Injected through the DevTools protocol, so the page's CSP does not apply to it. It notes
# the first frame on which the card field holds Stripe's element (inputs with the emulator,
# an iframe with real Stripe.js) and a visible Pay button. It looks once per frame in which
# the page changed, and measures layout only once the card field exists: checking on every
# DOM change forced a layout each time and cost the slowed phone about 100 ms a load.
READY_PROBE = """
(() => {
  const visible = (el) => el && el.getClientRects().length > 0;
  const ready = (card) => {
    const pay = [...document.querySelectorAll("button")].find(
      (b) => /^Pay\\s/.test(b.textContent.trim()));
    return visible(card) && visible(pay);
  };
  let pending = false;
  const check = (frame) => {
    pending = false;
    const card = document.querySelector(".stripe-card-field input, .stripe-card-field iframe");
    if (!card || window.__payReadyAt !== undefined) return;
    if (ready(card)) {
      window.__payReadyAt = frame;
    } else {  // the field is there: look again next frame, changed or not (styles, layout)
      pending = true;
      requestAnimationFrame(check);
    }
  };
  new MutationObserver(() => {
    if (pending || window.__payReadyAt !== undefined) return;
    pending = true;
    requestAnimationFrame(check);
  }).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


@dataclass
class Resource:
    url: str
    kind: str = ""
    encoding: str = ""
    size: int = 0
    started: float = 0.0  # seconds, DevTools' monotonic clock
    finished: float = 0.0


@dataclass
class Run:
    ready_ms: float
    requests: int
    bytes_on_wire: int
    resources: list[Resource] = field(default_factory=list)
    frames: list[tuple[str, float, int]] = field(default_factory=list)


def make_link(database_url: str) -> str:
    """A customer with one unpaid booking and a payment link for it; the link's path."""
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        customer = Customer(name="Ana Lima", email="ana.lima@bench.test")
        session.add(customer)
        session.flush()
        booking = Booking(
            reference=f"BK-BENCH-{customer.id}",
            customer_id=customer.id,
            tour_name="Sunset Kayak",
            starts_at=utcnow() + timedelta(days=14),
            participants=2,
            total_amount=24_000,
            currency="usd",
        )
        session.add(booking)
        session.commit()
        link = links.create_link(
            session,
            customer_id=customer.id,
            booking_ids=[booking.id],
            amount=booking.total_amount,
            expires_in_days=7,
            message="",
            user_id=None,
        )
        url = links.copy_url(session, link_id=link.id, customer_id=customer.id)
        session.commit()  # the link and its token (domain functions never commit)
    engine.dispose()
    return url[url.index("/pay/") :]  # this process's APP_BASE_URL is not the app's


def open_once(browser: Browser, url: str, *, throttle: bool) -> Run:
    context = browser.new_context(
        viewport=VIEWPORT, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.add_init_script(READY_PROBE)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        cdp.send("Network.emulateNetworkConditions", NETWORK)
    resources: dict[str, Resource] = {}
    frames: list[tuple[str, float, int]] = []

    def on_request(event: dict) -> None:
        if not event["request"]["url"].startswith("data:"):
            resources[event["requestId"]] = Resource(
                url=event["request"]["url"], started=event["timestamp"]
            )

    def on_response(event: dict) -> None:
        if resource := resources.get(event["requestId"]):
            headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
            resource.kind = event.get("type", "")
            resource.encoding = headers.get("content-encoding", "")

    def on_finished(event: dict) -> None:
        if resource := resources.get(event["requestId"]):
            resource.size = int(event["encodedDataLength"])
            resource.finished = event["timestamp"]

    def on_frame(direction: str):
        def record(event: dict) -> None:
            frames.append((direction, event["timestamp"], len(event["response"]["payloadData"])))

        return record

    cdp.on("Network.webSocketFrameSent", on_frame("sent"))
    cdp.on("Network.webSocketFrameReceived", on_frame("received"))
    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    page.goto(url, wait_until="commit")
    # Asked every 100 ms: Playwright's own locators poll the page (queries, accessible
    # names) and took the slowed phone's main thread from the page being measured.
    # (wait_for_function would evaluate a string, which the pay page's CSP forbids.)
    deadline = time.monotonic() + 60
    while (ready_ms := page.evaluate("window.__payReadyAt")) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the pay page was not ready within 60 s")
        page.wait_for_timeout(100)
    # Whatever the page still fetches after it looks ready counts too (lazy chunks, icons).
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    context.close()
    return Run(
        ready_ms=float(ready_ms),
        requests=len(resources),
        bytes_on_wire=sum(r.size for r in resources.values()),
        resources=list(resources.values()),
        frames=frames,
    )


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile: the slowest of 15 runs, the 19th of 20."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def report(runs: list[Run], *, listing: bool) -> None:
    ready = [r.ready_ms for r in runs]
    logger.info(
        "Pay page, %d runs: %d requests, %.0f KB on the wire; ready median %.0f ms, p95 %.0f ms"
        " (fastest %.0f, slowest %.0f)",
        len(runs),
        statistics.median(r.requests for r in runs),
        statistics.median(r.bytes_on_wire for r in runs) / 1024,
        statistics.median(ready),
        p95(ready),
        min(ready),
        max(ready),
    )
    logger.info(
        "Every run's ready, fastest first (ms): %s", " ".join(f"{r:.0f}" for r in sorted(ready))
    )
    logger.info("Load average (1, 5, 15 min) at the end: %.1f %.1f %.1f", *os.getloadavg())
    if listing:
        last = runs[-1]
        logger.info(
            "Requests of the last run (ms from navigation; ready at %.0f ms):", last.ready_ms
        )
        origin = min(r.started for r in last.resources)
        for r in last.resources:
            url = r.url.split("/pay/")[0] + "/pay/<token>" if "/pay/" in r.url else r.url
            logger.info(
                "  %5.0f-%5.0f  %6.1f KB  %-10s %-5s %s",
                (r.started - origin) * 1000,
                (r.finished - origin) * 1000 if r.finished else -1,
                r.size / 1024,
                r.kind,
                r.encoding or "-",
                url,
            )
        for direction, at, size in last.frames:
            logger.info(
                "  %5.0f        %6.1f KB  websocket  %s",
                (at - origin) * 1000,
                size / 1024,
                direction,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_pay_page", description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-throttle", action="store_true", help="no CPU or network emulation")
    parser.add_argument("--list", action="store_true", help="list the last run's requests")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("stripe").setLevel(logging.WARNING)
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        raise SystemExit("Chromium is not installed: `make test` (or bootstrap.sh --browser)")
    work = Path(tempfile.mkdtemp(prefix="bench-pay-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    stack = LocalStack(
        port=free_port(),
        data_dir=work / "data",
        database_url=database_url,
        seed_args=["--customers", "3", "--bookings", "6"],
    )
    try:
        with stack.running():
            url = stack.base_url + make_link(database_url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                open_once(browser, url, throttle=False)  # the server's first render, untimed
                throttle = not args.no_throttle
                runs = [open_once(browser, url, throttle=throttle) for _ in range(args.runs)]
                browser.close()
            report(runs, listing=args.list)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
