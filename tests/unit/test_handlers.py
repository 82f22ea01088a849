"""Every event handler of the app's pages is async and every dashboard one checks sign-in:
a plain `def` handler runs on Reflex's event loop and would stall every user of the process
while it waits on Stripe, SMTP or the database."""

from __future__ import annotations

import inspect

import pytest
import reflex as rx

import mioapp.mioapp  # noqa: F401  (registers every page state)
from mioapp.ui.merchant_state import MerchantState
from mioapp.ui.pages.login.state import LoginState

# The one dashboard handler that runs signed out: the sign-in page's own load.
PUBLIC = {(LoginState, "load")}


def _app_states() -> list[type[rx.State]]:
    found, todo = [], [rx.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("mioapp."):
            found.append(cls)
    return found


def _handlers(cls: type[rx.State]):
    for name, handler in cls.event_handlers.items():
        fn = handler.fn
        if fn.__module__.startswith("mioapp.") and name in cls.__dict__:
            yield name, fn


def test_the_app_has_page_states_to_check() -> None:
    names = {cls.__name__ for cls in _app_states()}
    assert {"CustomerState", "ChargeState", "PayState", "OutboxState"} <= names


@pytest.mark.parametrize("cls", _app_states(), ids=lambda cls: cls.__name__)
def test_handlers_never_block_the_event_loop(cls: type[rx.State]) -> None:
    blocking = [
        name
        for name, fn in _handlers(cls)
        if not (inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn))
    ]
    assert blocking == [], f"{cls.__name__} handlers must be async: {blocking}"


@pytest.mark.parametrize(
    "cls",
    [cls for cls in _app_states() if issubclass(cls, MerchantState)],
    ids=lambda cls: cls.__name__,
)
def test_dashboard_handlers_check_the_sign_in(cls: type[rx.State]) -> None:
    unguarded = [
        name
        for name, fn in _handlers(cls)
        if (cls, name) not in PUBLIC and not getattr(fn, "requires_sign_in", False)
    ]
    assert unguarded == [], f"{cls.__name__} handlers without @signed_in: {unguarded}"
