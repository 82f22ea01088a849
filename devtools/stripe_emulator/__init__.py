# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""Dev/test-only Stripe emulator: localstripe 1.15.10 plus a patch layer closing its gaps.

Runs as a separate process (``python -m devtools.stripe_emulator``, or
``launcher.start_emulator()`` from tests); the application package never imports it. See
README.md in this folder for what is patched and why.
"""

# The id under which --webhook-url is registered (POST /_config/webhooks/<id> replaces it).
WEBHOOK_ID = "emulator"
# Response header carrying the emulator's pid: the launcher waits for its own process.
PID_HEADER = "Stripe-Emulator-Pid"
