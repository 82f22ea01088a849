"""The Payments page's CSV export: a signed-in merchant's download of exactly the rows its
filters select, streamed a batch at a time (each batch its own short read)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from mioapp import auth
from mioapp.billing import transactions
from mioapp.billing.transactions import Cursor, TransactionFilter
from mioapp.billing.transactions_csv import HEADER, csv_text, row_cells
from mioapp.business import BusinessProfile, current_profile
from mioapp.db import Database
from mioapp.formatting import local_time
from mioapp.models import utcnow
from mioapp.web.sign_in import token_from_cookie_header


async def export_rows(
    db: Database, f: TransactionFilter, profile: BusinessProfile, batch: int
) -> AsyncIterator[str]:
    # A UTF-8 byte order mark, so spreadsheet programs read names with accents correctly.
    yield "\ufeff" + csv_text([HEADER])
    after: Cursor | None = None
    while True:

        def read(session: Session, after=after):
            return transactions.transaction_page(
                session, f, time_zone=profile.time_zone, after=after, page_size=batch
            )

        page = await db.run(read)
        if page.rows:
            yield csv_text(row_cells(t, profile) for t in page.rows)
        if page.older is None:
            return
        after = page.older


def payments_export_endpoint(db: Database, *, batch: int = transactions.EXPORT_BATCH):
    async def payments_export(request: Request) -> Response:
        token = token_from_cookie_header(request.headers.get("cookie", ""))

        def check(session: Session):
            return auth.user_for_token(session, token), current_profile(session)

        user, profile = await db.run(check)
        if user is None:
            return PlainTextResponse(
                "Sign in to export payments.",
                status_code=401,
                headers={"Cache-Control": "no-store"},
            )
        f = TransactionFilter.from_params(request.query_params)
        stamp = local_time(utcnow(), profile).strftime("%Y-%m-%d")
        return StreamingResponse(
            export_rows(db, f, profile, batch),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="payments-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return payments_export
