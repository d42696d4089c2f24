"""Agora in production: the same code on MariaDB/PostgreSQL + Redis, configured by
environment variables (see deploy/agora.env). Start with
`python runserver.py --settings=settings.production`.

    TORNGAS_COOKIE_SECRET, TORNGAS_SESSION_SECRET   required; one value per deployment,
        python -c 'import secrets; print(secrets.token_urlsafe(48))'
    AGORA_DATABASE_URL       the primary, e.g. mysql+pymysql://agora:pw@db1/agora
                             or postgresql+psycopg://agora:pw@db1/agora (default: SQLite file)
    AGORA_DATABASE_REPLICAS  read replicas, comma separated (optional)
    AGORA_REDIS              sessions, cache and chat, e.g. redis://10.0.0.5:6379/0
                             (several nodes: comma separated)
    AGORA_REDIS_CLUSTER      "1" when AGORA_REDIS lists the startup nodes of a Redis Cluster
    AGORA_TRUSTED_PROXIES    addresses/networks of the nginx hosts (default 127.0.0.1)
    AGORA_ORIGINS            the public origin(s) of the site, e.g. https://agora.example.com
    AGORA_HTTPS              "1" (default) when nginx serves HTTPS: Secure cookies
"""

import os

from settings.setting import *  # noqa: F403 - the development settings, changed below
from settings.setting import SESSION, TORNADO_CONF


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = False  # no tracebacks on error pages, templates cached

# Secrets come from the environment only; a missing one stops the start with a KeyError
# naming it (and torngas refuses known example values with DEBUG off).
TORNADO_CONF = {**TORNADO_CONF, "cookie_secret": os.environ["TORNGAS_COOKIE_SECRET"]}
HTTPS = os.environ.get("AGORA_HTTPS", "1") == "1"
SESSION = {
    **SESSION,
    "secret_key": os.environ["TORNGAS_SESSION_SECRET"],
    "secure": HTTPS,  # cookie sent over HTTPS only
    # Users behind mobile networks change IPs; keep their sessions. (The default,
    # False, binds a session to the client IP that nginx reports.)
    "ignore_change_ip": True,
}

# Behind nginx: believe X-Real-Ip / X-Forwarded-For / X-Scheme, but only from the
# proxies listed here (the TCP peer must be one of them). Backends listen on a
# private address that only nginx can reach.
XHEADERS = True
TRUSTED_PROXIES = env_list("AGORA_TRUSTED_PROXIES", "127.0.0.1,::1")

# One primary for writes, any number of replicas for reads (torngas routes them;
# a session that wrote reads from the primary for the rest of the request).
_primary = os.environ.get("AGORA_DATABASE_URL")
if _primary:
    DATABASE_CONNECTION = {
        "default": {
            "connections": [
                {"ROLE": "master", "URL": _primary},
                *({"ROLE": "slave", "URL": url} for url in env_list("AGORA_DATABASE_REPLICAS")),
            ],
        },
    }

# Sessions, the top-posters fragment and chat fan-out all in Redis, so any
# process behind nginx can serve any request.
_redis = env_list("AGORA_REDIS", "redis://127.0.0.1:6379/0")
_cluster = os.environ.get("AGORA_REDIS_CLUSTER") == "1"
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
        "LOCATION": _redis,
        "KEY_PREFIX": "agora",
        "TIMEOUT": 300,
        "OPTIONS": {"CLUSTER": _cluster},
    },
}
# (A Redis Cluster propagates PUBLISH to every node: the first one listed is enough.)
BROADCAST = {
    "BACKEND": "torngas.broadcast.RedisBroadcast",
    "LOCATION": _redis[0],
    "OPTIONS": {"CHANNEL_PREFIX": "agora:"},
}

# WebSocket upgrades are accepted from these origins only (default: same origin).
WEBSOCKET = {"ALLOWED_ORIGINS": env_list("AGORA_ORIGINS")}

LOGGING_DIR = os.environ.get("AGORA_LOG_DIR") or None  # None: stderr (journald) only
