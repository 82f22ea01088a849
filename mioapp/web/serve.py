"""Serves one app instance from a frontend built beforehand: how production runs the app.

`reflex run --env prod` compiles and builds the frontend into `.web/` every time it starts,
so two instances of one checkout would overwrite each other's files while serving them,
and instances on several hosts would each serve a build of their own (no two builds are
alike: each bundles a timestamp) while a browser fetches a page from one and its files
from another. Build once instead, then start as many instances as you like:

    reflex export --frontend-only --no-zip      # APP_BASE_URL set: it is compiled in
    python -m mioapp.web.serve --port 8000      # per instance; WEB_WORKERS workers each

It runs Reflex's own production server (Granian, workers forked from a supervisor that has
imported the app) with the compiled frontend mounted under the app, exactly as
`reflex run --env prod` serves it after its build: pages, /pay/ (through the app's
security-header middleware), the websocket and the API on one port. REFLEX_WEB_WORKDIR
chooses where the build is, for both commands.
"""

from __future__ import annotations

import argparse
import logging

from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment

from mioapp.settings import get_settings

logger = logging.getLogger("mioapp.web.serve")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mioapp.web.serve", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104  (a server's address)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logger.setLevel(logging.INFO)
    # Imported late: rxconfig (read by get_config) sets GRANIAN_WORKERS from WEB_WORKERS.
    from reflex.utils import exec as reflex_exec
    from reflex.utils import prerequisites

    config = get_config()
    static = prerequisites.get_web_dir() / constants.Dirs.STATIC
    if not (static / "index.html").exists():
        raise SystemExit(f"No frontend build in {static}: run `reflex export --frontend-only`")
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    # Workers must serve the build as it is, never compile into it.
    environment.REFLEX_SKIP_COMPILE.set(True)
    logger.info(
        "Serving %s on %s:%s with %s worker(s), frontend from %s",
        config.app_name,
        args.host,
        args.port,
        get_settings().web_workers,
        static,
    )
    reflex_exec.run_backend_prod(
        args.host, args.port, config.loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )


if __name__ == "__main__":
    main()
