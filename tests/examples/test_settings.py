"""examples/agora/settings/production.py: the same application on other services,
chosen by environment variables only (read in a subprocess: the module imports
``settings.setting``, a name that belongs to the example's own project)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.examples.conftest import run_in_agora

# Settings read in subprocesses: no server, nothing to repeat in the ASGI pass.
pytestmark = pytest.mark.tornado_only("no server involved")

SHOW = """
import json, sys
sys.path.insert(0, ".")
from torngas.conf import settings
settings.configure("settings.production")
from torngas.db.connection import connections
from torngas.security import check_production_settings
check_production_settings(settings)          # what Server checks before it listens
group = connections["default"]
print(json.dumps({
    "db": [[slot.role, slot.describe()] for slot in group.slots],
    "cache": settings.CACHES["default"],
    "broadcast": settings.BROADCAST,
    "websocket": settings.WEBSOCKET,
    "session": {k: settings.SESSION[k] for k in ("secure", "ignore_change_ip")},
    "xheaders": settings.XHEADERS, "proxies": settings.TRUSTED_PROXIES, "debug": settings.DEBUG,
}))
"""

SECRETS = {
    "TORNGAS_COOKIE_SECRET": "c" * 20 + "-production-cookie-secret-for-a-test",
    "TORNGAS_SESSION_SECRET": "s" * 20 + "-production-session-secret-for-a-test",
}


def clean_env(overrides: dict[str, str]) -> dict[str, str]:
    """This environment without AGORA_* and TORNGAS_* variables, then ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGORA_", "TORNGAS_"))}
    return {**env, **overrides}


def run(env_overrides: dict[str, str], code: str = SHOW) -> subprocess.CompletedProcess[str]:
    return run_in_agora("-c", code, env=clean_env(env_overrides))


def test_mariadb_replicas_and_redis_cluster_from_the_environment():
    r = run(
        {
            **SECRETS,
            "AGORA_DATABASE_URL": "mysql+pymysql://agora:pw1@10.0.0.10:3306/agora",
            "AGORA_DATABASE_REPLICAS": "mysql+pymysql://agora:pw1@10.0.0.11/agora, mysql+pymysql://agora:pw1@10.0.0.12/agora",
            "AGORA_REDIS": "10.0.1.1:7000,10.0.1.2:7000,10.0.1.3:7000",
            "AGORA_REDIS_CLUSTER": "1",
            "AGORA_TRUSTED_PROXIES": "10.0.0.2, 10.0.0.3",
            "AGORA_ORIGINS": "https://agora.example.com",
        }
    )
    assert r.returncode == 0, r.stderr
    conf = json.loads(r.stdout)
    assert [role for role, _ in conf["db"]] == ["primary", "replica", "replica"]
    assert "10.0.0.10" in conf["db"][0][1] and "10.0.0.12" in conf["db"][2][1]
    assert "pw1" not in json.dumps(conf["db"])  # described without the password
    assert conf["cache"]["LOCATION"] == ["10.0.1.1:7000", "10.0.1.2:7000", "10.0.1.3:7000"]
    assert conf["cache"]["OPTIONS"] == {"CLUSTER": True}
    assert conf["broadcast"]["BACKEND"] == "torngas.broadcast.RedisBroadcast"
    assert conf["broadcast"]["LOCATION"] == "10.0.1.1:7000"
    assert conf["websocket"] == {"ALLOWED_ORIGINS": ["https://agora.example.com"]}
    assert conf["session"] == {"secure": True, "ignore_change_ip": True}
    assert conf["xheaders"] is True and conf["proxies"] == ["10.0.0.2", "10.0.0.3"]
    assert conf["debug"] is False


def test_postgresql_primary_alone():
    r = run({**SECRETS, "AGORA_DATABASE_URL": "postgresql+psycopg://agora:pw@db1/agora"})
    assert r.returncode == 0, r.stderr
    conf = json.loads(r.stdout)
    assert [role for role, _ in conf["db"]] == ["primary"]
    assert "postgresql+psycopg" in conf["db"][0][1] and "db1" in conf["db"][0][1]


def test_the_server_will_not_start_without_the_secrets():
    env = {"TORNGAS_COOKIE_SECRET": SECRETS["TORNGAS_COOKIE_SECRET"]}
    r = run_in_agora(
        "runserver.py", "--settings=settings.production", "--port=1", env=clean_env(env)
    )
    assert r.returncode == 2
    assert "TORNGAS_SESSION_SECRET" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # one line, no traceback
