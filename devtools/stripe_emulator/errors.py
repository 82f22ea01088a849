# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""Stripe-shaped API errors raised by the patch layer.

They subclass localstripe's ``UserError`` so its handlers and our error middleware turn them
into JSON responses of the form ``{"error": {"type": ..., "message": ..., ...}}``.
"""

from typing import Any

from localstripe.errors import UserError

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(UserError):
    """A ``UserError`` whose ``error.type`` is chosen (localstripe forces invalid_request_error)."""

    def __init__(self, status: int, error_type: str, message: str, **fields: Any) -> None:
        contents = {key: value for key, value in fields.items() if value is not None}
        super().__init__(status, message, contents)
        self.body["error"]["type"] = error_type


def invalid_request(
    message: str, *, status: int = 400, code: str | None = None, param: str | None = None
) -> StripeError:
    """A 400-class ``invalid_request_error`` (add ``doc_url`` when a code is known)."""
    return StripeError(
        status,
        "invalid_request_error",
        message,
        code=code,
        param=param,
        doc_url=DOC_URL + code if code else None,
    )


def authentication_error(message: str) -> StripeError:
    """A 401 like Stripe's for a missing, unknown or insufficient API key."""
    return StripeError(401, "invalid_request_error", message)


def idempotency_error(key: str) -> StripeError:
    """The 400 Stripe answers when an idempotency key is reused with other parameters."""
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
    )


def card_error(error: dict[str, Any], **objects: Any) -> StripeError:
    """A 402 ``card_error`` built from a ``last_payment_error``-style dict plus objects
    such as ``payment_intent`` / ``setup_intent`` (already exported to dicts)."""
    fields = {key: value for key, value in error.items() if key not in ("type", "message")}
    return StripeError(402, "card_error", error["message"], **fields, **objects)
