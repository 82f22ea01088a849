# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""Command line: ``python -m devtools.stripe_emulator --port 8420 [options]``."""

import argparse
import logging

from .server import EmulatorConfig, run


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_emulator",
        description="Dev/test Stripe emulator (localstripe with patches); data in memory only.",
    )
    parser.add_argument("--port", type=int, default=8420, help="TCP port (default 8420)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--secret-key", help="accept only this sk_... key (default: any)")
    parser.add_argument("--publishable-key", help="accept only this pk_... key (default: any)")
    parser.add_argument("--webhook-url", help="deliver every event to this URL")
    parser.add_argument("--webhook-secret", help="whsec_... secret signing the deliveries")
    parser.add_argument(
        "--store-path", help="keep the data in this file across restarts (default: memory only)"
    )
    args = parser.parse_args(argv)

    if args.secret_key is not None and not args.secret_key.startswith("sk_"):
        parser.error("--secret-key must start with sk_")
    if args.publishable_key is not None and not args.publishable_key.startswith("pk_"):
        parser.error("--publishable-key must start with pk_")
    if (args.webhook_url is None) != (args.webhook_secret is None):
        parser.error("--webhook-url and --webhook-secret go together")
    if args.webhook_url is not None and not args.webhook_url.startswith(("http://", "https://")):
        parser.error("--webhook-url must be an http(s) URL")
    return EmulatorConfig(
        port=args.port,
        host=args.host,
        secret_key=args.secret_key,
        publishable_key=args.publishable_key,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        store_path=args.store_path,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(config)


if __name__ == "__main__":
    main()
