"""Every status of each domain has one badge, with the words and colour the pages show."""

import pytest

from mioapp.billing.ledger import BookingStatus
from mioapp.models import EmailStatus, PaymentLinkStatus, RefundStatus
from mioapp.ui.components import badges
from mioapp.ui.status import PaymentDisplayStatus


@pytest.mark.parametrize(
    ("mapping", "statuses"),
    [
        (badges.BOOKING, BookingStatus),
        (badges.PAYMENT, PaymentDisplayStatus),
        (badges.REFUND, RefundStatus),
        (badges.LINK, PaymentLinkStatus),
        (badges.EMAIL, EmailStatus),
    ],
)
def test_every_status_has_a_badge(mapping, statuses) -> None:
    assert set(mapping) == set(statuses)


def test_labels_and_colours() -> None:
    assert badges.BOOKING[BookingStatus.CHARGED_IN_FULL] == ("Charged in Full", "green")
    assert badges.PAYMENT[PaymentDisplayStatus.PENDING] == ("Pending", "gray")
    assert badges.PAYMENT[PaymentDisplayStatus.PARTIALLY_REFUNDED] == ("Partially refunded", "blue")
    assert badges.PAYMENT[PaymentDisplayStatus.REQUIRES_ACTION] == ("Requires action", "violet")
    assert badges.REFUND[RefundStatus.PENDING] == ("Refund pending", "gray")
    assert badges.LINK[PaymentLinkStatus.REVOKED] == ("Revoked", "red")
    assert badges.EMAIL[EmailStatus.UNCONFIRMED] == ("Unconfirmed", "orange")
