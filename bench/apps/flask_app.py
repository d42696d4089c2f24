"""Flask on gunicorn: ``gunicorn -w 1 bench.apps.flask_app:app``.

As Flask's docs show: ``render_template`` (Jinja2, autoescaped .html),
``jsonify``, Flask-Session's Redis interface for server-side sessions, and the
"Using SQLite 3 with Flask" pattern (one connection per request in ``g``).
"""

from __future__ import annotations

import sqlite3

import redis
from flask import Flask, Response, g, jsonify, render_template, request, session
from flask_session import Session

from bench import common

app = Flask(__name__, template_folder=common.TEMPLATE_DIR)
app.config.update(
    SESSION_TYPE="redis",
    SESSION_REDIS=redis.from_url(common.redis_url()),
    SESSION_KEY_PREFIX="flask:session:",
    SESSION_PERMANENT=False,
    SECRET_KEY="bench-only-not-secret",
)
Session(app)


def get_db() -> sqlite3.Connection:
    db = getattr(g, "_database", None)
    if db is None:
        db = g._database = sqlite3.connect(common.sqlite_path())
    return db


@app.teardown_appcontext
def close_connection(exception: BaseException | None) -> None:
    db = getattr(g, "_database", None)
    if db is not None:
        db.close()


def _filler(n: int = 0) -> str:
    return "filler"


for _i, (_path, _dynamic) in enumerate(common.filler_routes(common.route_count())):
    app.add_url_rule(f"{_path}/<int:n>" if _dynamic else _path, f"filler{_i}", _filler)


@app.route("/json")
def json_view() -> Response:
    return jsonify(common.JSON_PAYLOAD)


@app.route("/page")
def page() -> Response:
    visits = common.visits_from_cookie(request.cookies.get(common.COOKIE_NAME))
    resp = Response(render_template(common.PAGE_TEMPLATE, **common.page_context(visits)))
    resp.set_cookie(common.COOKIE_NAME, str(visits))
    return resp


@app.route("/full")
def full() -> str:
    visits = int(session.get(common.SESSION_KEY, 0)) + 1
    session[common.SESSION_KEY] = visits
    rows = get_db().execute(common.FULL_QUERY, (common.full_category(visits),)).fetchall()
    return render_template(common.FULL_TEMPLATE, **common.full_context(visits, rows))


# Last: the routes suite times it.
@app.route("/plaintext")
def plaintext() -> Response:
    return Response(common.PLAINTEXT, mimetype="text/plain")
