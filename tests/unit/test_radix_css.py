"""Radix Themes' style sheets cut to the components and breakpoints the app uses."""

from __future__ import annotations

import ast
from pathlib import Path

import mioapp.ui
from mioapp.ui.radix_css import BREAKPOINTS_USED, trimmed


def test_rules_of_unused_components_and_breakpoints_go_and_the_rest_stays_as_it_was() -> None:
    css = (
        ".rt-Button:where(.rt-variant-solid){color:red}\n"
        ".rt-TooltipContent{padding:1px}\n"
        ".rt-BaseMenuItem,.rt-SelectItem{margin:0}\n"
        "@media (min-width: 520px){.xs\\:rt-r-size-1{--x:1}}\n"
        "@media (min-width: 768px){.sm\\:rt-r-size-1{--x:1}.rt-TooltipText{--y:2}}\n"
        "@keyframes rt-fade{from{opacity:0}to{opacity:1}}\n"
        "@layer components;\n"
        "/* a comment with { braces } */ .rt-Text::before{content:'}{'}"
    )
    assert trimmed(css) == (
        ".rt-Button:where(.rt-variant-solid){color:red}\n"
        ".rt-SelectItem{margin:0}\n"
        "@media (min-width: 768px){.sm\\:rt-r-size-1{--x:1}}\n"
        "@keyframes rt-fade{from{opacity:0}to{opacity:1}}\n"
        "@layer components;\n"
        ".rt-Text::before{content:'}{'}"
    )


def test_a_selector_list_inside_where_is_not_split() -> None:
    """Its commas are not the rule's: the selector stays whole, and goes whole."""
    css = ".rt-Card:where(.rt-TooltipContent, .rt-Box){a:b}.rt-Card:where(.lg\\:rt-r-size-2){c:d}"
    assert trimmed(css) == ".rt-Card:where(.rt-TooltipContent, .rt-Box){a:b}"


def test_an_unused_class_that_a_selector_does_not_need_keeps_it() -> None:
    """One alternative of several, or inside :not(), can be absent and the selector match."""
    css = (
        ":where(.rt-BaseTabListTrigger[data-state='active'], .rt-TabNavLink[data-active])"
        " .rt-BaseTabListTriggerInner{a:b}\n"
        ".rt-Button:not(.rt-TooltipContent){c:d}\n"
        ".rt-Card:where(:has(.rt-BaseMenuItem, .rt-SliderRange)){e:f}\n"
        ".rt-SelectContent:where(.xs\\:rt-r-size-2, .lg\\:rt-r-size-3){g:h}"
    )
    assert trimmed(css) == (
        ":where(.rt-BaseTabListTrigger[data-state='active'], .rt-TabNavLink[data-active])"
        " .rt-BaseTabListTriggerInner{a:b}\n"
        ".rt-Button:not(.rt-TooltipContent){c:d}"
    )


def test_a_stem_does_not_cut_a_longer_name() -> None:
    """ "Em" is a component of its own; a class merely starting with it stays."""
    assert trimmed(".rt-Em{a:b}.rt-Embed{c:d}") == ".rt-Embed{c:d}"


RADIX_RESPONSIVE_PROPS = {"display", "size", "direction", "align", "justify", "columns", "width"}


def responsive_values_in_the_ui() -> tuple[set[str], list[str]]:
    """Breakpoint names given to rx.breakpoints(), and Radix props given as lists (whose
    second item is xs), anywhere in mioapp/ui."""
    names, lists = set(), []
    for path in Path(mioapp.ui.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "breakpoints":
                names |= {k.arg for k in node.keywords if k.arg}
            if (
                isinstance(node, ast.keyword)
                and node.arg in RADIX_RESPONSIVE_PROPS
                and isinstance(node.value, ast.List)
            ):
                lists.append(f"{path.name}:{node.value.lineno} {node.arg}=[...]")
    return names, lists


def test_the_ui_uses_only_the_breakpoints_the_style_sheet_keeps() -> None:
    names, lists = responsive_values_in_the_ui()
    assert {"initial", "sm"} <= names, "the scan finds the UI's breakpoints"
    assert names - {"initial"} <= set(BREAKPOINTS_USED), "add them to BREAKPOINTS_USED"
    assert not lists, f"use rx.breakpoints(initial=..., sm=...) instead: {lists}"
