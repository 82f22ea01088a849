"""Payment links against the emulator: hashed tokens, the pay view, one intent, one receipt."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import stripe
from sqlmodel import Session, select

from mioapp.auth import create_user
from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.models import (
    Customer,
    EmailMessage,
    PaymentLinkStatus,
    PaymentLinkToken,
    PaymentStatus,
    SavedCard,
)
from mioapp.payments import charges, links
from mioapp.payments.charges import ChargeError
from mioapp.payments.gateway import StripeCredentials, build_client
from tests.payments.conftest import charge_saved_card
from tests.unit.factories import make_booking

VISA = "4242424242424242"


def _link(session: Session, customer: Customer, bookings, amount: int, days: int = 7):
    return links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[b.id for b in bookings],
        amount=amount,
        expires_in_days=days,
        message="See you on the water <b>soon</b>",
        user_id=None,
    )


def _token_from_email(session: Session) -> str:
    email = session.exec(select(EmailMessage).where(EmailMessage.kind == "payment_link")).all()[-1]
    return email.text_body.split("/pay/", 1)[1].split()[0]


def _pay(session, credentials, link, number: str = VISA, save_card: bool = False):
    """What the pay page does: start, let Stripe.js confirm with the card, finish."""
    started = links.start_link_payment(
        session, credentials, link=link, save_card=save_card, client_address="203.0.113.9"
    )
    client = build_client(credentials)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    with contextlib.suppress(stripe.CardError):  # a decline is an outcome the page reports
        client.v1.payment_intents.confirm(
            started.payment.stripe_payment_intent_id, params={"payment_method": method.id}
        )
    return links.finish_link_payment(
        session,
        credentials,
        link=link,
        payment_id=started.payment.id,
        client_address="203.0.113.9",
    )


@pytest.fixture
def merchant(session: Session):
    user = create_user(session, email="owner@lagoon.test", name="Owner", password="correct horse 1")
    session.commit()
    return user


def test_link_stores_only_the_token_hash_and_emails_the_url(
    session: Session, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()

    link = _link(session, customer, [booking], 12_000)

    token = _token_from_email(session)
    assert len(token) == 43
    assert token not in (link.token_hash, *session.exec(select(PaymentLinkToken.token_hash)))
    assert link.token_hash == links.hash_token(token)
    assert links.find_link(session, token).id == link.id
    email = session.exec(select(EmailMessage)).one()
    assert email.to_address == customer.email
    assert f"/pay/{token}" in email.html_body and "Complete Payment" in email.html_body
    assert "&lt;b&gt;soon&lt;/b&gt;" in email.html_body, "the message is escaped"


@pytest.mark.parametrize("token", ["", "abc", "x" * 43, "../../etc/passwd", "A" * 500])
def test_malformed_and_unknown_tokens_find_nothing(session: Session, token: str) -> None:
    assert links.find_link(session, token) is None


def test_link_pays_bookings_once_and_sends_each_email_once(
    session: Session, credentials: StripeCredentials, customer: Customer, merchant
) -> None:
    bookings = [make_booking(session, customer, total=6_000) for _ in range(2)]
    session.commit()
    link = _link(session, customer, bookings, 12_000)
    links.mark_opened(session, link)
    assert link.status == PaymentLinkStatus.OPENED

    payment = _pay(session, credentials, link, save_card=True)

    assert payment.status == PaymentStatus.SUCCEEDED
    session.refresh(link)
    assert link.status == PaymentLinkStatus.PAID
    session.expire_all()
    statuses = {line.status for line in customer_detail(session, customer.id).bookings}
    assert statuses == {BookingStatus.CHARGED_IN_FULL}
    [saved] = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all()
    assert saved.last4 == "4242"
    # Replays of the success (webhook, reload) send nothing more.
    intent = charges.gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id)
    charges.apply_payment_intent(session, intent)
    kinds = sorted(e.kind for e in session.exec(select(EmailMessage)).all())
    assert kinds == ["merchant_payment", "payment_link", "receipt"]
    receipt = session.exec(select(EmailMessage).where(EmailMessage.kind == "receipt")).one()
    assert receipt.to_address == customer.email and "$120.00" in receipt.text_body
    merchant_mail = session.exec(
        select(EmailMessage).where(EmailMessage.kind == "merchant_payment")
    ).one()
    assert merchant_mail.to_address == merchant.email
    view = links.pay_view(session, link)
    assert view.state == "paid" and view.payment.id == payment.id
    with pytest.raises(ChargeError):
        links.start_link_payment(
            session, credentials, link=link, save_card=False, client_address="1.2.3.4"
        )


def test_partial_link_leaves_partially_paid(
    session: Session, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=20_000)
    session.commit()
    link = _link(session, customer, [booking], 5_000)

    assert _pay(session, credentials, link).status == PaymentStatus.SUCCEEDED

    session.expire_all()
    [line] = customer_detail(session, customer.id).bookings
    assert line.status == BookingStatus.PARTIALLY_PAID and line.money.balance == 15_000


def test_amount_follows_the_live_balance(
    session: Session, credentials: StripeCredentials, customer: Customer, card: SavedCard
) -> None:
    booking = make_booking(session, customer, total=10_000)
    session.commit()
    link = _link(session, customer, [booking], 10_000)

    charge_saved_card(session, credentials, customer, card, [booking], 4_000)
    view = links.pay_view(session, link)
    assert (view.state, view.amount) == ("payable", 6_000)

    charge_saved_card(session, credentials, customer, card, [booking], 6_000)
    assert links.pay_view(session, link).state == "settled"


def test_expired_and_revoked_links_cannot_be_paid(
    session: Session, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer)
    session.commit()
    expired = _link(session, customer, [booking], 1_000)
    expired.expires_at -= timedelta(days=8)
    session.commit()
    revoked = _link(session, customer, [booking], 1_000)
    links.revoke_link(
        session, credentials, link_id=revoked.id, customer_id=customer.id, user_id=None
    )

    for link in (expired, revoked):
        assert links.pay_view(session, link) is None
        with pytest.raises(ChargeError):
            links.start_link_payment(
                session, credentials, link=link, save_card=False, client_address="1.2.3.4"
            )
    assert links.effective_status(expired) == PaymentLinkStatus.EXPIRED
    with pytest.raises(ChargeError):
        links.resend_link(session, link_id=revoked.id, customer_id=customer.id, user_id=None)


def test_reloads_and_tabs_reuse_one_intent(
    session: Session, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=7_000)
    session.commit()
    link = _link(session, customer, [booking], 7_000)

    first, second = (
        links.start_link_payment(
            session, credentials, link=link, save_card=False, client_address="1.2.3.4"
        )
        for _ in range(2)
    )

    assert first.payment.id == second.payment.id
    assert first.client_secret == second.client_secret
    listed = build_client(credentials).v1.payment_intents.list(
        params={"customer": customer.stripe_customer_id}
    )
    assert len(listed.data) == 1


def test_resend_and_copy_give_new_urls_that_all_work(session: Session, customer: Customer) -> None:
    booking = make_booking(session, customer)
    session.commit()
    link = _link(session, customer, [booking], 1_000)
    first = _token_from_email(session)

    links.resend_link(session, link_id=link.id, customer_id=customer.id, user_id=None)
    resent = _token_from_email(session)
    copied = links.copy_url(session, link_id=link.id, customer_id=customer.id).rsplit("/", 1)[1]

    assert len({first, resent, copied}) == 3
    assert all(links.find_link(session, t).id == link.id for t in (first, resent, copied))
    assert len(session.exec(select(EmailMessage)).all()) == 2


def test_failed_attempts_are_limited(
    session: Session, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=3_000)
    session.commit()
    link = _link(session, customer, [booking], 3_000)

    for _ in range(links.FAILED_ATTEMPTS_PER_HOUR):
        assert _pay(session, credentials, link, "4000000000000002").status == PaymentStatus.FAILED

    with pytest.raises(ChargeError, match="Too many failed attempts"):
        links.start_link_payment(
            session, credentials, link=link, save_card=False, client_address="198.51.100.1"
        )


def test_link_needs_a_valid_expiry_and_amount(session: Session, customer: Customer) -> None:
    booking = make_booking(session, customer, total=5_000)
    session.commit()
    for days in (0, 61):
        with pytest.raises(ChargeError, match="between 1 and 60"):
            _link(session, customer, [booking], 5_000, days=days)
    with pytest.raises(ChargeError, match="most you can charge"):
        _link(session, customer, [booking], 5_001)
