"""``torngas db`` (alembic) against a temporary project on SQLite."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from torngas.db import cli
from torngas.exceptions import ImproperlyConfigured


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="torngas")
    cli.add_arguments(parser.add_subparsers(dest="command"))
    return parser.parse_args(["db", *argv])


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    """A project with settings and one app whose models module defines a table."""
    pkg = f"tgcli_{uuid.uuid4().hex[:8]}"
    app = tmp_path / pkg
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(
        textwrap.dedent(
            f"""
            from sqlalchemy import Column, Integer, String
            from torngas.db.dbalchemy import Model

            class Thing(Model):
                __tablename__ = "{pkg}_things"
                id = Column(Integer, primary_key=True)
                name = Column(String(20))
            """
        )
    )
    (tmp_path / f"{pkg}_settings.py").write_text(
        f"INSTALLED_APPS = [{pkg!r}]\n"
        "DATABASE_CONNECTION = {'default': {'connections': "
        "[{'ROLE': 'master', 'DRIVER': 'sqlite', 'DATABASE': 'app.db'}]}}\n"
        f"PROJECT_PATH = {str(tmp_path)!r}\n"
    )
    yield tmp_path, pkg
    for name in [m for m in sys.modules if m.startswith(pkg)]:
        del sys.modules[name]
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_init_makemigrations_upgrade_downgrade(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, pkg = project
    base = ["--project", str(root), "--settings", f"{pkg}_settings"]
    with pytest.raises(ImproperlyConfigured, match="torngas db init"):
        cli.run(parse(*base, "upgrade"))
    assert cli.run(parse(*base, "init")) == 0
    assert (root / "migrations" / "default" / "env.py").exists()
    assert cli.run(parse(*base, "init")) == 0  # idempotent
    with sqlite3.connect(root / "app.db") as conn:  # a table no model declares
        conn.execute("CREATE TABLE legacy_table (x INTEGER)")

    assert cli.run(parse(*base, "makemigrations", "-m", "create things")) == 0
    versions = list((root / "migrations" / "default" / "versions").glob("*.py"))
    assert len(versions) == 1
    source = versions[0].read_text()
    assert f"{pkg}_things" in source and "create_table" in source
    assert "legacy_table" not in source  # never proposes to drop foreign tables
    assert "Revises: (first revision)\n" in source
    assert not [line for line in source.splitlines() if line != line.rstrip()]  # lint-clean

    assert cli.run(parse(*base, "upgrade")) == 0
    assert {f"{pkg}_things", "alembic_version", "legacy_table"} <= tables(root / "app.db")
    capsys.readouterr()
    assert cli.run(parse(*base, "current")) == 0
    assert "(head)" in capsys.readouterr().out

    # nothing changed: an empty revision
    assert cli.run(parse(*base, "revision", "-m", "noop", "--empty")) == 0
    (second,) = set((root / "migrations" / "default" / "versions").glob("*.py")) - set(versions)
    first_id = versions[0].name.split("_")[0]
    assert f"Revises: {first_id}\n" in second.read_text()
    assert cli.run(parse(*base, "upgrade")) == 0
    assert cli.run(parse(*base, "downgrade", "base")) == 0
    assert f"{pkg}_things" not in tables(root / "app.db")
    assert "legacy_table" in tables(root / "app.db")


def test_unknown_connection_is_a_clear_error(project: tuple[Path, str]) -> None:
    root, pkg = project
    args = parse(
        "--project", str(root), "--settings", f"{pkg}_settings", "--connection", "x", "init"
    )
    with pytest.raises(ImproperlyConfigured, match="'x' is not in DATABASE_CONNECTION"):
        cli.run(args)


def test_wired_into_the_torngas_command(project: tuple[Path, str]) -> None:
    from torngas.cli import main

    root, pkg = project
    assert main(["db", "--project", str(root), "--settings", f"{pkg}_settings", "init"]) == 0
    assert (root / "migrations" / "default" / "script.py.mako").exists()
