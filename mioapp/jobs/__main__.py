"""`python -m mioapp.jobs`: a job consumer (huey's) running every task of this package.

Start as many as you like, on any machine with the same settings (REDIS_URL shared); each
runs JOB_WORKERS threads and huey's scheduler. SIGTERM or Ctrl-C lets running tasks finish.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from huey import SqliteHuey

import mioapp.jobs
from mioapp.jobs import huey
from mioapp.settings import get_settings

logger = logging.getLogger("mioapp.jobs")

# How long a stopping consumer waits for running tasks (one SMTP send takes at most 20 s).
SHUTDOWN_TIMEOUT = 25.0


def import_tasks() -> list[str]:
    """Import every module of the package, so each decorated task is registered."""
    names = []
    for module in pkgutil.iter_modules(mioapp.jobs.__path__, prefix="mioapp.jobs."):
        if not module.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(module.name)
            names.append(module.name)
    return names


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    modules = import_tasks()
    consumer = huey.create_consumer(
        workers=settings.job_workers,
        worker_type="thread",
        periodic=True,
        # A consumer killed while holding a lock leaves it behind; Redis locks expire by
        # themselves, SQLite ones (one machine) are cleared when a consumer starts.
        flush_locks=isinstance(huey, SqliteHuey),
        graceful_signal="TERM",
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    logger.info(
        "Job consumer on queue %r (%s), %s thread(s); tasks from %s",
        settings.job_queue,
        "Redis" if settings.redis_url else settings.job_store_path,
        settings.job_workers,
        ", ".join(modules),
    )
    consumer.run()


if __name__ == "__main__":
    main()
