"""Default settings. A project's settings module overrides these name by name.

Documented defaults only, no logic. Every name is documented in docs/settings.md.
Each feature area keeps its defaults in its own section below.
"""

# ---------------------------------------------------------------- core
#: Directory of the project (holds runserver.py). None: derived from the
#: settings module's location, else the current directory.
PROJECT_PATH = None

#: Tornado's ``debug``: autoreload (single process only), no template cache,
#: tracebacks on error pages. Never on in production.
DEBUG = False

#: Trust ``X-Real-Ip``/``X-Forwarded-For``/``X-Scheme`` headers (behind a proxy).
XHEADERS = False

#: Apps whose ``urls.py`` supplies routes, in order.
INSTALLED_APPS = ()

#: Middleware classes (dotted paths or classes), in declared order.
MIDDLEWARE_CLASSES = ()

#: Keyword arguments for :class:`tornado.web.Application` (the 1.8 name).
#: ``static_path``, ``template_path``, ``cookie_secret``, ``xsrf_cookies``,
#: ``login_url``, ``gzip``… A relative ``static_path``/``template_path`` is
#: taken relative to PROJECT_PATH.
TORNADO_CONF = {
    "static_path": "statics",
    "static_url_prefix": "/static/",
    "template_path": "templates",
    # On by default: forms carry xsrf_form_html(), AJAX sends X-XSRFToken.
    # A handler opts out with ``xsrf_exempt = True`` (e.g. a token-authenticated API).
    "xsrf_cookies": True,
    "cookie_secret": None,
    "login_url": "/login",
}

#: Keyword arguments for :class:`tornado.httpserver.HTTPServer`. Safe defaults:
#: an idle (and header-wait) timeout, a body timeout and size limits, so a slow
#: or hostile client cannot hold a worker forever.
HTTPSERVER = {
    "idle_connection_timeout": 60,
    "body_timeout": 60,
    "max_header_size": 64 * 1024,
    "max_body_size": 10 * 1024 * 1024,
    "decompress_request": False,
}

#: Seconds a graceful shutdown (SIGTERM/SIGINT) waits for in-flight requests.
SHUTDOWN_TIMEOUT = 10

#: After start-up (imports, routes, middleware, ``process_init``), each serving
#: process runs ``gc.collect()`` then ``gc.freeze()``: the objects alive then are
#: never scanned again by the cyclic garbage collector, so its collections walk
#: only what requests allocate. Without it a collection of the oldest generation
#: walks every module, class and function loaded at start-up (measured: ~30 % of
#: the CPU of a small request on uvicorn). Cycles among the frozen objects that
#: become garbage later are not reclaimed (plain reference counting still frees
#: everything else); set False for an application that builds and drops large
#: cyclic structures at start-up time and wants them collected.
GC_FREEZE = True

#: Give each worker process its own SO_REUSEPORT socket (Linux); when False
#: the parent binds one socket that the workers share.
REUSE_PORT = True

#: Address and port ``--address``/``--port`` default to.
ADDRESS = "127.0.0.1"
PORT = 8000

#: Worker processes (``--processes``): 1 = no fork; 0 = one per CPU.
PROCESSES = 1

#: Class of the application object ``Server.load_application`` builds.
APPLICATION_CLASS = "torngas.application.Application"

#: Proxies whose forwarded-IP headers are trusted (with XHEADERS).
TRUSTED_PROXIES = ("127.0.0.1", "::1")

# ---------------------------------------------------------------- templates
TEMPLATE_CONFIG = {
    # None: Tornado's templates; or torngas.template.jinja2_loader.Jinja2TemplateLoader
    # or torngas.template.mako_loader.MakoTemplateLoader.
    "template_engine": None,
    "filesystem_checks": True,  # reload changed templates (Jinja2 auto_reload, Mako)
    "cache_directory": None,  # compiled-template cache on disk (Jinja2, Mako)
    "collection_size": -1,  # Mako: templates kept in memory (-1: all)
    "cache_size": 400,  # Jinja2: templates kept in memory (-1: all, 0: none)
    "format_exceptions": False,  # Mako: render errors as HTML
    "autoescape": True,  # HTML-escape every expression, in all three engines
}

# ---------------------------------------------------------------- http modules
COMMON_MODULES = ()
ROUTE_MODULES = {}

# ---------------------------------------------------------------- cache
#: Cache aliases, as Django's CACHES (docs/cache.md). Backends:
#: ``torngas.cache.backends.localcache.LocMemCache`` (1.8: ``LocalCache``),
#: ``.filebased.FileBasedCache``, ``.dummy.DummyCache``, ``.memcached.MemcachedCache``,
#: ``.rediscache.RedisCache`` / ``.rediscache.RedisClient``. Per alias: ``LOCATION``,
#: ``TIMEOUT`` (seconds; None = forever, 0 = expire at once), ``KEY_PREFIX``,
#: ``VERSION``, ``KEY_FUNCTION``, ``OPTIONS`` (``SERIALIZER`` = "json" by default,
#: ``IGNORE_EXCEPTIONS``, and the backend's own options).
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
        "LOCATION": "default",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 10000, "CULL_FREQUENCY": 3},
    },
}

# ---------------------------------------------------------------- sessions
#: SessionMiddleware (docs/sessions.md). A project's SESSION dict is merged over
#: this one key by key, so it may list only the keys it changes.
SESSION = {
    # CACHES alias holding the sessions (in a key namespace of their own).
    "session_cache_alias": "default",
    "session_name": "__TORNADOSSID",
    "cookie_domain": "",
    "cookie_path": "/",
    # Seconds a session lasts after its last change; 0 = a browser-session cookie
    # (the store then keeps the data for "lifetime" seconds).
    "expires": 0,
    "lifetime": 14 * 24 * 3600,
    # False: a session is bound to the client IP it was created from.
    "ignore_change_ip": False,
    "httponly": True,
    "secure": False,
    "samesite": "Lax",
    # Required with DEBUG off: set it from the environment, never in the code.
    # A list rotates keys: the first signs, every one verifies.
    "secret_key": None,
    # Part of every signature: changing it ends every session.
    "session_version": "v1",
    # Seconds a load or save may take before the request gets a 503.
    "store_timeout": 3.0,
}

#: Hosts besides the request's own that a ``next=`` redirect may go to
#: (torngas.auth.next_url, torngas.security.is_safe_redirect), e.g. ("accounts.example.com",).
ALLOWED_REDIRECT_HOSTS = ()

# ---------------------------------------------------------------- database
#: Connection names → servers (see docs/database.md). Each name has one
#: ``ROLE: "master"`` (the primary: writes) and any number of ``"slave"``
#: entries (replicas: reads). An entry gives DRIVER/UID/PASSWD/HOST/PORT/
#: DATABASE/QUERY, or ``URL``. The default is an SQLite file in PROJECT_PATH,
#: so a new project runs with no database server.
DATABASE_CONNECTION = {
    "default": {
        "connections": [
            {"ROLE": "master", "DRIVER": "sqlite", "DATABASE": "db.sqlite3"},
        ],
    },
}

#: ``create_engine`` options shared by every connection (the ``sqlalchemy.``
#: prefix of the 1.8 keys is optional). Keys SQLAlchemy 2 removed, such as
#: ``encoding``, are ignored with a DatabaseConfigWarning. ``connect_args``
#: ``connect_timeout`` is translated per driver (5 s when not given).
SQLALCHEMY_CONFIGURATION = {
    "sqlalchemy.echo": False,
    "sqlalchemy.pool_size": 10,
    "sqlalchemy.max_overflow": 10,
    "sqlalchemy.pool_timeout": 10,
}

#: Seconds: pooled connections are pinged before use (``pool_pre_ping``) and
#: recycled after at most this long. 0/None turns both off.
PING_DB = 300

# ---------------------------------------------------------------- websocket & broadcast
# (torngas.websocket.WebSocketHandler and torngas.broadcast; docs/websocket.md)

#: Defaults of every ``torngas.websocket.WebSocketHandler`` (a handler class may
#: override any key with ``websocket_options = {...}``; a project's WEBSOCKET dict
#: is merged over this one key by key).
#:
#: ``ALLOWED_ORIGINS``: origins (``"https://example.com"``, ``"http://localhost:8080"``)
#: whose pages may open a socket, besides the page's own origin (the ``Origin`` host
#: equal to the ``Host`` header), which is always allowed. Empty: same-origin only.
#: ``"*"`` accepts any site: UNSAFE with cookie sessions (any page a logged-in user
#: visits can then talk to your socket as that user: cross-site WebSocket hijacking).
#: A refused ``Origin`` gets 403 before the upgrade and is logged with the origin.
#: Clients that send no ``Origin`` (not browsers) are not checked.
#: ``PING_INTERVAL``: seconds between server pings (0: none); ``PING_TIMEOUT``:
#: seconds to wait for the pong before the connection is closed (capped at
#: PING_INTERVAL, as Tornado >= 6.5 does). ``MAX_MESSAGE_SIZE``: bytes; a bigger
#: message closes the connection with 1009. These map to Tornado's
#: ``websocket_ping_interval``/``websocket_ping_timeout``/``websocket_max_message_size``;
#: one of those set in TORNADO_CONF wins over the key here.
WEBSOCKET = {
    "ALLOWED_ORIGINS": [],
    "PING_INTERVAL": 20,
    "PING_TIMEOUT": 20,
    "MAX_MESSAGE_SIZE": 64 * 1024,
}

#: ``torngas.broadcast.Broadcast`` channels. ``BACKEND``:
#: ``"torngas.broadcast.LocalBroadcast"`` (this process / event loop only) or
#: ``"torngas.broadcast.RedisBroadcast"`` (every process and host sharing the Redis:
#: ``LOCATION`` ``"redis://127.0.0.1:6379/0"``, or ``"CACHE": "<alias>"`` to take
#: the connection settings of a RedisCache alias). ``OPTIONS`` of RedisBroadcast:
#: ``CHANNEL_PREFIX`` ("torngas:broadcast:"), ``PASSWORD``, ``USERNAME``,
#: ``SOCKET_TIMEOUT`` (1 s, bounds every publish), ``HEALTH_CHECK_INTERVAL`` (5 s:
#: an idle subscriber connection is PINGed), ``RECONNECT_MAX`` (5 s: the longest
#: wait between reconnect attempts), ``SUBSCRIBE_TIMEOUT`` (2 s).
BROADCAST = {
    "BACKEND": "torngas.broadcast.LocalBroadcast",
    "LOCATION": None,
    "OPTIONS": {},
}

# ---------------------------------------------------------------- thread pool
#: Worker threads of the pool behind ``@async_execute`` and
#: ``torngas.concurrent.run_in_threadpool``; None: the CPU count. Read when the
#: pool is first used (``override_settings(THREADS_NUM=...)`` rebuilds it).
THREADS_NUM = None

# ---------------------------------------------------------------- logging
#: Directory for log files; ``--logging_dir`` overrides it. A relative path is
#: taken from the current directory. None: no files, only stderr (an entry with
#: an absolute ``filename`` still gets its file).
LOGGING_DIR = None

#: One dict per logger (see docs/logging.md): ``name``, ``level``,
#: ``log_to_stderr``, ``when``/``interval`` (rotation), ``filename``; optional
#: ``formatter``, ``backups`` (default 20, 0 keeps all), ``propagate``,
#: ``handler``, ``escape`` (escape control characters in each message). Files
#: use ``torngas.logger.ProcessLogTimedFileHandler``, safe when several
#: processes share a file. Keep these entries when you add yours;
#: entries with the same ``filename`` share one handler. A dict with a
#: ``"version"`` key is handed to ``logging.config.dictConfig`` instead.
LOGGING = (
    {
        "name": "tornado",  # tornado.application and tornado.general
        "level": "INFO",
        "log_to_stderr": True,
        "when": "midnight",
        "interval": 1,
        "filename": "tornado.log",
    },
    {
        "name": "tornado.access",  # Application.log_request
        "level": "INFO",
        "log_to_stderr": True,
        "when": "midnight",
        "interval": 1,
        "filename": "access.log",
        "escape": True,  # no raw control characters from requests
        "buffer": 0.2,  # append in batches, at most 0.2 s late (see docs/logging.md)
    },
    {
        "name": "torngas.access",  # AccessLogMiddleware
        "level": "INFO",
        "log_to_stderr": True,
        "when": "midnight",
        "interval": 1,
        "filename": "access.log",
        # no "escape" filter: AccessLogMiddleware escapes every request value itself
        "buffer": 0.2,  # append in batches, at most 0.2 s late (see docs/logging.md)
    },
    {
        "name": "torngas",  # syslogger (torngas.general / torngas.application), the framework
        "level": "INFO",
        "log_to_stderr": True,
        "when": "midnight",
        "interval": 1,
        "filename": "torngas.log",
    },
)
