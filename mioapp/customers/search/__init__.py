"""Customer search and the customers list: keyset pages in three orders, each customer with
their outstanding balance and whether any of it is overdue.

Search matches a substring of the case-folded name, email, phone and phone digits
(`Customer.search_text`) through an index built for that: SQLite's FTS5 trigram table
`customer_fts`, PostgreSQL's pg_trgm GIN index. A trigram index needs three characters; a
query of one or two matches names that start with it, read off the name-order index.

How a page is found depends on how common the match is, so neither case scans: a rare one
(at most CANDIDATE_LIMIT customers) is read from the search index in full (`index`); a
common one is found by walking the chosen order's index (`walks`, which says how).

The modules: `limits` (where each read or walk stops, and the list's sizes), `terms` (the
query as read, the sort orders, and the conditions a query makes), `index` (reads of the
search index, and `containing` for the Payments page), `walks` (a common search's page,
walked in list order and merged), `pages` (the list's pages, `search_customers`).
"""

from mioapp.customers.search.index import containing
from mioapp.customers.search.limits import MAX_QUERY
from mioapp.customers.search.pages import CustomerPage, CustomerRow, search_customers
from mioapp.customers.search.terms import CustomerSort, normalize, parse_sort

__all__ = [
    "MAX_QUERY",
    "CustomerPage",
    "CustomerRow",
    "CustomerSort",
    "containing",
    "normalize",
    "parse_sort",
    "search_customers",
]
