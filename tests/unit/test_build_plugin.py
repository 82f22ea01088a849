"""The frontend build plugin: Radix Themes per page, third-party code in two chunks."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

import pytest
from reflex_base.compiler.templates import vite_config_template
from reflex_components_radix.themes.base import LiteralAccentColor, LiteralGrayColor

import mioapp.ui
from mioapp.settings import PROJECT_ROOT
from mioapp.ui import build_plugin
from mioapp.ui.build_plugin import (
    COLOR_SCALES,
    VENDOR_GROUPS,
    frontend_build_plugin,
    theme_without_tooltips,
    vendor_chunks,
)

RADIX_COLORS = {*get_args(LiteralAccentColor), *get_args(LiteralGrayColor)} - {"auto"}


def reflex_vite_config() -> str:
    """The vite.config.js Reflex 0.10 writes for a production build."""
    return vite_config_template(
        base="/", hmr=False, force_full_reload=False, experimental_hmr=False, sourcemap=False
    )


def test_the_vendor_groups_go_into_reflexs_own_vite_config() -> None:
    original = reflex_vite_config()
    patched = vendor_chunks(original)
    assert patched.count(VENDOR_GROUPS) == 1
    assert patched.replace(f" {VENDOR_GROUPS}", "") == original, "nothing else changes"
    groups = patched[patched.index("groups: [") :]
    assert groups.index(VENDOR_GROUPS) < groups.index('name: "reflex-env"')


def dashboard_only(module_id: str) -> bool:
    """Whether the vendor groups' JS regular expression sends module_id to vendor-dashboard,
    read back from the config text (JS and Python agree on this subset of the syntax)."""
    js = VENDOR_GROUPS.split("!/", 1)[1].split("/.test(id)", 1)[0]
    return re.search(js, module_id) is not None


@pytest.mark.parametrize(
    ("module_id", "dashboard"),
    [
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/select.js", True),
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/select.props.js", True),
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/text-field.js", True),
        ("/w/.web/node_modules/@radix-ui/react-select/dist/index.mjs", True),
        ("/w/.web/node_modules/react-remove-scroll-bar/dist/es2015/index.js", True),
        ("C:\\w\\.web\\node_modules\\react-debounce-input\\lib\\index.js", True),
        ("/w/.web/node_modules/sonner/dist/index.mjs", True),
        # What the pay pages render (the receipt's data list) and the shell around them.
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/data-list.js", False),
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/checkbox.js", False),
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/text.js", False),
        ("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/theme.js", False),
        ("/w/.web/node_modules/@radix-ui/react-checkbox/dist/index.mjs", False),
        ("/w/.web/node_modules/react-dom/cjs/react-dom-client.production.js", False),
        ("/w/.web/node_modules/socket.io-client/build/esm/index.js", False),
    ],
)
def test_only_what_the_dashboard_alone_uses_goes_to_its_chunk(
    module_id: str, dashboard: bool
) -> None:
    assert dashboard_only(module_id) is dashboard


def test_a_config_without_chunk_groups_is_left_alone_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = "export default { build: {} };"
    assert vendor_chunks(config) == config
    assert "chunks left as they are" in caplog.text


def test_the_theme_plugin_goes_first_into_reflexs_own_vite_config() -> None:
    original = reflex_vite_config()
    patched = theme_without_tooltips(original)
    assert patched.count("function themeWithoutTooltips()") == 1
    plugins = patched[patched.index("plugins: [") :]
    assert plugins.index("themeWithoutTooltips()") < plugins.index("reactRouter()")
    assert patched.index("function themeWithoutTooltips()") < patched.index("export default")
    assert (PROJECT_ROOT / "assets" / "theme_primitives.js").exists()


def test_a_config_without_plugins_keeps_the_real_tooltip_provider(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = "export default { build: {} };"
    assert theme_without_tooltips(config) == config
    assert "keeps its tooltip provider" in caplog.text


def test_the_ui_renders_no_tooltip() -> None:
    """A Radix tooltip needs the provider Theme no longer gives (theme_primitives.js)."""
    calls = [
        f"{path.name}:{node.lineno}"
        for path in Path(mioapp.ui.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and "tooltip" in node.attr.lower()
    ]
    assert not calls, f"restore Radix's Tooltip provider before using one: {calls}"


def test_radix_themes_is_not_bundled_for_dynamic_components() -> None:
    assert frontend_build_plugin().get_frontend_dependencies() == ()


def test_the_style_sheet_has_the_color_scales_the_ui_names_and_no_others() -> None:
    sheets = frontend_build_plugin().get_stylesheet_paths()
    assert "@radix-ui/themes/styles.css" not in sheets, "not all 31 scales"
    assert sheets[0] == "@radix-ui/themes/tokens/base.css"
    assert sheets[-2:] == ("./radix-components.css", "./radix-utilities.css"), "trimmed"
    colors = {Path(s).stem for s in sheets if "/tokens/colors/" in s}
    assert colors == set(COLOR_SCALES)


def colors_named_in_the_ui() -> set[str]:
    """Every Radix color name written as a string in mioapp/ui: color_scheme=, rx.color(),
    badge maps, the theme itself."""
    named = set()
    for path in Path(mioapp.ui.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in RADIX_COLORS:
                named.add(node.value)
    return named


def test_every_color_the_ui_names_has_its_scale_in_the_style_sheet() -> None:
    named = colors_named_in_the_ui()
    assert {"indigo", "slate", "red", "green"} <= named, "the scan finds the UI's colors"
    assert named <= set(COLOR_SCALES), f"add {named - set(COLOR_SCALES)} to COLOR_SCALES"


def test_the_plugin_rewrites_vite_config_and_writes_the_trimmed_radix_sheets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, saved = [], []
    frontend_build_plugin().pre_compile(
        add_modify_task=lambda path, fn: tasks.append((path, fn)),
        add_save_task=lambda fn: saved.append(fn()),
    )
    vite = [fn for path, fn in tasks if path == "vite.config.js"]
    assert vite == [vendor_chunks, theme_without_tooltips]
    modified = dict(tasks)
    assert saved == [("styles/radix-components.css", ""), ("styles/radix-utilities.css", "")]
    # Filled from the installed package once Reflex has installed it.
    radix = tmp_path / "node_modules" / "@radix-ui" / "themes"
    radix.mkdir(parents=True)
    (radix / "components.css").write_text(".rt-Button{a:b}.rt-TooltipContent{c:d}")
    (radix / "utilities.css").write_text(".rt-r-p-1{e:f}@media (x){.xl\\:rt-r-p-1{e:f}}")
    monkeypatch.setattr(build_plugin.prerequisites, "get_web_dir", lambda: tmp_path)
    assert modified["styles/radix-components.css"]("") == ".rt-Button{a:b}"
    assert modified["styles/radix-utilities.css"]("") == ".rt-r-p-1{e:f}"
