# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""SetupIntent patches.

- A succeeded SetupIntent attaches its payment method to the customer (and, for
  ``usage=off_session``, lets 4000002500003155 pay off-session without 3D Secure), and
  sends ``setup_intent.succeeded``.
- A card declined by the setup card check leaves the intent in ``requires_payment_method``
  with ``last_setup_error`` and answers a 402 ``card_error`` carrying the SetupIntent
  (localstripe canceled the intent).
- A succeeded or canceled SetupIntent cannot be confirmed again; a wrong client secret is
  refused.
"""

from typing import Any

from localstripe.resources import Event, PaymentMethod, SetupIntent, schedule_webhook

from ..cards import setup_decline
from ..errors import DOC_URL, card_error
from .common import (
    check_client_secret,
    save_payment_method,
    three_d_secure_action,
    unexpected_state,
)

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")

_original_init = SetupIntent.__init__
_original_confirm = SetupIntent._api_confirm


def _init(self: SetupIntent, **data: Any) -> None:
    _original_init(self, **data)
    self.last_setup_error = None


def _api_confirm(
    cls: type[SetupIntent],
    id: str,
    client_secret: Any = None,
    return_url: Any = None,
    mandate_data: Any = None,
    payment_method_options: Any = None,
    **data: Any,
) -> SetupIntent:
    obj = cls._api_retrieve(id)
    check_client_secret(obj, client_secret)
    if obj.status not in CONFIRMABLE:
        raise unexpected_state(obj, "confirm", CONFIRMABLE)
    obj = _original_confirm(id, client_secret=client_secret, **data)
    if obj.status == "succeeded":
        obj.last_setup_error = None
        payment_method = PaymentMethod._api_retrieve(obj.payment_method)
        save_payment_method(payment_method, obj.customer, obj.usage)
        schedule_webhook(Event("setup_intent.succeeded", obj))
    return obj


def _attach_pm(self: SetupIntent, payment_method: Any) -> None:
    decline = setup_decline(payment_method)
    if decline is not None:
        self.payment_method = None
        self.status = "requires_payment_method"
        self.next_action = None
        self.last_setup_error = {
            "type": "card_error",
            "code": decline.code,
            "decline_code": decline.decline_code,
            "message": decline.message,
            "payment_method": payment_method._export(),
            "doc_url": DOC_URL + decline.code,
        }
        raise card_error(self.last_setup_error, setup_intent=self._export())

    self.payment_method = payment_method.id
    self.last_setup_error = None
    if payment_method._requires_authentication():
        self.status = "requires_action"
        self.next_action = three_d_secure_action()
    else:
        self.status = "succeeded"
        self.next_action = None


def apply() -> None:
    SetupIntent.__init__ = _init
    SetupIntent._api_confirm = classmethod(_api_confirm)
    SetupIntent._attach_pm = _attach_pm
