"""``torngas db``: alembic migrations for a torngas project.

::

    torngas db init                       # migrations/default/ (env.py, versions/)
    torngas db makemigrations -m "users"  # autogenerate a revision (alias: revision)
    torngas db upgrade [REV]              # default: head
    torngas db downgrade REV              # e.g. -1 or base
    torngas db current

Options (before the action): ``--settings`` (default: ``TORNGAS_APP_SETTINGS``,
else ``settings.setting`` when the project has it), ``--project`` (default: the
current directory), ``--connection`` (a ``DATABASE_CONNECTION`` name, default
``default``), ``--models`` (extra modules to import; every installed app's
``models`` module is imported anyway).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from torngas.exceptions import ImproperlyConfigured

__all__ = ["add_arguments", "run"]


def add_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``db`` subcommand on the ``torngas`` parser."""
    p = subparsers.add_parser("db", help="database migrations (alembic)")
    p.add_argument("--settings", help="settings module, e.g. settings.setting")
    p.add_argument("--project", help="project directory (default: current directory)")
    p.add_argument("--connection", default="default", help="DATABASE_CONNECTION name")
    p.add_argument(
        "--models", action="append", default=[], help="module defining models (repeatable)"
    )
    actions = p.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True
    actions.add_parser("init", help="create migrations/<connection>/")
    for alias in ("makemigrations", "revision"):
        a = actions.add_parser(alias, help="create a revision from the models' changes")
        a.add_argument("-m", "--message", default="auto")
        a.add_argument("--empty", action="store_true", help="do not autogenerate")
    a = actions.add_parser("upgrade", help="upgrade to a revision (default: head)")
    a.add_argument("revision", nargs="?", default="head")
    a.add_argument("--sql", action="store_true", help="print the SQL instead (offline)")
    a = actions.add_parser("downgrade", help="downgrade to a revision (e.g. -1, base)")
    a.add_argument("revision")
    actions.add_parser("current", help="show the applied revision")
    actions.add_parser("history", help="list the revisions")
    return p  # type: ignore[no-any-return]


def _setup(args: argparse.Namespace) -> tuple[Path, str]:
    from torngas.conf import settings
    from torngas.db.connection import connections

    project = Path(args.project or os.getcwd()).resolve()
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    module = args.settings or os.environ.get("TORNGAS_APP_SETTINGS")
    if not module and (project / "settings" / "setting.py").exists():
        module = "settings.setting"
    settings.configure(module)
    if settings.PROJECT_PATH is None or not module:
        settings.PROJECT_PATH = str(project)
    connections.reset()
    name = args.connection
    connections[name]  # a clear error for an unknown name
    for app in settings.get("INSTALLED_APPS", ()):
        try:
            importlib.import_module(f"{app}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.models":  # the app has no models module: fine
                raise
    for module_name in args.models:
        importlib.import_module(module_name)
    return project, name


def _config(directory: Path, name: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(directory))
    cfg.set_main_option("torngas_connection", name)
    return cfg


def run(args: argparse.Namespace) -> int:
    """Run a ``torngas db`` action; returns the exit status."""
    from alembic import command

    from torngas.db.connection import connections
    from torngas.db.migrations import write_skeleton

    project, name = _setup(args)
    directory = project / "migrations" / name
    try:
        action = args.db_command
        if action == "init":
            written = write_skeleton(directory, name)
            print(f"migrations for {name!r} in {directory} ({len(written)} files written)")
            return 0
        if not (directory / "env.py").exists():
            raise ImproperlyConfigured(
                f"no migrations for {name!r} in {directory}: run `torngas db init` first"
            )
        cfg = _config(directory, name)
        if action in ("makemigrations", "revision"):
            script = command.revision(cfg, message=args.message, autogenerate=not args.empty)
            scripts = script if isinstance(script, list) else [script]
            for s in scripts:
                if s is not None:
                    print(f"created {s.path}")
        elif action == "upgrade":
            command.upgrade(cfg, args.revision, sql=args.sql)
            print(f"{name}: upgraded to {args.revision}")
        elif action == "downgrade":
            command.downgrade(cfg, args.revision)
            print(f"{name}: downgraded to {args.revision}")
        elif action == "current":
            command.current(cfg)
        elif action == "history":
            command.history(cfg)
        return 0
    finally:
        connections.reset()
