"""How the frontend is built: the app's Radix theme, and its code cut for a first visit on a phone.

Three changes to Reflex's defaults, each measured on the pay page (`make bench`):
- Radix Themes is not registered for dynamic components. That registration makes every
  page import the whole library (115 KB compressed) to keep its namespace on
  window.__reflex; this app has no dynamic components, so each page bundles only the
  Radix components it renders. The package is still installed (every component names it).
- Third-party code goes into one "vendor" chunk. Left to itself, the bundler cut it into
  dozens of small shared chunks (29 requests for the pay page, 14 now), each a round trip
  on a slow mobile network.
- Radix's style sheet carries only the color scales the app names (COLOR_SCALES) instead
  of all 31, 15 KB less to fetch and parse before the first paint.
"""

from __future__ import annotations

import dataclasses
import logging
import re

import reflex as rx
from reflex import constants

logger = logging.getLogger(__name__)

# Rolldown's chunk groups in the vite.config.js Reflex writes; ours goes first in the list.
_CHUNK_GROUPS = re.compile(r"(codeSplitting:\s*\{\s*groups:\s*\[)")
VENDOR_GROUP = '{ test: /[\\/]node_modules[\\/]/, name: "vendor" },'

# The theme's accent (indigo) and gray (slate), "gray", and every color_scheme= and
# rx.color() in mioapp/ui; tests/unit/test_build_plugin.py fails when the UI names another.
COLOR_SCALES = ("gray", "slate", "indigo", "red", "green", "amber", "blue", "violet", "orange")
_RADIX = "@radix-ui/themes"


def one_vendor_chunk(vite_config: str) -> str:
    """Reflex's vite.config.js with every third-party module grouped into one chunk."""
    patched, count = _CHUNK_GROUPS.subn(
        lambda match: f"{match.group(1)} {VENDOR_GROUP}", vite_config, count=1
    )
    if not count:
        logger.warning("vite.config.js has no codeSplitting groups: chunks left as they are")
    return patched


@dataclasses.dataclass
class FrontendBuildPlugin(rx.plugins.RadixThemesPlugin):
    """Reflex's Radix Themes plugin (the theme around every page) with the changes above."""

    def get_frontend_dependencies(self, **context: object) -> tuple[str, ...]:
        return ()

    def get_stylesheet_paths(self, **context: object) -> tuple[str, ...]:
        # Radix's documented split of styles.css: base tokens, one file per color, the rest.
        return (
            f"{_RADIX}/tokens/base.css",
            *(f"{_RADIX}/tokens/colors/{color}.css" for color in COLOR_SCALES),
            f"{_RADIX}/components.css",
            f"{_RADIX}/utilities.css",
        )

    def pre_compile(self, **context) -> None:
        super().pre_compile(**context)
        context["add_modify_task"](constants.ReactRouter.VITE_CONFIG_FILE, one_vendor_chunk)


def frontend_build_plugin() -> FrontendBuildPlugin:
    return FrontendBuildPlugin(
        theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large")
    )
