"""The production layout in a browser: both instances serve, one dies, nothing is lost.

nginx in front of two app instances that share page state in Redis.
"""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request
from collections import Counter
from datetime import UTC

from playwright.sync_api import expect
from sqlmodel import Session, select

from devtools.cluster import UPSTREAM_HEADER, Cluster
from mioapp.billing.ledger import BookingStatus
from mioapp.live_tour import DEMO_EMAIL
from mioapp.models import Payment, PaymentStatus, StripeEvent
from mioapp.payments.gateway import StripeCredentials
from tests.cluster.helpers import PATIENCE, SocketWatch, sign_in, upstream_port
from tests.e2e.helpers import booking_row, fill_card, intents_of, new_customer, pay_link, statuses
from tests.processes.helpers import alive, descendants, wait_until


def test_pay_pages_come_through_the_app_with_their_security_headers(cluster: Cluster) -> None:
    served_by = set()
    for _ in range(4):
        with urllib.request.urlopen(f"{cluster.base_url}/pay/not-a-real-token", timeout=30) as r:
            assert r.status == 200
            policy = r.headers["Content-Security-Policy"]
            served_by.add(upstream_port(r.headers[UPSTREAM_HEADER]))
        # Hashes of the page's own inline scripts: the app's middleware read this response.
        assert re.search(r"script-src [^;]*'sha256-", policy), policy
        assert r.headers["Cache-Control"] == "no-store"
    assert served_by == set(cluster.instance_ports)


def test_both_instances_handle_page_events(cluster: Cluster, new_page) -> None:
    """Tabs open until each instance holds one's websocket; every tab searches and opens a
    customer, so each instance handles sign-in, search and page-load events."""
    seen: set[int] = set()
    for _ in range(10):
        page = new_page()
        watch = SocketWatch(page)
        sign_in(page)
        search = page.get_by_role("searchbox", name="Search customers")
        search.fill("zzz-no-such-customer")
        expect(page.get_by_text("No customers match your search")).to_be_visible(timeout=PATIENCE)
        search.fill("")
        page.get_by_role("row").nth(1).get_by_role("link").click()
        expect(page.get_by_role("button", name="Charge Customer")).to_be_enabled(timeout=PATIENCE)
        seen.add(watch.current)
        if seen == set(cluster.instance_ports):
            break
    assert seen == set(cluster.instance_ports)


def _succeeded(session: Session, customer_id: int) -> list[Payment]:
    session.expire_all()
    query = select(Payment).where(Payment.customer_id == customer_id).order_by(Payment.id)
    return [p for p in session.exec(query).all() if p.status == PaymentStatus.SUCCEEDED]


def _receipts(cluster: Cluster, address: str) -> int:
    """Receipts received for `address` (a payment link's own email is not one)."""
    return sum(
        1
        for m in cluster.mail.messages()
        if address in str(m["To"]) and str(m["Subject"]).startswith("Receipt ")
    )


def _notices(cluster: Cluster, customer_name: str) -> int:
    """Merchant notices about `customer_name`'s payments."""
    return sum(
        1
        for m in cluster.mail.messages()
        if DEMO_EMAIL in str(m["To"]) and customer_name in m.get_body(("plain",)).get_content()
    )


# Installed in the merchant's page: the moment (browser clock, ms) a booking row first reads
# "Charged in Full". A reload would lose it, so it also proves the page was not reloaded.
WATCH_ROW = """(reference) => {
    window.chargedInFullAt = null;
    const check = () => {
        for (const row of document.querySelectorAll("tr")) {
            const text = row.textContent;
            if (text.includes(reference) && text.includes("Charged in Full")) {
                window.chargedInFullAt ??= Date.now();
            }
        }
    };
    new MutationObserver(check).observe(document.body, {
        subtree: true, childList: true, characterData: true,
    });
}"""


def _webhook_deliveries(cluster: Cluster) -> list[str]:
    """nginx's access-log lines of Stripe's deliveries (each names the instance it reached)."""
    log = cluster.logs / "nginx-access.log"
    return [line for line in log.read_text().splitlines() if "POST /api/stripe/webhook" in line]


def test_link_paid_on_the_other_instance_updates_the_merchants_page_at_once(
    cluster: Cluster, new_page, session: Session, credentials: StripeCredentials
) -> None:
    customer = new_customer(session, credentials, totals=[7_500], name="Lani Kahale")
    link, path = pay_link(session, customer, 7_500)
    reference = f"BK-T{customer.id}-0"

    merchant = new_page()
    merchant_socket = SocketWatch(merchant)
    sign_in(merchant)
    merchant.goto(f"/customers/{customer.id}")
    expect(booking_row(merchant, reference)).to_contain_text("Unpaid", timeout=PATIENCE)
    merchant_instance = merchant_socket.current
    merchant.evaluate(WATCH_ROW, reference)

    # The customer opens the link through the balancer until the pay page's websocket is
    # held by the other instance: its handlers, not the merchant's instance, take the card.
    for _ in range(10):
        payer = new_page()
        payer_socket = SocketWatch(payer)
        payer.goto(path)
        expect(payer.get_by_role("button", name="Pay $75.00")).to_be_visible(timeout=PATIENCE)
        if payer_socket.current != merchant_instance:
            break
        # nginx takes turns per request, and a page makes the same requests each time: one
        # request more moves the next page's websocket to the other instance.
        with urllib.request.urlopen(f"{cluster.base_url}/api/health", timeout=30):
            pass
    assert payer_socket.current != merchant_instance, "every pay page landed on one instance"
    deliveries_before = len(_webhook_deliveries(cluster))

    fill_card(payer.locator("body"), "4242424242424242")
    payer.get_by_role("button", name="Pay $75.00").click()
    expect(payer.get_by_role("heading", name="Payment received")).to_be_visible(timeout=PATIENCE)

    # Pushed to the merchant's page, on the other instance, with no reload and no poll.
    expect(booking_row(merchant, reference)).to_contain_text("Charged in Full", timeout=PATIENCE)
    [paid] = _succeeded(session, customer.id)
    assert paid.payment_link_id == link.id
    succeeded_at = paid.succeeded_at
    if succeeded_at.tzinfo is None:
        succeeded_at = succeeded_at.replace(tzinfo=UTC)
    shown_at = merchant.evaluate("window.chargedInFullAt")
    assert shown_at is not None, "the merchant's page was reloaded"
    delay = shown_at / 1000 - succeeded_at.timestamp()
    assert delay < 1.0, f"the merchant's page showed the payment {delay:.2f} s after it succeeded"

    # Stripe's webhook comes through the balancer to either instance and changes nothing more.
    wait_until(
        lambda: session.exec(
            select(StripeEvent).where(StripeEvent.object_id == paid.stripe_payment_intent_id)
        ).first(),
        "the payment_intent.succeeded webhook",
        timeout=30,
    )
    delivered = _webhook_deliveries(cluster)[deliveries_before:]
    assert delivered and all('" 200 ' in line for line in delivered), delivered
    ports = {upstream_port(line.rsplit("upstream=", 1)[1].split()[0]) for line in delivered}
    assert ports <= set(cluster.instance_ports)

    # One receipt, sent once by one of the two consumers.
    wait_until(lambda: _receipts(cluster, customer.email) >= 1, "the receipt", timeout=60)
    time.sleep(3)  # a double would follow within the consumers' next pass
    assert _receipts(cluster, customer.email) == 1
    assert [p.amount for p in _succeeded(session, customer.id)] == [7_500]
    assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    assert [(i.status, i.amount) for i in intents_of(credentials, customer)] == [
        ("succeeded", 7_500)
    ]


# Last: it leaves one instance of the module's cluster dead.
def test_killed_instance_page_reconnects_and_loses_or_doubles_nothing(
    cluster: Cluster, new_page, session: Session, credentials: StripeCredentials
) -> None:
    customer = new_customer(
        session, credentials, totals=[20_000], card="4242424242424242", name="Kai Moana"
    )
    page = new_page()
    watch = SocketWatch(page)
    sign_in(page)

    page.goto(f"/customers/{customer.id}")
    page.get_by_role("button", name="Charge Customer").click()
    dialog = page.get_by_role("dialog", name="Charge Kai Moana")
    dialog.get_by_label("Amount").fill("50")
    dialog.get_by_role("button", name="Charge $50.00").click()
    expect(page.get_by_text("Charged Kai Moana $50.00.")).to_be_visible(timeout=PATIENCE)
    expect(booking_row(page, f"BK-T{customer.id}-0")).to_contain_text(
        "Partially Paid", timeout=PATIENCE
    )
    assert [p.amount for p in _succeeded(session, customer.id)] == [5_000]

    # SIGKILL the whole instance holding this tab's websocket (supervisor and workers):
    # nothing of it can save or hand over anything.
    holder = watch.current
    victim = cluster.apps[cluster.instance_ports.index(holder)]
    doomed = [victim.popen.pid, *descendants(victim.popen.pid)]
    os.killpg(victim.popen.pid, signal.SIGKILL)
    victim.popen.wait(10)
    wait_until(lambda: not any(alive(pid) for pid in doomed), "the killed instance", 10)
    survivor = next(port for port in cluster.instance_ports if port != holder)

    # The tab reconnects through nginx to the other instance, with no reload, and hydrates:
    # still signed in (the session cookie rides on the websocket), still on this customer.
    # Reflex finds the dead instance's record of the tab's socket in Redis (nothing removed
    # it) and takes the tab for a duplicate: it gets a new token, whose state the hydration
    # rebuilds from the URL, the cookie and the database. An event sent before the tab has
    # switched tokens would be answered to the dead socket, so act once the hydration's
    # update is in (the new token comes before it on the socket).
    watch.wait_for(
        lambda ports: ports[-1] == survivor,
        "the websocket to reconnect to the other instance",
        timeout=60,
    )
    watch.wait_for_update("the reconnected page's hydration", timeout=60)
    page.get_by_role("button", name="Charge Customer").click()
    dialog = page.get_by_role("dialog", name="Charge Kai Moana")
    expect(dialog.get_by_role("status", name="Charge summary")).to_have_text(
        "You are charging Kai Moana $150.00 for 1 booking", timeout=PATIENCE
    )
    dialog.get_by_role("button", name="Charge $150.00").click()
    expect(page.get_by_text("Charged Kai Moana $150.00.")).to_be_visible(timeout=PATIENCE)
    expect(booking_row(page, f"BK-T{customer.id}-0")).to_contain_text(
        "Charged in Full", timeout=PATIENCE
    )

    # Exactly the two payments, once each: in the ledger and at Stripe.
    assert [p.amount for p in _succeeded(session, customer.id)] == [5_000, 15_000]
    assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    intents = intents_of(credentials, customer)
    assert Counter((i.status, i.amount) for i in intents) == Counter(
        {("succeeded", 5_000): 1, ("succeeded", 15_000): 1}
    )
    # Receipts and merchant notices go out once each, through the two consumers.
    wait_until(lambda: _receipts(cluster, customer.email) >= 2, "two receipts", timeout=60)
    wait_until(lambda: _notices(cluster, customer.name) >= 2, "two notices", timeout=60)
    time.sleep(3)  # a double would follow within the consumers' next pass
    assert _receipts(cluster, customer.email) == 2
    assert _notices(cluster, customer.name) == 2
