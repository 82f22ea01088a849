"""The refusal every money rule raises: a request that cannot be done as asked."""

from __future__ import annotations


class ChargeError(Exception):
    """A charge, link or refund that cannot be made as asked; `field` names the form input
    at fault ("bookings", "amount", "card", "duplicate", "expiry", ...) so a page can show the
    message next to it."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field
