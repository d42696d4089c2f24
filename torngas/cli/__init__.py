"""The ``torngas`` command: startproject, startapp, runserver, routes (and db).

torngas startproject mysite          # the documented layout, runs as generated
cd mysite && python runserver.py --port=8000
torngas startapp blog                # a new app with urls.py and handlers/
torngas runserver --settings=settings.setting --port=8000 --processes=2
torngas runserver --server uvicorn   # or granian, hypercorn (ASGI, see docs/asgi.md)
torngas routes --settings=settings.setting
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
import secrets
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from torngas.exceptions import TorngasError

__all__ = ["main", "startproject", "startapp"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise TorngasError(f"{what} name {name!r} must be a valid Python identifier")
    try:
        __import__(name)
    except ImportError:
        return
    raise TorngasError(f"{what} name {name!r} conflicts with an importable module {name!r}")


def _render_tree(kind: str, target: Path, context: dict[str, str]) -> list[Path]:
    root = resources.files("torngas.cli") / "templates" / kind
    written: list[Path] = []

    def walk(node: Any, rel: Path) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, rel / child.name)
                continue
            if not child.name.endswith("-tpl"):
                continue
            name = child.name[: -len("-tpl")]
            dest = target / rel / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            text = child.read_text(encoding="utf-8")
            for key, value in context.items():
                text = text.replace("{{ " + key + " }}", value)
            dest.write_text(text, encoding="utf-8")
            written.append(dest)

    walk(root, Path())
    return written


def startproject(name: str, directory: str | None = None, app: str = "main") -> Path:
    """Create a project ``name`` (in ``directory``, default ``./name``)."""
    _check_name(name, "project")
    _check_name(app, "app")
    target = Path(directory or name).resolve()
    if target.exists() and any(target.iterdir()):
        raise TorngasError(f"{target} already exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    context = {"project_name": name, "app_name": app, "secret": secrets.token_urlsafe(32)}
    _render_tree("project", target, context)
    _render_tree("app", target / app, context)
    return target


def startapp(name: str, directory: str | None = None) -> Path:
    """Create an app package ``name`` with ``urls.py`` and ``handlers/``."""
    _check_name(name, "app")
    target = Path(directory or ".").resolve() / name
    if target.exists():
        raise TorngasError(f"{target} already exists")
    _render_tree("app", target, {"app_name": name})
    return target


def _server_args(args: argparse.Namespace, rest: list[str]) -> list[str]:
    argv = ["torngas"]
    for opt in ("settings", "address", "port", "processes"):
        value = getattr(args, opt)
        if value is not None:
            argv.append(f"--{opt}={value}")
    return argv + rest


def _prepare_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def _cmd_runserver(args: argparse.Namespace, rest: list[str]) -> int:
    from torngas.webserver import Server, exit_on_startup_error

    _prepare_path()
    server = Server()
    with exit_on_startup_error():
        server.parse_command(_server_args(args, rest))
        server.load_urls()
        server.load_application()
    if args.server == "tornado":
        server.start()
        return 0
    # An ASGI server: the settings and the application were checked above (a
    # configuration error stops here, with its cause); each worker builds its
    # own application from the same settings module.
    from torngas.asgi.servers import run_asgi_server
    from torngas.conf import settings

    if settings.DEBUG:
        server.print_settings_info()
    with exit_on_startup_error():
        run_asgi_server(
            args.server,
            host=server.address,
            port=server.port,
            workers=server.processes,
            settings_module=settings.SETTINGS_MODULE or None,
            log_level="debug" if settings.DEBUG else "info",
        )
    return 0


def _cmd_routes(args: argparse.Namespace, rest: list[str]) -> int:
    from torngas.application import Application
    from torngas.webserver import Server

    _prepare_path()
    Server().parse_command(_server_args(args, rest))
    app = Application()
    rows = [(n or "-", p, h) for n, p, h in app.route_table()]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("NAME", "PATTERN"))]
    print(f"{'NAME':<{widths[0]}}  {'PATTERN':<{widths[1]}}  HANDLER")
    for name, pattern, handler in rows:
        print(f"{name:<{widths[0]}}  {pattern:<{widths[1]}}  {handler}")
    return 0


def _add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", help="settings module, e.g. settings.setting")
    p.add_argument("--address", help="address to bind")
    p.add_argument("--port", type=int, help="port")
    p.add_argument("--processes", type=int, help="worker processes (0 = one per CPU)")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="torngas", description="torngas project tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("startproject", help="create a new project")
    p.add_argument("name")
    p.add_argument("directory", nargs="?")
    p.add_argument("--app", default="main", help="name of the first app (default: main)")
    p = sub.add_parser("startapp", help="create a new app in the current directory")
    p.add_argument("name")
    p.add_argument("directory", nargs="?")
    p = sub.add_parser("runserver", help="run the project in the current directory")
    _add_server_options(p)
    p.add_argument(
        "--server",
        choices=("tornado", "uvicorn", "granian", "hypercorn"),
        default="tornado",
        help="HTTP server: tornado (default, Tornado's own) or an ASGI server through "
        "torngas.asgi (docs/asgi.md)",
    )
    p = sub.add_parser("routes", help="list routes: name, pattern, handler")
    _add_server_options(p)
    extra: dict[str, Any] = {}
    try:
        from torngas.db import cli as db_cli
    except ImportError:
        db_cli = None  # type: ignore[assignment]
    if db_cli is not None and hasattr(db_cli, "add_arguments"):
        db_cli.add_arguments(sub)
        extra["db"] = db_cli.run
    return parser, extra


def main(argv: list[str] | None = None) -> int:
    parser, extra = build_parser()
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "startproject":
            path = startproject(args.name, args.directory, args.app)
            print(f"created project {args.name!r} in {path}\n  cd {path} && python runserver.py")
            return 0
        if args.command == "startapp":
            path = startapp(args.name, args.directory)
            print(f"created app {args.name!r} in {path}; add {args.name!r} to INSTALLED_APPS")
            return 0
        if rest and args.command not in ("runserver", "routes"):
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "runserver":
            return _cmd_runserver(args, rest)
        if args.command == "routes":
            return _cmd_routes(args, rest)
        if args.command in extra:
            return int(extra[args.command](args) or 0)
    except TorngasError as exc:
        print(f"torngas {args.command}: error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
