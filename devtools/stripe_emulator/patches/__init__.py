# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder's parent.
"""Monkeypatches of localstripe's resources (``localstripe.resources``), one module per
resource; ``apply()`` installs them all (safe to call more than once).

Only the emulator process loads them; see the package README for the list of gaps.
"""

from . import charges, payment_intents, payment_methods, setup_intents, store

__all__ = ["apply"]


def apply() -> None:
    """Install every patch into localstripe's classes."""
    for module in (store, payment_methods, charges, payment_intents, setup_intents):
        module.apply()
