# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""How Stripe's documented test cards behave, as tables the patches consult.

Source: https://docs.stripe.com/testing (declined payments, 3D Secure authentication).
"""

from typing import Any, NamedTuple


class Decline(NamedTuple):
    """What a failed charge reports: ``failure_code`` / error ``code``, ``decline_code``
    and the customer-facing message Stripe uses."""

    code: str
    decline_code: str | None
    message: str


CARD_DECLINED = "Your card was declined."

GENERIC_DECLINE = Decline("card_declined", "generic_decline", CARD_DECLINED)

INVALID_NUMBER = Decline("incorrect_number", None, "Your card number is incorrect.")

AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)

# Cards that are declined when charged. Except for 4000000000000341 (the "attaches, then
# fails" card) a SetupIntent's card check declines them too; a plain attach does not
# validate the card, so they attach fine.
CHARGE_DECLINES: dict[str, Decline] = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000009995": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000000000009987": Decline("card_declined", "lost_card", CARD_DECLINED),
    "4000000000009979": Decline("card_declined", "stolen_card", CARD_DECLINED),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."
    ),
    "4000000000000119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000000000000341": GENERIC_DECLINE,
    # These two need 3D Secure first, then the charge is declined.
    "4000008260003178": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000008400001629": GENERIC_DECLINE,
}

# Declined by the card check of a SetupIntent (real Stripe validates the card there).
SETUP_DECLINES = frozenset(CHARGE_DECLINES) - {
    "4000000000000341",
    "4000008260003178",
    "4000008400001629",
}

# Rejected outright when attached (invalid number, fails the Luhn check).
ATTACH_DECLINES = frozenset({"4242424242424241"})

# 3D Secure cards that can skip authentication off-session once set up for it.
OFF_SESSION_AFTER_SETUP = frozenset({"4000002500003155"})

SEPA_DECLINED_IBAN = "DE62370400440532013001"


def card_number(payment_method: Any) -> str | None:
    """The full card number localstripe keeps privately on PaymentMethod / Card objects."""
    if getattr(payment_method, "type", None) != "card":
        return None
    return getattr(payment_method, "_card_number", None)


def decline_for(payment_method: Any) -> Decline:
    """How a charge on ``payment_method`` is declined (generic for unknown instruments)."""
    return CHARGE_DECLINES.get(card_number(payment_method) or "", GENERIC_DECLINE)


def setup_decline(payment_method: Any) -> Decline | None:
    """How a SetupIntent's card check declines ``payment_method``, or None if it passes."""
    number = card_number(payment_method)
    if number in ATTACH_DECLINES:
        return INVALID_NUMBER
    if number in SETUP_DECLINES:
        return CHARGE_DECLINES[number]
    return None
