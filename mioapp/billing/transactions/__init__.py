"""Every payment and refund across customers, newest first: the filter the Payments page and
its CSV export share (`filters`), how a search text is read (`search`), keyset pages of the
rows the filter selects (`query`) and the rows themselves (`rows`)."""

from mioapp.billing.transactions.filters import (
    MAX_SEARCH,
    Cursor,
    StatusFilter,
    TransactionFilter,
    TransactionKind,
    query_param,
)
from mioapp.billing.transactions.query import (
    EXPORT_BATCH,
    PAGE_SIZE,
    iter_transactions,
    transaction_page,
)
from mioapp.billing.transactions.rows import Transaction, TransactionPage
from mioapp.billing.transactions.search import SearchKind, classify_search

__all__ = [
    "EXPORT_BATCH",
    "MAX_SEARCH",
    "PAGE_SIZE",
    "Cursor",
    "SearchKind",
    "StatusFilter",
    "Transaction",
    "TransactionFilter",
    "TransactionKind",
    "TransactionPage",
    "classify_search",
    "iter_transactions",
    "query_param",
    "transaction_page",
]
