"""Reflex configuration; every value comes from mioapp.settings."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from mioapp.settings import PROJECT_ROOT, get_settings
from mioapp.ui.build_plugin import frontend_build_plugin

settings = get_settings()
settings.data_dir.mkdir(parents=True, exist_ok=True)
# Bun comes from the npm registry (see devtools/bootstrap.sh); the baseline build is for CPUs
# without AVX2. REFLEX_BUN_PATH still wins when set.
_oven = PROJECT_ROOT / ".tools" / "node_modules" / "@oven"
_bun = [
    p
    for p in (
        _oven / "bun-linux-x64" / "bin" / "bun",
        _oven / "bun-linux-x64-baseline" / "bin" / "bun",
    )
    if p.exists()
]
# Reflex reads the worker count from the environment, not from rx.Config; without it, it
# takes 1 without Redis and 2 x CPUs + 1 with Redis. The count comes from WEB_WORKERS only.
os.environ["GRANIAN_WORKERS"] = str(settings.web_workers)
# Reflex's opportunistic lock for the Redis state manager: the worker serving a tab keeps
# its state (and the lock on it) while events keep coming, and writes it back once they
# stop or another process asks for it. On the dashboard event mix, 2 workers answered about
# a third more events per second with it (README, Performance).
os.environ["REFLEX_OPLOCK_ENABLED"] = str(bool(settings.redis_url and settings.state_leases))

config = rx.Config(
    app_name="mioapp",
    db_url=settings.resolved_database_url,
    api_url=settings.app_base_url,
    deploy_url=settings.app_base_url,
    cors_allowed_origins=[settings.app_base_url],
    telemetry_enabled=False,
    # Page state is shared in Redis when REDIS_URL is set (any worker or host may serve a
    # tab's next event); otherwise it stays in this one process's memory, never pickled to
    # .states/ on disk: it holds pay-page URLs, whose tokens must not sit in plain files.
    state_manager_mode="redis" if settings.redis_url else "memory",
    redis_url=settings.redis_url,
    # Behind a balancer the client address is the last hop's entry in X-Forwarded-For.
    trusted_proxy_hops=settings.trusted_proxy_hops,
    show_built_with_reflex=False,
    # Build-time sidecars for the static server: brotli for browsers that take it (15-20%
    # smaller than gzip on our scripts and styles), gzip for the rest.
    frontend_compression_formats=["brotli", "gzip"],
    disable_plugins=[SitemapPlugin],
    plugins=[frontend_build_plugin()],
    **({"bun_path": _bun[0]} if _bun else {}),
)
