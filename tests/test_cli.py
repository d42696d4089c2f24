import os
import subprocess
import sys
import time

import httpx

from tests.services import free_port, wait_until
from tests.services.appserver import AppProcess, app_env
from torngas.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = {
    "runserver.py",
    "settings/__init__.py",
    "settings/setting.py",
    "templates/index.html",
    "statics/.gitkeep",
    "logs/.gitkeep",
    "middlewares/__init__.py",
    "httpmodules/__init__.py",
    "main/__init__.py",
    "main/urls.py",
    "main/handlers/__init__.py",
    "main/handlers/main_handler.py",
}


def files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs} - {
        p for p in [] if p
    }


def serve_project(cwd, *args, log_dir):
    """``args --port=<free port>`` run in ``cwd`` (a generated project, torngas from
    the installed package), waited for until ``GET /`` answers 200."""
    port = free_port()
    app = AppProcess(
        [*args, f"--port={port}"],
        port=port,
        cwd=cwd,
        log_dir=log_dir,
        env=app_env(pythonpath=None),
    )
    return app.start()


def test_startproject_layout_and_it_runs_as_generated(tmp_path):
    assert main(["startproject", "mysite", str(tmp_path / "mysite")]) == 0
    root = tmp_path / "mysite"
    got = {p for p in files(root) if "__pycache__" not in p}
    assert got == EXPECTED
    settings_text = (root / "settings" / "setting.py").read_text()
    assert "TORNGAS_COOKIE_SECRET" in settings_text
    with serve_project(root, sys.executable, "runserver.py", log_dir=tmp_path) as app:
        app.wait_ready()
        assert "mysite is running" in httpx.get(app.url + "/").text


def test_each_project_gets_its_own_secret(tmp_path):
    main(["startproject", "a", str(tmp_path / "a")])
    main(["startproject", "b", str(tmp_path / "b")])
    a = (tmp_path / "a" / "settings" / "setting.py").read_text()
    b = (tmp_path / "b" / "settings" / "setting.py").read_text()
    assert a != b.replace('"b"', '"a"')


def test_startproject_refuses_bad_name_and_non_empty_dir(tmp_path, capsys):
    assert main(["startproject", "1bad", str(tmp_path / "x")]) == 2
    assert "valid Python identifier" in capsys.readouterr().err
    assert main(["startproject", "os", str(tmp_path / "y")]) == 2
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "f").write_text("x")
    assert main(["startproject", "zz", str(tmp_path / "z")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_startapp_routes_and_runserver_command(tmp_path, capsys):
    root = tmp_path / "proj"
    main(["startproject", "proj", str(root)])
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["startapp", "blog"]) == 0
    finally:
        os.chdir(cwd)
    assert (root / "blog" / "urls.py").exists() and (root / "blog" / "handlers").is_dir()
    setting = root / "settings" / "setting.py"
    setting.write_text(
        setting.read_text().replace(
            'INSTALLED_APPS = ("main",)', 'INSTALLED_APPS = ("main", "blog")'
        )
    )
    (root / "blog" / "urls.py").write_text(
        'from torngas import Url, route\n\nu = Url("blog.handlers")\n'
        'urls = route(u(name="blog.index", pattern=r"/blog/?", handler="main_handler.Main"))\n'
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run(
        [sys.executable, "-m", "torngas.cli", "routes", "--settings=settings.setting"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PATTERN", "HANDLER"]
    assert any(
        ln.split()[:3] == ["blog.index", "/blog/?$", "blog.handlers.main_handler.Main"]
        for ln in lines
    )
    argv = [sys.executable, "-m", "torngas.cli", "runserver", "--settings=settings.setting"]
    with serve_project(root, *argv, log_dir=tmp_path / "logs") as app:
        app.ready_path = "/blog"
        app.wait_ready()


def test_runserver_reports_missing_settings(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "torngas.cli", "runserver", "--settings=nope.settings", "--port=1"],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "cannot import settings module 'nope.settings'" in r.stderr


def test_debug_autoreload_picks_up_a_changed_handler(tmp_path):
    root = tmp_path / "ar"
    main(["startproject", "ar", str(root)])  # DEBUG is on in a generated project
    with serve_project(root, sys.executable, "runserver.py", log_dir=tmp_path / "logs") as app:
        app.wait_ready()
        # autoreload records the files' times on its first check (500 ms after start);
        # a change before that would be taken as the original
        time.sleep(1.5)
        handler = root / "main" / "handlers" / "main_handler.py"
        handler.write_text(
            handler.read_text().replace('self.render("index.html")', 'self.write("reloaded")')
        )
        reloaded = wait_until(lambda: httpx.get(app.url + "/", timeout=1).text == "reloaded", 15)
        assert reloaded, app.tail()
