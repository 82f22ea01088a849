# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""Helpers shared by the resource patches: parameter checks and intent bookkeeping."""

import copy
from typing import Any

from localstripe.resources import try_convert_to_bool

from ..errors import invalid_request

SETUP_FUTURE_USAGES = ("on_session", "off_session")

# What localstripe's fake Stripe.js expects in ``next_action`` to run its 3D Secure dialog.
THREE_D_SECURE_ACTION = {
    "type": "use_stripe_sdk",
    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
}

_DISPLAY_NAMES = {"payment_intent": "PaymentIntent", "setup_intent": "SetupIntent"}


def three_d_secure_action() -> dict[str, Any]:
    """A fresh copy of the 3D Secure ``next_action``."""
    return copy.deepcopy(THREE_D_SECURE_ACTION)


def check(condition: bool, param: str, message: str | None = None) -> None:
    """Raise Stripe's 400 for an invalid ``param`` unless ``condition`` holds."""
    if not condition:
        raise invalid_request(message or f"Invalid value for {param}.", param=param)


def reject_unknown(params: dict[str, Any]) -> None:
    """Raise Stripe's 400 for parameters the endpoint does not know."""
    if params:
        names = sorted(params)
        raise invalid_request(f"Received unknown parameter: {', '.join(names)}", param=names[0])


def as_bool(value: Any, param: str) -> bool | None:
    """A boolean parameter (form-encoded as 'true'/'false'), or None when absent."""
    value = try_convert_to_bool(value)
    check(value is None or isinstance(value, bool), param)
    return value


def as_off_session(value: Any) -> bool:
    """``off_session`` accepts a boolean or the legacy 'one_off' / 'recurring'."""
    if value in ("one_off", "recurring"):
        return True
    return bool(as_bool(value, "off_session"))


def as_optional_str(value: Any, param: str, max_length: int | None = None) -> str | None:
    """A string parameter, or None when absent."""
    check(
        value is None
        or (isinstance(value, str) and (max_length is None or len(value) <= max_length)),
        param,
    )
    return value


def check_setup_future_usage(value: Any) -> str | None:
    """``setup_future_usage`` is 'on_session', 'off_session' or absent."""
    check(value is None or value in SETUP_FUTURE_USAGES, "setup_future_usage")
    return value


def display_name(obj: Any) -> str:
    """'PaymentIntent' / 'SetupIntent' as Stripe writes them in messages."""
    return _DISPLAY_NAMES.get(obj.object, obj.object)


def check_client_secret(obj: Any, client_secret: Any, *, required: bool = False) -> None:
    """Reject a client secret that does not belong to the intent ``obj``."""
    if client_secret is None and not required:
        return
    if client_secret != obj.client_secret:
        raise invalid_request(
            "The client_secret provided does not match the client_secret associated with "
            f"the {display_name(obj)}.",
            param="client_secret",
        )


def unexpected_state(obj: Any, action: str, allowed: tuple[str, ...]) -> Exception:
    """Stripe's 400 ``*_unexpected_state`` error for an intent in the wrong status."""
    return invalid_request(
        f"You cannot {action} this {display_name(obj)} because it has a status of "
        f"{obj.status}. Allowed statuses: {', '.join(allowed)}.",
        code=f"{obj.object}_unexpected_state",
    )


def save_payment_method(payment_method: Any, customer: str | None, usage: str | None) -> None:
    """Attach a payment method set up by an intent to the customer, as Stripe does; an
    off-session setup also lets cards like 4000002500003155 skip 3D Secure off-session."""
    if customer:
        payment_method.customer = customer
    if usage == "off_session":
        payment_method._setup_for_off_session = True
