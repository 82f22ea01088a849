"""Focus after navigation: a screen reader announces the new page's heading, and the next Tab
starts from the page, not from the link that was clicked.

A tiny React component, defined in the page's own module (no extra file to fetch). Without a
`target` (in the dashboard frame) it notes the path when its page goes away; with one (beside
the page's h1) it focuses that element if it mounts after a move from another path. On a full
page load nothing was noted, so nothing moves and the first Tab still reaches the skip link.
"""

from __future__ import annotations

import reflex as rx

_COMPONENT = """
function FocusOnArrival({ target }) {
  useEffect(() => {
    const here = window.location.pathname;
    if (!target) {
      return () => { window.__mioLeftPath = here; };
    }
    if (window.__mioLeftPath !== undefined && window.__mioLeftPath !== here) {
      window.__mioLeftPath = undefined;
      document.getElementById(target)?.focus({ preventScroll: true });
    }
  }, [target]);
  return null;
}
"""


class FocusOnArrival(rx.Component):
    """Focuses the element with id `target` after in-app navigation; without one, notes the
    page being left."""

    tag = "FocusOnArrival"

    # The id of the element to focus ("" to note the page left); it needs tabIndex -1 unless
    # it is focusable already.
    target: rx.Var[str]

    def add_imports(self) -> dict:
        return {"react": [rx.ImportVar(tag="useEffect")]}

    def add_custom_code(self) -> list[str]:
        return [_COMPONENT]


focus_on_arrival = FocusOnArrival.create
