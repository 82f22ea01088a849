"""The app's toast provider, with sonner loaded on the first toast; the React side is
assets/lazy_toaster.jsx.

Reflex's own provider imports sonner (about 9 KB compressed, and its styles, inserted when
it runs) into the code every page shares, so a customer's phone fetched and ran it on the
pay page, which shows no toasts. This one renders sonner's Toaster with the same props once
a toast is asked for; until then refs["__toast"] is a stand-in that keeps the toasts and
shows them, in order, when sonner has loaded. rx.toast works unchanged.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.components.component import field
from reflex_base.style import resolved_color_mode
from reflex_components_sonner.toast import LiteralPosition, Toaster


class LazyToaster(rx.Component):
    """sonner's Toaster, loaded on the first toast (see the module docstring).

    Not a subclass of Reflex's Toaster: Reflex gathers every class's hooks, and that one's
    imports sonner's toast into the shared code. The props are those Reflex's provider
    sets, with its defaults.
    """

    # Files in assets/ are copied to .web/public (see stripe_card.py).
    library = "$/public/lazy_toaster.jsx"
    tag = "LazyToaster"

    # Imported by lazy_toaster.jsx when the first toast comes: the version Reflex pins.
    lib_dependencies: list[str] = [Toaster.library]

    theme: rx.Var[str] = field(default=resolved_color_mode)
    rich_colors: rx.Var[bool] = field(default=rx.Var.create(True))
    expand: rx.Var[bool] = field(default=rx.Var.create(True))
    position: rx.Var[LiteralPosition] = field(default=rx.Var.create("bottom-right"))
    close_button: rx.Var[bool] = field(default=rx.Var.create(False))


lazy_toaster = LazyToaster.create
