# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""Charge and Refund patches.

- A declined charge carries the card's own ``failure_code`` / ``decline_code`` / message
  (insufficient funds, lost card, ...), and ``charges.create`` answers a Stripe-shaped 402.
- Asynchronous payment methods (SEPA debit) stay ``pending`` until they settle, so their
  PaymentIntent goes through ``processing`` like on Stripe.
- Refunds: ``reason`` is accepted, the amount may not exceed what is left to refund, the
  default amount is that remainder, and ``charge.refunded`` is sent.
"""

from typing import Any

from localstripe.resources import (
    Charge,
    Event,
    PaymentIntent,
    PaymentMethod,
    Refund,
    schedule_webhook,
    try_convert_to_int,
)

from ..cards import Decline, decline_for
from ..errors import DOC_URL, card_error, invalid_request
from .common import check

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

_original_initialize_charge = Charge._initialize_charge
_original_refund_init = Refund.__init__
_original_refund_create = Refund._api_create


def _apply_decline(self: Charge, decline: Decline) -> None:
    self.status = "failed"
    self.failure_code = decline.code
    self.failure_message = decline.message
    self._decline_code = decline.decline_code


def _set_auth_failure(self: Charge) -> None:
    self._apply_decline(decline_for(PaymentMethod._api_retrieve(self.payment_method)))


def _raise_failure(self: Charge) -> None:
    raise card_error(
        {
            "code": self.failure_code,
            "decline_code": getattr(self, "_decline_code", None),
            "message": self.failure_message,
            "charge": self.id,
            "doc_url": DOC_URL + self.failure_code,
        }
    )


def _initialize_charge(
    self: Charge,
    on_success: Any = None,
    on_failure_now: Any = None,
    on_failure_later: Any = None,
) -> None:
    if self._authorized and self.captured and self._is_async_payment_method():
        # localstripe marks it succeeded at once; it must stay pending until it settles.
        self._trigger_payment(on_success)
        return
    _original_initialize_charge(self, on_success, on_failure_now, on_failure_later)


def _money(amount: int) -> str:
    return f"${amount / 100:.2f}"


def _refunded_charge(charge: Any, payment_intent: Any) -> Charge | None:
    """The charge a refund request targets, when it can be told before localstripe's checks."""
    if isinstance(charge, str) and charge.startswith("ch_"):
        return Charge._api_retrieve(charge)
    if isinstance(payment_intent, str) and payment_intent.startswith("pi_"):
        intent = PaymentIntent._api_retrieve(payment_intent)
        if intent.latest_charge is None:
            raise invalid_request(
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        return intent.latest_charge
    return None


def _refund_init(
    self: Refund,
    charge: Any = None,
    payment_intent: Any = None,
    amount: Any = None,
    reason: Any = None,
    **data: Any,
) -> None:
    check(
        reason is None or reason in REFUND_REASONS,
        "reason",
        "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
    )
    target = _refunded_charge(charge, payment_intent)
    if target is not None and target.status == "succeeded":
        remaining = target.amount - target.amount_refunded
        if remaining <= 0:
            raise invalid_request(
                f"Charge {target.id} has already been refunded.", code="charge_already_refunded"
            )
        requested = try_convert_to_int(amount)
        if amount is None:
            amount = remaining
        elif isinstance(requested, int) and requested > remaining:
            limit = "charge amount" if remaining == target.amount else "unrefunded amount on charge"
            raise invalid_request(
                f"Refund amount ({_money(requested)}) is greater than {limit} "
                f"({_money(remaining)})",
                param="amount",
            )
    _original_refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **data)
    self.reason = reason


def _refund_api_create(cls: type[Refund], **data: Any) -> Refund:
    refund = _original_refund_create(**data)
    schedule_webhook(Event("charge.refunded", Charge._api_retrieve(refund.charge)))
    return refund


def apply() -> None:
    Charge._apply_decline = _apply_decline
    Charge._set_auth_failure = _set_auth_failure
    Charge._raise_failure = _raise_failure
    Charge._initialize_charge = _initialize_charge
    Refund.__init__ = _refund_init
    Refund._api_create = classmethod(_refund_api_create)
