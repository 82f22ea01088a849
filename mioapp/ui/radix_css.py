"""Radix Themes' component and utility style sheets, cut to what this app can render.

Radix ships one style sheet for all of its components, each class at every breakpoint:
628 KB before compression, the biggest thing a phone fetches and parses before a pay page
can paint. This drops the rules of components the app never renders and the responsive
variants at breakpoints it never names. A rule goes only when each of its selectors needs
such a class to match, so what remains is exactly what the app's classes can match:
tests/unit/test_radix_css.py checks the UI names no other breakpoint, and the browser
tests check every Radix class on every page they visit still has its styles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Components whose classes no page renders (the app has no menus, tooltips, hover cards,
# sliders, progress bars, ...): the stem of each of their class names, `rt-<stem>...`.
UNUSED_COMPONENTS = (
    "BaseMenu",
    "Blockquote",
    "CheckboxCard",
    "CheckboxCards",
    "CheckboxGroup",
    "Container",
    "ContextMenu",
    "DropdownMenu",
    "Em",
    "HoverCard",
    "Inset",
    "Kbd",
    "Progress",
    "Quote",
    "RadioCards",
    "Section",
    "SegmentedControl",
    "Separator",
    "Skeleton",
    "Slider",
    "TabNav",
    "ThemePanel",
    "Tooltip",
)
# Radix's breakpoints are xs, sm, md, lg and xl; the UI's responsive props use these.
BREAKPOINTS_USED = ("sm", "md")
BREAKPOINTS_UNUSED = ("xs", "lg", "xl")

_UNUSED = re.compile(
    r"\.(?:rt-(?:" + "|".join(UNUSED_COMPONENTS) + r")(?![a-z])"
    r"|(?:" + "|".join(BREAKPOINTS_UNUSED) + r")\\:)"
)
# At-rules holding rules of their own, which are cut the same way.
_GROUPING = ("@media", "@supports", "@layer", "@container")


def _items(css: str) -> Iterator[tuple[str, str | None]]:
    """Top-level items: (prelude, block body) for blocks, (statement, None) for `@x ...;`."""
    depth = start = block = 0
    i, n = 0, len(css)
    while i < n:
        char = css[i]
        if css.startswith("/*", i):
            i = css.index("*/", i + 2) + 2
            if depth == 0:
                start = i
            continue
        if char in "\"'":
            i += 1
            while css[i] != char:
                i += 2 if css[i] == "\\" else 1
        elif char == "{":
            if depth == 0:
                block = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                yield css[start:block].strip(), css[block + 1 : i]
                start = i + 1
        elif char == ";" and depth == 0:
            yield css[start : i + 1].strip(), None
            start = i + 1
        i += 1


def _selectors(prelude: str) -> list[str]:
    """A selector list split at its top-level commas (not those inside :where(...))."""
    parts, depth, begin = [], 0, 0
    for i, char in enumerate(prelude):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(prelude[begin:i].strip())
            begin = i + 1
    parts.append(prelude[begin:].strip())
    return parts


_FUNCTION = re.compile(r":([a-z-]+)\(")


def _needs_unused(selector: str) -> bool:
    """Whether `selector` can only match an element (or a descendant, for :has) carrying an
    unused class: such a class in the selector itself, or in every alternative of an
    :is()/:where()/:has() list. One inside :not() requires nothing."""
    outside, i = [], 0
    while match := _FUNCTION.search(selector, i):
        outside.append(selector[i : match.start()])
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(selector[end], 0)
            end += 1
        inner = selector[match.end() : end - 1]
        if match.group(1) in ("is", "where", "has", "matches") and all(
            _needs_unused(alternative) for alternative in _selectors(inner)
        ):
            return True
        i = end
    outside.append(selector[i:])
    return _UNUSED.search("".join(outside)) is not None


def trimmed(css: str) -> str:
    """`css` without the selectors that name an unused component or breakpoint, and without
    the rules and at-rule blocks left empty by that."""
    out = []
    for prelude, body in _items(css):
        if body is None:
            out.append(prelude)
        elif prelude.startswith(_GROUPING):
            inner = trimmed(body)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        else:
            kept = [s for s in _selectors(prelude) if not _needs_unused(s)]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return "\n".join(out)


def selectors(css: str) -> set[str]:
    """Every selector of every style rule in `css`, inside at-rule blocks too."""
    found = set()
    for prelude, body in _items(css):
        if body is not None and prelude.startswith(_GROUPING):
            found |= selectors(body)
        elif body is not None and not prelude.startswith("@"):
            found.update(_selectors(prelude))
    return found
