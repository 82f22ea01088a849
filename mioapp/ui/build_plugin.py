"""How the frontend is built: the app's Radix theme, and its code cut for a first visit on a phone.

Two changes to Reflex's defaults, both measured on the pay page (`make bench`):
- Radix Themes is not registered for dynamic components. That registration makes every
  page import the whole library (115 KB compressed) to keep its namespace on
  window.__reflex; this app has no dynamic components, so each page bundles only the
  Radix components it renders. The package is still installed (every component names it).
- Third-party code goes into one "vendor" chunk. Left to itself, the bundler cut it into
  dozens of small shared chunks (29 requests for the pay page, 14 now), each a round trip
  on a slow mobile network.
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
    """Reflex's Radix Themes plugin (theme, stylesheet) with the two changes above."""

    def get_frontend_dependencies(self, **context: object) -> tuple[str, ...]:
        return ()

    def pre_compile(self, **context) -> None:
        super().pre_compile(**context)
        context["add_modify_task"](constants.ReactRouter.VITE_CONFIG_FILE, one_vendor_chunk)


def frontend_build_plugin() -> FrontendBuildPlugin:
    return FrontendBuildPlugin(
        theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large")
    )
