"""One package per page: `state.py` holds what the page shows, `view.py` draws it."""
