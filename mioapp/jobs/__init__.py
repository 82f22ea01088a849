"""The job engine: one huey instance built from settings; the tasks live in this package.

A task or a periodic task is one decorated function in a module of this package:

    from huey import crontab
    from mioapp.jobs import huey

    @huey.periodic_task(crontab(minute="*/5"))
    def expire_links() -> None: ...

The consumer (`python -m mioapp.jobs`) imports every module here, so it knows them all;
code that enqueues a task imports its module and calls the function.
"""

from __future__ import annotations

import redis
from huey import Huey, RedisExpireHuey, SqliteHuey

from mioapp.settings import Settings, get_settings

# A Redis outage may cost a commit that enqueues a nudge a few seconds (the nudge is then
# logged as lost, and the minute's sweep sends the email), never hang it. Reads wait longer
# than the consumer's 1 s blocking pop.
REDIS_CONNECT_TIMEOUT = 5.0
REDIS_READ_TIMEOUT = 10.0


def build_huey(settings: Settings) -> Huey:
    """Redis when REDIS_URL is set (any number of consumers on any machines), else SQLite.

    Results are not kept: tasks act on the database, and nobody waits for a return value.
    (RedisExpireHuey is RedisHuey whose keys may expire, which lets locks carry a TTL.)
    """
    if settings.redis_url:
        pool = redis.ConnectionPool.from_url(
            settings.redis_url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_READ_TIMEOUT,
        )
        return RedisExpireHuey(settings.job_queue, results=False, connection_pool=pool)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.job_queue, results=False, filename=str(settings.job_store_path))


huey = build_huey(get_settings())
