# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""PaymentIntent patches.

- Create accepts ``setup_future_usage``, ``description``, ``receipt_email``,
  ``statement_descriptor_suffix``, ``automatic_payment_methods``, ``payment_method_types``,
  ``return_url`` and ``error_on_requires_action``, and echoes the ones Stripe echoes.
- ``confirm`` takes ``payment_method`` / ``payment_method_data`` / ``off_session`` /
  ``client_secret`` (localstripe answered 500 "Not implemented"), also after a decline.
- Off-session confirmation of a card needing 3D Secure fails with Stripe's 402
  ``authentication_required`` (localstripe returned 200 ``requires_action``).
- Card errors carry ``decline_code``, ``payment_method`` and the PaymentIntent (status
  ``requires_payment_method``, with ``last_payment_error``), and emit payment_failed.
- A success with ``setup_future_usage`` attaches the card to the customer.
- ``latest_charge`` is an id unless expanded; ``payment_intent.processing``,
  ``payment_intent.requires_action`` and ``payment_intent.canceled`` are sent.
"""

import time
from typing import Any

from localstripe.resources import (
    Charge,
    Event,
    Invoice,
    List,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    schedule_webhook,
    store,
)

from ..cards import AUTHENTICATION_REQUIRED, OFF_SESSION_AFTER_SETUP, Decline, card_number
from ..errors import DOC_URL, card_error, invalid_request
from .common import (
    as_bool,
    as_off_session,
    as_optional_str,
    check,
    check_client_secret,
    check_setup_future_usage,
    reject_unknown,
    save_payment_method,
    three_d_secure_action,
    unexpected_state,
)

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide "
    "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)

_original_init = PaymentIntent.__init__
_original_on_success = PaymentIntent._on_success
_original_cancel = PaymentIntent._api_cancel


def _init(
    self: PaymentIntent,
    description: Any = None,
    receipt_email: Any = None,
    setup_future_usage: Any = None,
    statement_descriptor_suffix: Any = None,
    automatic_payment_methods: Any = None,
    payment_method_types: Any = None,
    return_url: Any = None,
    error_on_requires_action: Any = None,
    payment_method: Any = None,
    **data: Any,
) -> None:
    description = as_optional_str(description, "description")
    receipt_email = as_optional_str(receipt_email, "receipt_email")
    suffix = as_optional_str(statement_descriptor_suffix, "statement_descriptor_suffix", 22)
    return_url = as_optional_str(return_url, "return_url")
    check(
        payment_method_types is None
        or (isinstance(payment_method_types, list) and all(payment_method_types)),
        "payment_method_types",
    )
    if isinstance(payment_method, str):
        # Resolves test ids such as pm_card_visa to the object created for them.
        payment_method = PaymentMethod._api_retrieve(payment_method).id
    usage = check_setup_future_usage(setup_future_usage)
    automatic = _automatic_payment_methods(automatic_payment_methods)
    error_on_action = as_bool(error_on_requires_action, "error_on_requires_action")

    _original_init(self, payment_method=payment_method, **data)

    self.description = description
    self.receipt_email = receipt_email
    self.setup_future_usage = usage
    self.statement_descriptor_suffix = suffix
    self.automatic_payment_methods = automatic
    self.payment_method_types = payment_method_types or ["card"]
    self.cancellation_reason = None
    self.canceled_at = None
    self._return_url = return_url
    self._error_on_requires_action = bool(error_on_action)
    self._last_payment_error = None


def _automatic_payment_methods(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    check(isinstance(value, dict), "automatic_payment_methods")
    enabled = as_bool(value.get("enabled"), "automatic_payment_methods[enabled]")
    redirects = value.get("allow_redirects", "always")
    check(enabled is not None, "automatic_payment_methods[enabled]")
    check(redirects in ("always", "never"), "automatic_payment_methods[allow_redirects]")
    return {"enabled": enabled, "allow_redirects": redirects}


def _status(self: PaymentIntent) -> str:
    if self._canceled:
        return "canceled"
    if not self.payment_method:
        return "requires_payment_method"
    if self.next_action:
        return "requires_action"
    charge = self.latest_charge
    # A failure clears payment_method, so a failed charge here means a new attempt is ready.
    if charge is None or charge.status == "failed":
        return "requires_confirmation"
    if charge.status == "succeeded":
        return "succeeded" if charge.captured else "requires_capture"
    return "processing"


def _last_payment_error(self: PaymentIntent) -> dict[str, Any] | None:
    return self._last_payment_error


def _export(self: PaymentIntent, expand: Any = None) -> dict[str, Any]:
    obj = StripeObject._export(self, expand=expand)
    expanded = any(path.split(".")[0] == "latest_charge" for path in expand or ())
    if not expanded and isinstance(obj.get("latest_charge"), dict):
        obj["latest_charge"] = obj["latest_charge"]["id"]
    return obj


def _api_create(
    cls: type[PaymentIntent], confirm: Any = None, off_session: Any = None, **data: Any
) -> PaymentIntent:
    confirm = as_bool(confirm, "confirm")
    off_session = as_off_session(off_session)
    check(not off_session or confirm, "off_session", "You can only use off_session with confirm.")
    obj = cls(**data)
    if confirm:
        obj._confirm_attempt(off_session)
    return obj


def _api_confirm(
    cls: type[PaymentIntent],
    id: str,
    payment_method: Any = None,
    payment_method_data: Any = None,
    off_session: Any = None,
    client_secret: Any = None,
    setup_future_usage: Any = None,
    receipt_email: Any = None,
    return_url: Any = None,
    error_on_requires_action: Any = None,
    use_stripe_sdk: Any = None,
    payment_method_options: Any = None,
    mandate_data: Any = None,
    **kwargs: Any,
) -> PaymentIntent:
    reject_unknown(kwargs)
    obj = cls._api_retrieve(id)
    check_client_secret(obj, client_secret)
    if obj.status not in CONFIRMABLE:
        raise unexpected_state(obj, "confirm", CONFIRMABLE)
    off_session = as_off_session(off_session)
    usage = check_setup_future_usage(setup_future_usage)
    receipt_email = as_optional_str(receipt_email, "receipt_email")
    return_url = as_optional_str(return_url, "return_url")
    error_on_action = as_bool(error_on_requires_action, "error_on_requires_action")

    if payment_method_data is not None:
        check(isinstance(payment_method_data, dict), "payment_method_data")
        check(payment_method is None, "payment_method_data")
        obj._use_payment_method(PaymentMethod(**payment_method_data))
    elif payment_method is not None:
        check(isinstance(payment_method, str), "payment_method")
        obj._use_payment_method(PaymentMethod._api_retrieve(payment_method))

    if usage is not None:
        obj.setup_future_usage = usage
    if receipt_email is not None:
        obj.receipt_email = receipt_email
    if return_url is not None:
        obj._return_url = return_url
    if error_on_action is not None:
        obj._error_on_requires_action = error_on_action
    obj.next_action = None
    obj._confirm_attempt(off_session)
    return obj


def _use_payment_method(self: PaymentIntent, payment_method: Any) -> None:
    owner = getattr(payment_method, "customer", None)
    if owner and owner != self.customer:
        raise invalid_request(
            f"The provided PaymentMethod {payment_method.id} belongs to the Customer {owner}. "
            "Please include the Customer in the `customer` parameter on the PaymentIntent.",
            param="payment_method",
        )
    self.payment_method = payment_method.id


def _confirm_attempt(self: PaymentIntent, off_session: bool) -> None:
    if not self.payment_method:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You "
            "can either update the PaymentIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method.",
            code="payment_intent_unexpected_state",
        )
    self._confirm(on_failure_now=self._report_failure, off_session=off_session)


def _confirm(self: PaymentIntent, on_failure_now: Any, off_session: bool = False) -> None:
    self._authentication_failed = False
    self._last_payment_error = None
    payment_method = PaymentMethod._api_retrieve(self.payment_method)
    if payment_method._requires_authentication() and (
        not off_session or _authenticates_off_session(payment_method)
    ):
        if off_session or self._error_on_requires_action:
            self._decline(AUTHENTICATION_REQUIRED, on_failure_now)
            return
        self.next_action = three_d_secure_action()
        schedule_webhook(Event("payment_intent.requires_action", self))
        return
    self._create_charge(on_failure_now)


def _authenticates_off_session(payment_method: Any) -> bool:
    """Whether a 3D Secure card still needs authentication off-session."""
    set_up = getattr(payment_method, "_setup_for_off_session", False)
    return not (set_up and card_number(payment_method) in OFF_SESSION_AFTER_SETUP)


def _new_charge(self: PaymentIntent) -> Charge:
    charge = Charge(
        amount=self.amount,
        currency=self.currency,
        customer=self.customer,
        source=self.payment_method,
        description=self.description,
        capture=self.capture_method != "manual",
    )
    charge.payment_intent = self.id
    charge.receipt_email = self.receipt_email
    self.latest_charge = charge
    return charge


def _create_charge(self: PaymentIntent, on_failure_now: Any) -> None:
    if self.status != "requires_confirmation":
        raise unexpected_state(self, "confirm", ("requires_confirmation",))
    charge = self._new_charge()

    def failed_now() -> None:
        self._charge_failed(charge)
        on_failure_now()

    def failed_later() -> None:
        self._charge_failed(charge)
        self._report_async_failure()

    charge._initialize_charge(self._on_success, failed_now, failed_later)
    if self.status == "processing":
        schedule_webhook(Event("payment_intent.processing", self))


def _decline(self: PaymentIntent, decline: Decline, on_failure_now: Any) -> None:
    """Fail this attempt with a declined charge, as Stripe does off-session."""
    charge = self._new_charge()
    charge._apply_decline(decline)
    self._charge_failed(charge)
    on_failure_now()


def _charge_failed(self: PaymentIntent, charge: Charge) -> None:
    payment_method = PaymentMethod._api_retrieve(charge.payment_method)
    self._last_payment_error = {
        "type": "card_error",
        "code": charge.failure_code,
        "decline_code": getattr(charge, "_decline_code", None),
        "message": charge.failure_message,
        "charge": charge.id,
        "payment_method": payment_method._export(),
        "doc_url": DOC_URL + charge.failure_code,
    }
    self.payment_method = None


def _report_failure(self: PaymentIntent) -> None:
    schedule_webhook(Event("payment_intent.payment_failed", self))
    if self.invoice:
        Invoice._api_retrieve(self.invoice)._on_payment_failure_now()
    raise card_error(self._last_payment_error, payment_intent=self._export())


def _on_success(self: PaymentIntent) -> None:
    if self.setup_future_usage:
        payment_method = PaymentMethod._api_retrieve(self.payment_method)
        save_payment_method(payment_method, self.customer, self.setup_future_usage)
    _original_on_success(self)


def _api_authenticate(
    cls: type[PaymentIntent],
    id: str,
    client_secret: Any = None,
    success: Any = False,
    **kwargs: Any,
) -> PaymentIntent:
    """The fake Stripe.js's "Complete / Fail authentication" step of 3D Secure."""
    reject_unknown(kwargs)
    success = as_bool(success, "success")
    obj = cls._api_retrieve(id)
    check_client_secret(obj, client_secret, required=True)
    if obj.status != "requires_action":
        raise unexpected_state(obj, "authenticate", ("requires_action",))
    obj.next_action = None
    if success:
        obj._create_charge(on_failure_now=obj._report_failure)
    else:
        obj._fail_authentication()
    return obj


def _fail_authentication(self: PaymentIntent) -> None:
    payment_method = PaymentMethod._api_retrieve(self.payment_method)
    self._last_payment_error = {
        "type": "invalid_request_error",
        "code": "payment_intent_authentication_failure",
        "message": AUTHENTICATION_FAILURE_MESSAGE,
        "payment_method": payment_method._export(),
        "doc_url": DOC_URL + "payment_intent_authentication_failure",
    }
    self.payment_method = None
    self._authentication_failed = True
    schedule_webhook(Event("payment_intent.payment_failed", self))
    if self.invoice:
        Invoice._api_retrieve(self.invoice)._on_payment_failure_later()


def _api_cancel(
    cls: type[PaymentIntent], id: str, cancellation_reason: Any = None, **kwargs: Any
) -> PaymentIntent:
    check(
        cancellation_reason is None or cancellation_reason in CANCELLATION_REASONS,
        "cancellation_reason",
    )
    obj = _original_cancel(id, **kwargs)
    obj.cancellation_reason = cancellation_reason
    obj.canceled_at = int(time.time())
    schedule_webhook(Event("payment_intent.canceled", obj))
    return obj


def _api_list_all(
    cls: type[PaymentIntent],
    url: str,
    customer: Any = None,
    limit: Any = None,
    starting_after: Any = None,
    **kwargs: Any,
) -> List:
    """Newest first, optionally one customer's, as Stripe lists them (plain localstripe
    rejected the `customer` filter)."""
    reject_unknown(kwargs)
    check(customer is None or isinstance(customer, str), "customer")
    listing = List(url, limit=limit, starting_after=starting_after)
    listing._list = sorted(
        (
            obj
            for key, obj in store.items()
            if key.startswith("payment_intent:") and customer in (None, obj.customer)
        ),
        key=lambda obj: obj.created,
        reverse=True,
    )
    return listing


def apply() -> None:
    PaymentIntent.__init__ = _init
    PaymentIntent._api_list_all = classmethod(_api_list_all)
    PaymentIntent.status = property(_status)
    PaymentIntent.last_payment_error = property(_last_payment_error)
    PaymentIntent._export = _export
    PaymentIntent._api_create = classmethod(_api_create)
    PaymentIntent._api_confirm = classmethod(_api_confirm)
    PaymentIntent._api_authenticate = classmethod(_api_authenticate)
    PaymentIntent._api_cancel = classmethod(_api_cancel)
    PaymentIntent._use_payment_method = _use_payment_method
    PaymentIntent._confirm_attempt = _confirm_attempt
    PaymentIntent._confirm = _confirm
    PaymentIntent._new_charge = _new_charge
    PaymentIntent._create_charge = _create_charge
    PaymentIntent._decline = _decline
    PaymentIntent._charge_failed = _charge_failed
    PaymentIntent._report_failure = _report_failure
    PaymentIntent._on_success = _on_success
    PaymentIntent._fail_authentication = _fail_authentication
