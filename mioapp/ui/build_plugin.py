"""How the frontend is built: the app's Radix theme, and its code cut for a first visit on a phone.

Three changes to Reflex's defaults, each measured on the pay page (`make bench`):
- Radix Themes is not registered for dynamic components. That registration makes every
  page import the whole library (115 KB compressed) to keep its namespace on
  window.__reflex; this app has no dynamic components, so each page bundles only the
  Radix components it renders. The package is still installed (every component names it).
- Third-party code goes into two chunks: "vendor", what every page and the public pay pages
  need, and "vendor-dashboard", what only the merchant's pages use (dialogs, selects,
  tables, tabs, ...; DASHBOARD_ONLY). Left to itself, the bundler cut it into dozens of
  small shared chunks (29 requests for the pay page, 14 now), each a round trip on a slow
  mobile network; in one chunk, a customer's phone downloaded and parsed the dashboard's
  code too (188 KB of scripts for the pay page, 164 KB without it).
- Radix Themes' Theme gets a Tooltip provider that provides nothing
  (assets/theme_primitives.js): the app renders no tooltip, and the real one brought
  Radix's tooltip and popper code (about 15 KB compressed) into every page.
- Radix's style sheet carries only the color scales the app names (COLOR_SCALES) instead
  of all 31, 15 KB less to fetch and parse before the first paint, and its component and
  utility rules only for the components and breakpoints the app uses (radix_css.py).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import reflex as rx
from reflex import constants
from reflex.utils import prerequisites

from mioapp.ui import radix_css

logger = logging.getLogger(__name__)

# Rolldown's chunk groups in the vite.config.js Reflex writes; ours go first in the list.
_CHUNK_GROUPS = re.compile(r"(codeSplitting:\s*\{\s*groups:\s*\[)")

# What only the merchant's pages use: Radix Themes components that neither the pay pages
# (/pay/<token> and its receipt) nor the shell around every page render, and the packages
# only those components or the dashboard's own inputs import. Only a matter of speed: a
# module listed here that a pay page needs after all makes that page fetch
# vendor-dashboard too (tests/e2e/test_page_weight.py fails), and anything a "vendor"
# module imports is pulled into "vendor" by the bundler whatever this list says.
DASHBOARD_ONLY_THEMES_COMPONENTS = (
    "alert-dialog",
    "avatar",
    "badge",
    "code",
    "dialog",
    "grid",
    "icon-button",
    "popover",
    "radio-group",
    "scroll-area",
    "select",
    "table",
    "tabs",
    "text-area",
    "text-field",
)
DASHBOARD_ONLY_PACKAGES = (
    *(
        f"@radix-ui/react-{name}"
        for name in (
            "alert-dialog",
            "avatar",
            "collection",
            "dialog",
            "dismissable-layer",
            "focus-guards",
            "focus-scope",
            "form",
            "popover",
            "popper",
            "portal",
            "radio-group",
            "roving-focus",
            "scroll-area",
            "select",
            "tabs",
            "use-is-hydrated",
        )
    ),
    "@radix-ui/number",
    # Positions popovers and select menus (the pay pages have neither, and no tooltip).
    "@floating-ui",
    "aria-hidden",
    "get-nonce",
    "lodash.debounce",
    "react-debounce-input",
    "react-remove-scroll",
    "react-remove-scroll-bar",
    "react-style-singleton",
    # Toasts: loaded with the first one (mioapp/ui/components/toaster.py), which on a pay
    # page can only be Reflex's connection error.
    "sonner",
    "use-callback-ref",
    "use-sidecar",
)


def _js_path(path: str) -> str:
    """A path for a JS regular expression literal: either separator, dots literal."""
    return re.escape(path).replace("/", "[\\\\/]").replace("\\-", "-")


def _dashboard_only_regex() -> str:
    components = "|".join(_js_path(name) for name in DASHBOARD_ONLY_THEMES_COMPONENTS)
    packages = "|".join(_js_path(name) for name in DASHBOARD_ONLY_PACKAGES)
    themes = _js_path("@radix-ui/themes/dist/esm/components/")
    sep = "[\\\\/]"
    return (
        f"/{sep}node_modules{sep}(?:{themes}(?:{components})(?:\\.props)?\\.js$"
        f"|(?:{packages}){sep})/"
    )


_NODE_MODULES = "/[\\\\/]node_modules[\\\\/]/"
VENDOR_GROUPS = (
    f"{{ test: (id) => {_NODE_MODULES}.test(id) && !{_dashboard_only_regex()}.test(id),"
    ' name: "vendor", priority: 2 },'
    f' {{ test: {_NODE_MODULES}, name: "vendor-dashboard", priority: 1 }},'
)

# Where Radix Themes' theme.js imports "radix-ui", it gets assets/theme_primitives.js
# (copied to .web/public) instead; every other module gets the real package.
THEME_PRIMITIVES_PLUGIN = r"""
function themeWithoutTooltips() {
  return {
    name: "mioapp-theme-without-tooltips",
    enforce: "pre",
    resolveId: {
      filter: { id: /^radix-ui$/ },
      handler(source, importer) {
        const theme = /@radix-ui[\\/]themes[\\/].*[\\/]components[\\/]theme\.js$/;
        if (importer && theme.test(importer)) {
          return fileURLToPath(new URL("./public/theme_primitives.js", import.meta.url));
        }
        return null;
      },
    },
  };
}
"""
_PLUGINS = re.compile(r"(plugins:\s*\[)")
_EXPORT = "export default defineConfig("

# The theme's accent (indigo) and gray (slate), "gray", and every color_scheme= and
# rx.color() in mioapp/ui; tests/unit/test_build_plugin.py fails when the UI names another.
COLOR_SCALES = ("gray", "slate", "indigo", "red", "green", "amber", "blue", "violet", "orange")
_RADIX = "@radix-ui/themes"
# Radix's component and utility sheets, trimmed, beside Reflex's root style sheet.
TRIMMED_SHEETS = ("components.css", "utilities.css")


def radix_sheet(name: str) -> Path:
    """One of Radix Themes' own style sheets, as installed in the frontend's packages."""
    return prerequisites.get_web_dir() / "node_modules" / _RADIX / name


def _trimmed_sheet(name: str) -> str:
    return radix_css.trimmed(radix_sheet(name).read_text(encoding="utf-8"))


def vendor_chunks(vite_config: str) -> str:
    """Reflex's vite.config.js with third-party modules grouped into the two vendor chunks."""
    patched, count = _CHUNK_GROUPS.subn(
        lambda match: f"{match.group(1)} {VENDOR_GROUPS}", vite_config, count=1
    )
    if not count:
        logger.warning("vite.config.js has no codeSplitting groups: chunks left as they are")
    return patched


def theme_without_tooltips(vite_config: str) -> str:
    """Reflex's vite.config.js with the plugin giving Theme its tooltip-less primitives."""
    patched, count = _PLUGINS.subn(
        lambda match: f"{match.group(1)}themeWithoutTooltips(), ", vite_config, count=1
    )
    if not count or _EXPORT not in patched:
        logger.warning("vite.config.js has no plugins list: Theme keeps its tooltip provider")
        return vite_config
    return patched.replace(_EXPORT, f"{THEME_PRIMITIVES_PLUGIN}\n{_EXPORT}", 1)


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
            *(f"./radix-{name}" for name in TRIMMED_SHEETS),
        )

    def pre_compile(self, **context) -> None:
        super().pre_compile(**context)
        context["add_modify_task"](constants.ReactRouter.VITE_CONFIG_FILE, vendor_chunks)
        context["add_modify_task"](constants.ReactRouter.VITE_CONFIG_FILE, theme_without_tooltips)
        for name in TRIMMED_SHEETS:
            # Written empty, then filled once the frontend's packages are installed (Reflex
            # applies modify tasks after installing them, save tasks before).
            path = f"{constants.Dirs.STYLES}/radix-{name}"
            context["add_save_task"](lambda path=path: (path, ""))
            context["add_modify_task"](path, lambda _empty, name=name: _trimmed_sheet(name))


def frontend_build_plugin() -> FrontendBuildPlugin:
    return FrontendBuildPlugin(
        theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large")
    )
