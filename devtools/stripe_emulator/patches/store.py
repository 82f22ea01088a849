# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""Keep localstripe's store in memory (or in a file of our choosing), and answer unknown
ids like Stripe.

localstripe pickles the whole store to one fixed file in the temp folder on every write:
slow, and shared by every instance on the machine. ``load`` / ``save`` let the server keep
one emulator's data in its own file instead, saved once per write request.
"""

import os
import pickle
from pathlib import Path
from typing import Any

from localstripe.resources import Store, StripeObject, store

from ..errors import invalid_request


def _keep_in_memory(self: Store) -> None:
    """Replaces ``Store.dump_to_disk`` / ``try_load_from_disk``: nothing touches the disk."""


def _api_retrieve(cls: type[StripeObject], id: str) -> Any:
    obj = store.get(f"{cls.object}:{id}")
    if obj is None:
        raise invalid_request(
            f"No such {cls.object}: '{id}'", status=404, code="resource_missing", param="id"
        )
    return obj


def load(path: Path) -> None:
    """Replace the store's contents with those saved in ``path``, if it exists."""
    if path.exists():
        with path.open("rb") as file:
            saved = pickle.load(file)
        store.clear()
        dict.update(store, saved)


def save(path: Path) -> None:
    """Write the store to ``path`` atomically."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as file:
        pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)


def apply() -> None:
    Store.dump_to_disk = _keep_in_memory
    Store.try_load_from_disk = _keep_in_memory
    StripeObject._api_retrieve = classmethod(_api_retrieve)
