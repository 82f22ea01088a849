"""The paged-list base of list pages (customers, outbox): a page at a time in a fixed order,
turned by keyset (the page after the last row shown, or before the first), never by OFFSET."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from mioapp.ui.merchant_state import MerchantState, signed_in


@dataclass(frozen=True)
class PageInfo:
    """Where a page sits: whether there are rows either side, the ids of its first and last
    row (where the next turn starts), and how many rows the list has (a floor when `more`)."""

    has_previous: bool
    has_next: bool
    first_id: int | None
    last_id: int | None
    total: int
    more: bool = False


class PagedListState(MerchantState, mixin=True):
    """Mixed into a list page's state, `class XState(PagedListState, MerchantState)` (a
    state whose bases are all mixins is a mixin too). The page implements `_load_page` (read
    one page into its own rows) and may override `_turn` (the customers list turns pages
    through its URL)."""

    has_previous: bool = False
    has_next: bool = False
    loaded: bool = False
    # "25 emails", "1,000+ customers".
    total_label: str = ""
    # Where the previous and next pages start: ids of the first and last rows shown (not
    # secret: they are in every row's link).
    first_id: int = 0
    last_id: int = 0
    # The cursor of the page shown (0: none), so a refresh shows the same page again.
    _shown_after: int = 0
    _shown_before: int = 0
    # What the rows are, plural ("customers").
    noun: ClassVar[str] = "rows"

    async def _load_page(self, *, after: int | None, before: int | None) -> PageInfo:
        raise NotImplementedError

    async def _show(self, *, after: int | None = None, before: int | None = None) -> None:
        info = await self._load_page(after=after, before=before)
        self._shown_after, self._shown_before = after or 0, before or 0
        self.has_previous, self.has_next = info.has_previous, info.has_next
        self.first_id, self.last_id = info.first_id or 0, info.last_id or 0
        count = f"{info.total:,}+" if info.more else f"{info.total:,}"
        noun = self.noun[:-1] if info.total == 1 and not info.more else self.noun
        self.total_label = f"{count} {noun}"
        self.loaded = True

    async def _turn(self, *, after: int | None = None, before: int | None = None):
        """Show the page after / before a row; a page state may send it through its URL."""
        await self._show(after=after, before=before)

    @rx.event
    @signed_in
    async def refresh(self):
        """Read the page shown again."""
        await self._show(after=self._shown_after or None, before=self._shown_before or None)

    @rx.event
    @signed_in
    async def next_page(self):
        if self.has_next and self.last_id:
            return await self._turn(after=self.last_id)
        return None

    @rx.event
    @signed_in
    async def previous_page(self):
        if self.has_previous and self.first_id:
            return await self._turn(before=self.first_id)
        return None
