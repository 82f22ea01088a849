"""The Radix Themes set-up for the build: the app's theme, and only the code pages use."""

from __future__ import annotations

import dataclasses

import reflex as rx


@dataclasses.dataclass
class PageSizedRadixThemes(rx.plugins.RadixThemesPlugin):
    """Radix Themes without the whole library on every page.

    The stock plugin registers @radix-ui/themes for dynamic components (code evaluated in
    the browser, looked up on window.__reflex), so every page's bundle imports the entire
    library (115 KB compressed) to keep its namespace at hand. This app has no dynamic
    components; without that registration each page's chunk holds just the components it
    renders. The package itself is still installed: every Radix component names it.
    """

    def get_frontend_dependencies(self, **context: object) -> tuple[str, ...]:
        return ()


def radix_themes() -> PageSizedRadixThemes:
    return PageSizedRadixThemes(
        theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large")
    )
