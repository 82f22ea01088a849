"""What the Payments page and its export select: the filter kept in the page's URL, and the
cursor that marks a row's place in the (time, kind, id) order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from mioapp.models import PaymentMethodKind, PaymentStatus, RefundStatus

MAX_SEARCH = 100


class TransactionKind(StrEnum):
    # The values sort in the key's order: at one instant, refunds come before payments.
    PAYMENT = "payment"
    REFUND = "refund"


class StatusFilter(StrEnum):
    """The statuses a merchant filters by; each covers payment and refund statuses."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


PAYMENT_STATUSES: dict[StatusFilter, tuple[PaymentStatus, ...]] = {
    StatusFilter.SUCCEEDED: (PaymentStatus.SUCCEEDED,),
    StatusFilter.PENDING: (
        PaymentStatus.CREATED,
        PaymentStatus.PROCESSING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.UNKNOWN,
    ),
    StatusFilter.FAILED: (PaymentStatus.FAILED,),
    StatusFilter.CANCELED: (PaymentStatus.CANCELED,),
}
REFUND_STATUSES: dict[StatusFilter, tuple[RefundStatus, ...]] = {
    StatusFilter.SUCCEEDED: (RefundStatus.SUCCEEDED,),
    StatusFilter.PENDING: (RefundStatus.PENDING,),
    StatusFilter.FAILED: (RefundStatus.FAILED,),
    StatusFilter.CANCELED: (),
}


def query_param(params: Mapping[str, object], name: str) -> str:
    """One URL query parameter's value, stripped ("" if absent; the first of a repeat)."""
    value = params.get(name, "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value).strip()


def _parsed(parse, text: str):
    """`parse(text)`, or None for an empty text or one it refuses."""
    try:
        return parse(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TransactionFilter:
    """What the Payments page shows and its export writes; kept in the page's URL."""

    status: StatusFilter | None = None
    method: PaymentMethodKind | None = None
    kind: TransactionKind | None = None
    # Days on the business's clock, both included.
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> TransactionFilter:
        """From URL query parameters; a value that means nothing is ignored, never an error."""
        text = {
            name: query_param(params, name) for name in ("status", "method", "type", "from", "to")
        }
        return cls(
            status=_parsed(StatusFilter, text["status"]),
            method=_parsed(PaymentMethodKind, text["method"]),
            kind=_parsed(TransactionKind, text["type"]),
            date_from=_parsed(date.fromisoformat, text["from"]),
            date_to=_parsed(date.fromisoformat, text["to"]),
            search=query_param(params, "q")[:MAX_SEARCH],
        )

    def to_params(self) -> dict[str, str]:
        """The query parameters that give this filter back (empty ones left out)."""
        params = {
            "status": self.status,
            "method": self.method,
            "type": self.kind,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "q": self.search,
        }
        return {name: str(value) for name, value in params.items() if value}


@dataclass(frozen=True)
class Cursor:
    """A row's place in the order: (time, kind, id)."""

    at: datetime
    kind: TransactionKind
    id: int

    def encode(self) -> str:
        return f"{self.at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}~{self.kind.value}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for anything that is not a cursor this module wrote."""
        parts = str(text).split("~")
        if len(parts) != 3 or not parts[2].isdigit() or len(parts[2]) > 18:
            return None
        try:
            at = datetime.strptime(parts[0], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
            return cls(at=at, kind=TransactionKind(parts[1]), id=int(parts[2]))
        except ValueError:
            return None
