# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""PaymentMethod patches: which test cards decline when, listing, billing details.

- Decline cards (4000000000000002, ...9995, ...) attach fine and are declined when charged,
  as with Stripe's attach-without-validation; localstripe declined them at attach time and
  charged them successfully when not attached.
- ``payment_methods.list(customer=...)`` defaults to ``type="card"``, newest first;
  ``GET /v1/customers/{id}/payment_methods`` is added.
- ``billing_details`` always has Stripe's full shape (address, email, name, phone).
- ``card.brand`` follows the number (localstripe called every card ``visa``).
"""

from typing import Any

from localstripe.resources import Customer, List, PaymentMethod, store

from ..cards import ATTACH_DECLINES, CHARGE_DECLINES, SEPA_DECLINED_IBAN, card_number
from .common import check, reject_unknown

LISTABLE_TYPES = ("card", "sepa_debit")
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")

_original_init = PaymentMethod.__init__


# Leading digits of Stripe's test card numbers, by brand (longest prefixes first).
BRAND_PREFIXES = (
    ("34", "amex"),
    ("37", "amex"),
    ("6011", "discover"),
    ("65", "discover"),
    ("3056", "diners"),
    ("36", "diners"),
    ("35", "jcb"),
    ("62", "unionpay"),
    ("2", "mastercard"),
    ("5", "mastercard"),
    ("4", "visa"),
)


def brand_of(number: str) -> str:
    return next((brand for prefix, brand in BRAND_PREFIXES if number.startswith(prefix)), "unknown")


def _init(self: PaymentMethod, billing_details: Any = None, **data: Any) -> None:
    _original_init(self, billing_details=billing_details, **data)
    self.billing_details = full_billing_details(self.billing_details)
    if self.type == "card":
        self.card["brand"] = brand_of(self._card_number)


def full_billing_details(details: dict[str, Any]) -> dict[str, Any]:
    """``billing_details`` with every field Stripe returns, absent ones as None."""
    address = details.get("address")
    address = address if isinstance(address, dict) else {}
    return {
        "address": {field: address.get(field) or None for field in ADDRESS_FIELDS},
        "email": details.get("email") or None,
        "name": details.get("name") or None,
        "phone": details.get("phone") or None,
    }


def _attaching_is_declined(self: Any) -> bool:
    return card_number(self) in ATTACH_DECLINES


def _charging_is_declined(self: Any) -> bool:
    if getattr(self, "type", None) == "sepa_debit":
        return self._sepa_debit_iban == SEPA_DECLINED_IBAN
    return card_number(self) in CHARGE_DECLINES


def _api_list_all(
    cls: type[PaymentMethod],
    url: str,
    customer: Any = None,
    type: Any = "card",
    limit: Any = None,
    starting_after: Any = None,
    **kwargs: Any,
) -> List:
    reject_unknown(kwargs)
    check(isinstance(customer, str) and customer.startswith("cus_"), "customer")
    check(type in LISTABLE_TYPES, "type")
    return _customer_payment_methods(url, customer, type, limit, starting_after)


def list_customer_payment_methods(
    id: str,
    type: Any = None,
    limit: Any = None,
    starting_after: Any = None,
    **kwargs: Any,
) -> List:
    """``GET /v1/customers/{id}/payment_methods``: all types unless ``type`` is given."""
    reject_unknown(kwargs)
    check(type is None or type in LISTABLE_TYPES, "type")
    url = f"/v1/customers/{id}/payment_methods"
    return _customer_payment_methods(url, id, type, limit, starting_after)


def _customer_payment_methods(
    url: str, customer: str, type_: str | None, limit: Any, starting_after: Any
) -> List:
    Customer._api_retrieve(customer)  # 404 if it does not exist
    listing = List(url, limit=limit, starting_after=starting_after)
    listing._list = [
        obj
        for key, obj in reversed(store.items())
        if key.startswith("payment_method:")
        and obj.customer == customer
        and (type_ is None or obj.type == type_)
    ]
    return listing


def apply() -> None:
    PaymentMethod.__init__ = _init
    PaymentMethod._attaching_is_declined = _attaching_is_declined
    PaymentMethod._charging_is_declined = _charging_is_declined
    PaymentMethod._api_list_all = classmethod(_api_list_all)
