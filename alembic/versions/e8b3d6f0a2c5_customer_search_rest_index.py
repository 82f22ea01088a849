"""Customers: PostgreSQL index of where a search term sits other than at the start

A search that most names start with (a first name) is paged in name order from one range of
the name index plus the few other customers that contain it elsewhere. The trigram index finds
those others only among every match (23,000 of a million for "michael", each row read to see
where the term sits). This indexes, for each customer, the search text with its leading word
taken out wherever it recurs as a whole word (a first name's own email) and the rest of that
word kept (so a term inside it is still found): for a term of letters and digits, every
customer who contains it other than at the start contains it in that text (see
mioapp.customers.search._not_at_start). SQLite's FTS5 table answers the same with
`NOT ^phrase`: nothing to add there.

Revision ID: e8b3d6f0a2c5
Revises: c4f1a9e2d7b3
Create Date: 2026-11-30 14:10:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e8b3d6f0a2c5"
down_revision: Union[str, Sequence[str], None] = "c4f1a9e2d7b3"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The leading run of [a-z0-9] ("michael" of "michael smith michael.smith@..."), without its
# first character, then the text with every whole-word occurrence of that run replaced by "~".
# A term of [a-z0-9] lies inside one run: in the leading run other than at its start (kept in
# the first part), in another run equal to it other than at its start (the same), or in any
# other run (kept in the second part).
_FUNCTION = r"""
CREATE FUNCTION customer_search_rest(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
  SELECT CASE WHEN t ~ '^[a-z0-9]'
    THEN substr(substring(t from '^[a-z0-9]+'), 2) || ' '
         || regexp_replace(
              t, '(^|[^a-z0-9])' || substring(t from '^[a-z0-9]+') || '(?=[^a-z0-9]|$)',
              '\1~', 'g')
    ELSE t END
$$
"""


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute(
        "CREATE INDEX ix_customer_search_rest_trgm ON customer "
        "USING gin (customer_search_rest(search_text) gin_trgm_ops)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_customer_search_rest_trgm")
    op.execute("DROP FUNCTION customer_search_rest(text)")
