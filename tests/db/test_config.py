"""DATABASE_CONNECTION / SQLALCHEMY_CONFIGURATION parsing and engine building."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sqlalchemy import pool, text

from torngas.conf import global_settings, override_settings
from torngas.db.config import async_url_for, engine_options, kwargs_for, parse_connections
from torngas.db.connection import connections
from torngas.db.exceptions import DatabaseConfigWarning
from torngas.exceptions import ImproperlyConfigured


def test_readme_form_builds_urls_with_roles() -> None:
    specs = parse_connections(
        {
            "default": {
                "connections": [
                    {
                        "ROLE": "master",
                        "DRIVER": "mysql+pymysql",
                        "UID": "root",
                        "PASSWD": "s3cret",
                        "HOST": "127.0.0.1",
                        "PORT": 3306,
                        "DATABASE": "test",
                        "QUERY": {"charset": "utf8mb4"},
                    },
                    {
                        "ROLE": "slave",
                        "DRIVER": "mysql+pymysql",
                        "UID": "ro",
                        "HOST": "10.0.0.2",
                        "PORT": "3307",
                        "DATABASE": "test",
                    },
                    {"ROLE": "SLAVE", "URL": "mysql+pymysql://ro@10.0.0.3/test"},
                ]
            }
        }
    )
    spec = specs["default"]
    assert spec.primary.url.render_as_string(hide_password=False) == (
        "mysql+pymysql://root:s3cret@127.0.0.1:3306/test?charset=utf8mb4"
    )
    assert "s3cret" not in spec.primary.describe()
    assert [r.url.host for r in spec.replicas] == ["10.0.0.2", "10.0.0.3"]
    assert spec.replicas[0].url.port == 3307
    assert spec.primary.async_url.drivername == "mysql+asyncmy"


def test_url_forms_and_relative_sqlite_path(tmp_path: Path) -> None:
    specs = parse_connections(
        {
            "a": "sqlite:///a.db",
            "b": {
                "master": "postgresql+psycopg://u@h/db",
                "slaves": ["postgresql+psycopg://u@r1/db"],
            },
            "c": {"primary": {"URL": "sqlite:///:memory:"}, "replica": "sqlite:///r.db"},
        },
        project_path=str(tmp_path),
    )
    assert specs["a"].primary.url.database == str(tmp_path / "a.db")
    assert specs["a"].replicas == []
    assert specs["b"].replicas[0].url.host == "r1"
    assert specs["b"].primary.async_url.drivername == "postgresql+asyncpg"
    assert specs["c"].primary.url.database == ":memory:"
    assert specs["c"].replicas[0].url.database == str(tmp_path / "r.db")


@pytest.mark.parametrize(
    "conf, message",
    [
        ({"connections": [{"ROLE": "slave", "URL": "sqlite://"}]}, "exactly one ROLE 'master'"),
        ({"connections": [{"URL": "sqlite://"}, {"URL": "sqlite://"}]}, "found 2"),
        ({"connections": [{"ROLE": "boss", "URL": "sqlite://"}]}, "neither 'master' nor 'slave'"),
        ({"connections": [{"ROLE": "master", "HOST": "x"}]}, "needs DRIVER"),
        (42, "must be a dict or a URL"),
    ],
)
def test_bad_configuration_is_a_clear_error(conf: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_connections({"default": conf})


def test_unknown_connection_name_lists_the_defined_ones(tmp_path: Path) -> None:
    with override_settings(PROJECT_PATH=str(tmp_path)):
        connections.reset()
        with pytest.raises(ImproperlyConfigured, match=r"'nope'.*\['default'\]"):
            connections["nope"]
    connections.reset()


def test_readme_sqlalchemy_configuration_is_accepted_and_dropped_keys_warn_once(
    tmp_path: Path,
) -> None:
    readme_conf = {
        "sqlalchemy.connect_args": {"connect_timeout": 3},
        "sqlalchemy.echo": False,
        "sqlalchemy.max_overflow": 10,
        "sqlalchemy.echo_pool": False,
        "sqlalchemy.pool_timeout": 5,
        "sqlalchemy.encoding": "utf-8",
        "sqlalchemy.convert_unicode": True,
        "sqlalchemy.pool_size": 100,
        "sqlalchemy.pool_recycle": 3600,
        "sqlalchemy.poolclass": "QueuePool",
    }
    with override_settings(
        PROJECT_PATH=str(tmp_path),
        SQLALCHEMY_CONFIGURATION=readme_conf,
        PING_DB=500,
        DATABASE_CONNECTION={
            "default": {"connections": [{"ROLE": "master", "DRIVER": "sqlite", "DATABASE": "x.db"}]}
        },
    ):
        connections.reset()
        with pytest.warns(DatabaseConfigWarning) as record:
            group = connections["default"]
        messages = [str(w.message) for w in record]
        assert len(messages) == 2, messages
        assert any("['sqlalchemy.encoding'] is ignored" in m for m in messages)
        engine = group.primary.sync_engine
        assert isinstance(engine.pool, pool.QueuePool)
        assert engine.pool.size() == 100
        # PING_DB turns pre-ping on for server databases; SQLite has no server
        # connection to go stale, so its engines skip the extra query per checkout.
        assert group.spec.engine_kwargs["pool_pre_ping"] is True
        assert engine.pool._pre_ping is False
        assert engine.pool._recycle == 500  # capped by PING_DB
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with engine.connect() as conn:  # connect_timeout became sqlite3's timeout
                assert conn.execute(text("select 1")).scalar() == 1
        connections.reset()


def test_connect_timeout_is_translated_per_driver() -> None:
    specs = parse_connections(
        {
            "m": "mysql+pymysql://u@h/db",
            "p": "postgresql+psycopg://u@h/db?application_name=tg",
            "s": "sqlite:///:memory:",
        },
        {"connect_args": {"connect_timeout": 3}, "pool_size": 3},
    )
    _, m = kwargs_for(specs["m"], specs["m"].primary, use_async=False)
    assert m["connect_args"] == {"connect_timeout": 3}
    _, ma = kwargs_for(specs["m"], specs["m"].primary, use_async=True)
    assert ma["connect_args"] == {"connect_timeout": 3}
    url, pa = kwargs_for(specs["p"], specs["p"].primary, use_async=True)
    assert pa["connect_args"] == {"timeout": 3, "server_settings": {"application_name": "tg"}}
    assert "application_name" not in url.query
    _, s = kwargs_for(specs["s"], specs["s"].primary, use_async=False)
    assert s["connect_args"] == {"timeout": 3}
    assert "pool_size" not in s  # :memory: uses a singleton pool


def test_default_connect_timeout_and_ping() -> None:
    opts = engine_options({}, 300)
    assert opts["pool_pre_ping"] is True and opts["pool_recycle"] == 300
    assert "pool_pre_ping" not in engine_options({}, 0)
    spec = parse_connections({"m": "mysql+pymysql://u@h/db"})["m"]
    _, kw = kwargs_for(spec, spec.primary, use_async=False)
    assert kw["connect_args"] == {"connect_timeout": 5}


def test_readme_mysqldb_driver_falls_back_to_pymysql() -> None:
    with pytest.warns(DatabaseConfigWarning, match="MySQLdb is not installed"):
        spec = parse_connections(
            {"d": {"connections": [{"ROLE": "master", "DRIVER": "mysql+mysqldb", "HOST": "h"}]}}
        )["d"]
    assert spec.primary.url.drivername == "mysql+pymysql"


def test_async_urls() -> None:
    from sqlalchemy.engine import make_url

    assert async_url_for(make_url("sqlite:///x.db")).drivername == "sqlite+aiosqlite"
    assert async_url_for(make_url("mariadb+pymysql://u@h/d")).drivername == "mariadb+asyncmy"
    pg = async_url_for(make_url("postgresql://u@h/d?connect_timeout=3"))
    assert pg.drivername == "postgresql+asyncpg" and "connect_timeout" not in pg.query


def test_default_settings_are_an_sqlite_file_in_the_project(tmp_path: Path) -> None:
    assert global_settings.DATABASE_CONNECTION["default"]["connections"][0]["DRIVER"] == "sqlite"
    with override_settings(
        PROJECT_PATH=str(tmp_path),
        DATABASE_CONNECTION=global_settings.DATABASE_CONNECTION,
        SQLALCHEMY_CONFIGURATION=global_settings.SQLALCHEMY_CONFIGURATION,
    ):
        connections.reset()
        engine = connections["default"].primary.sync_engine
        with engine.begin() as conn:
            conn.execute(text("create table t (x int)"))
        assert (tmp_path / "db.sqlite3").exists()
        connections.reset()
