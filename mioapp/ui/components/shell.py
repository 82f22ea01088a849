"""The dashboard frame: a skip link, sidebar navigation, the merchant's name and sign-out,
and the page's one `main` landmark; plus the blocks every page is built from (page heading,
cards, sections, empty and loading states, dialog headers)."""

from __future__ import annotations

import reflex as rx

from mioapp.ui import styles
from mioapp.ui.components.focus import focus_on_arrival
from mioapp.ui.components.forms import NativeForm
from mioapp.ui.components.layout import column, icon_button, row, stack
from mioapp.ui.components.text import muted
from mioapp.ui.merchant_state import MerchantState
from mioapp.web import routes

NAV = [
    ("Customers", routes.CUSTOMERS, "users"),
    ("Payments", routes.PAYMENTS, "credit-card"),
    ("Outbox", routes.OUTBOX, "mail"),
    ("Settings", routes.PAYMENT_SETTINGS, "settings"),
]
# The `main` landmark's id: the skip link's target.
CONTENT_ID = "content"
# The page's h1: focused after in-app navigation.
TITLE_ID = "page-title"


def logo(size: int) -> rx.Component:
    """The MioCommerce mark: a white wave on the accent colour."""
    return rx.center(
        rx.icon("waves", size=size * 9 // 16, color="white"),
        background=rx.color("accent", 9),
        border_radius=f"{size // 4}px",
        width=f"{size}px",
        height=f"{size}px",
        flex_shrink="0",
        aria_hidden="true",
    )


def brand(
    name, size: int = 32, *, title_size: str = "3", subtitle=None, heading: bool = False
) -> rx.Component:
    """The logo beside a name (and a smaller line under it); with `heading`, the name is the
    page's h1."""
    if heading:
        lines = rx.heading(name, as_="h1", size=title_size)
    else:
        lines = rx.text(name, weight="bold", size=title_size)
    if subtitle is not None:
        lines = rx.vstack(lines, muted(subtitle, size="1"), spacing="0")
    return rx.hstack(logo(size), lines, spacing="3", align="center")


def skip_link() -> rx.Component:
    """The first stop of the Tab key: past the navigation, to the page itself."""
    return rx.el.a(
        "Skip to content",
        href=f"#{CONTENT_ID}",
        class_name="skip-link",
        # The router would take the bare fragment link over; focus the content itself.
        on_click=[rx.prevent_default, rx.set_focus(CONTENT_ID)],
    )


def _nav_item(label: str, href: str, icon: str, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3", weight="medium"), spacing="3"),
        href=href,
        underline="none",
        color=rx.color("gray", 12) if active else rx.color("gray", 11),
        background=rx.color("accent", 3) if active else "transparent",
        padding_x="12px",
        padding_y="8px",
        border_radius="8px",
        width="100%",
        _hover={"background": rx.color("gray", 3)},
        aria_current="page" if active else None,
    )


def _sidebar(active: str) -> rx.Component:
    return rx.el.nav(
        column(
            rx.box(
                brand("MioCommerce", subtitle=MerchantState.business_name), padding="0 12px 20px"
            ),
            *[_nav_item(label, href, icon, label == active) for label, href, icon in NAV],
            align="stretch",
            padding="20px 12px",
            position="sticky",
            top="0",
        ),
        aria_label="Main",
        display=rx.breakpoints(initial="none", sm="block"),
        **styles.SIDEBAR,
    )


def _phone_nav(active: str) -> rx.Component:
    """The same places as the sidebar, as icons, on screens too narrow for it."""
    return rx.el.nav(
        rx.hstack(
            *[
                rx.link(
                    rx.icon(icon, size=20),
                    href=href,
                    aria_label=label,
                    color=rx.color("gray", 12) if label == active else rx.color("gray", 11),
                    aria_current="page" if label == active else None,
                    padding="6px",
                    border_radius="8px",
                    background=rx.color("accent", 3) if label == active else "transparent",
                    display="flex",
                )
                for label, href, icon in NAV
            ],
            spacing="2",
        ),
        aria_label="Main",
        display=rx.breakpoints(initial="block", sm="none"),
    )


def _topbar(active: str) -> rx.Component:
    return rx.el.header(
        row(
            _phone_nav(active),
            rx.spacer(),
            row(
                rx.avatar(fallback=MerchantState.merchant_name[:1], size="2", radius="full"),
                rx.vstack(
                    rx.text(MerchantState.merchant_name, size="2", weight="medium"),
                    muted(MerchantState.merchant_email, size="1"),
                    spacing="0",
                    display=rx.breakpoints(initial="none", sm="flex"),
                ),
                # A plain form post: the server ends the login session and clears the
                # HttpOnly cookie, which no page script can touch.
                NativeForm.create(
                    icon_button("log-out", "Sign out", type="submit", variant="ghost"),
                    method="post",
                    action=routes.SIGN_OUT_POST,
                ),
            ),
            width="100%",
        ),
        width="100%",
        padding=["10px 16px", "12px 24px", "12px 32px"],
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
    )


def dashboard(active: str, *content: rx.Component) -> rx.Component:
    """Wrap a page's content in the app shell."""
    return rx.box(
        skip_link(),
        focus_on_arrival(target=""),
        rx.hstack(
            _sidebar(active),
            rx.vstack(
                _topbar(active),
                rx.el.main(
                    stack(*content, spacing="5", max_width="1200px"),
                    id=CONTENT_ID,
                    tab_index=-1,
                    **styles.MAIN,
                ),
                spacing="0",
                **styles.PAGE_COLUMN,
            ),
            spacing="0",
            width="100%",
            background=rx.color("gray", 2),
            align="start",
        ),
    )


def page_title(title, **props) -> rx.Component:
    """The page's one h1; focused after in-app navigation, so it is announced."""
    props.setdefault("size", "7")
    return rx.fragment(
        rx.heading(title, as_="h1", id=TITLE_ID, tab_index=-1, outline="none", **props),
        focus_on_arrival(target=TITLE_ID),
    )


def page_header(title, subtitle, *actions: rx.Component) -> rx.Component:
    """The page's title and what it is for, with its actions on the right."""
    return rx.flex(
        rx.vstack(page_title(title), muted(subtitle, size="3"), spacing="1"),
        rx.spacer(),
        *actions,
        width="100%",
        align=rx.breakpoints(initial="start", sm="end"),
        direction=rx.breakpoints(initial="column", sm="row"),
        gap="3",
    )


def card(*children: rx.Component, **props) -> rx.Component:
    props.setdefault("size", rx.breakpoints(initial="2", sm="3"))
    return rx.card(*children, width="100%", **props)


def section(
    title: str, *children: rx.Component, action: rx.Component | None = None
) -> rx.Component:
    """A titled card (h2); a landmark named after its title (get_by_role("region", name=...))."""
    return rx.el.section(
        card(
            stack(
                rx.hstack(
                    rx.heading(title, as_="h2", size="4", weight="bold"),
                    rx.spacer(),
                    action or rx.fragment(),
                    width="100%",
                    align="center",
                ),
                *children,
            )
        ),
        aria_label=title,
        width="100%",
    )


def empty_state(
    icon: str, title: str, hint: str, *actions: rx.Component, heading: bool = False
) -> rx.Component:
    """Nothing to list (or nothing found): what it means and what to do next. With
    `heading`, the title is the page's h1."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=32 if heading else 28, color=rx.color("gray", 9)),
            page_title(title, size="5") if heading else rx.text(title, weight="medium"),
            muted(hint, align="center"),
            *actions,
            align="center",
            spacing="2",
        ),
        padding="48px 16px" if heading else "32px",
        width="100%",
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding="48px", width="100%", role="status")


def list_or_empty(
    rows: rx.Var, table: rx.Component, empty: rx.Component, loaded: rx.Var | None = None
) -> rx.Component:
    """The table when there are rows; else the empty state (once `loaded`, a spinner before,
    for a page that loads its rows after it shows)."""
    return rx.cond(
        rows.length() > 0,
        table,
        empty if loaded is None else rx.cond(loaded, empty, loading()),
    )


def fit_dialog(max_width: str) -> dict:
    """A dialog's size: up to `max_width`, and on a phone the screen less a margin, scrolling
    inside itself."""
    return {
        "max_width": max_width,
        "width": "calc(100vw - 24px)",
        # Radix keeps 32 px above a dialog and at least as much below.
        "max_height": "calc(100dvh - 72px)",
        "overflow_y": "auto",
        "padding": rx.breakpoints(initial="16px", sm="24px"),
    }


def close_button() -> rx.Component:
    return rx.dialog.close(
        rx.icon_button(
            rx.icon("x", size=18), variant="ghost", color_scheme="gray", aria_label="Close"
        )
    )


def dialog_header(title, **title_props) -> rx.Component:
    """A dialog's title with the close button on its right."""
    return rx.hstack(
        rx.dialog.title(title, margin="0", **title_props),
        rx.spacer(),
        close_button(),
        width="100%",
        align="start",
    )
