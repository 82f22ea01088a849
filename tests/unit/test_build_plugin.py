"""The frontend build plugin: Radix Themes per page, third-party code in one chunk."""

from __future__ import annotations

import pytest
from reflex_base.compiler.templates import vite_config_template

from mioapp.ui.build_plugin import VENDOR_GROUP, frontend_build_plugin, one_vendor_chunk


def reflex_vite_config() -> str:
    """The vite.config.js Reflex 0.10 writes for a production build."""
    return vite_config_template(
        base="/", hmr=False, force_full_reload=False, experimental_hmr=False, sourcemap=False
    )


def test_the_vendor_group_goes_into_reflexs_own_vite_config() -> None:
    original = reflex_vite_config()
    patched = one_vendor_chunk(original)
    assert patched.count(VENDOR_GROUP) == 1
    assert patched.replace(f" {VENDOR_GROUP}", "") == original, "nothing else changes"
    groups = patched[patched.index("groups: [") :]
    assert groups.index(VENDOR_GROUP) < groups.index('name: "reflex-env"')


def test_a_config_without_chunk_groups_is_left_alone_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = "export default { build: {} };"
    assert one_vendor_chunk(config) == config
    assert "chunks left as they are" in caplog.text


def test_radix_themes_is_not_bundled_for_dynamic_components() -> None:
    plugin = frontend_build_plugin()
    assert plugin.get_frontend_dependencies() == ()
    assert plugin.get_stylesheet_paths() == ("@radix-ui/themes/styles.css",)


def test_the_plugin_asks_to_rewrite_vite_config() -> None:
    tasks = []
    frontend_build_plugin().pre_compile(
        add_modify_task=lambda path, fn: tasks.append((path, fn)), add_save_task=None
    )
    assert tasks == [("vite.config.js", one_vendor_chunk)]
