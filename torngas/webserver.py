"""Starting the server: :class:`Server` and :func:`run`.

    from torngas.webserver import Server

    server = Server()
    server.parse_command()             # --settings, --port, --address, --processes, logging
    server.load_urls()
    server.load_application()          # or load_application(MyApplication)
    server.server_start()              # binds, forks if --processes > 1, serves

``load_all(application=None, **httpserver_kwargs)`` does the first four steps
(including ``parse_command``) and ``start()`` serves; ``run()`` is ``load_all``
plus ``start``.

Multi-process (``--processes=N``): the parent supervises N workers. Each worker
binds its own ``SO_REUSEPORT`` socket (``REUSE_PORT``; otherwise they share the
parent's socket). A worker that dies is replaced. SIGTERM or SIGINT to the parent
stops every worker gracefully and frees the port; workers also die with the
parent (``PR_SET_PDEATHSIG``), so none is left orphaned.

Graceful shutdown (SIGTERM/SIGINT, one process or each worker): stop accepting,
let in-flight requests finish for up to ``SHUTDOWN_TIMEOUT`` seconds, close the
remaining connections, run the application's shutdown, stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import tornado.netutil
import tornado.process
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.options import define, options, parse_command_line
from tornado.web import URLSpec

from torngas._gc import freeze_startup_heap
from torngas.conf import settings
from torngas.exceptions import ArgumentError, ImproperlyConfigured, TorngasError
from torngas.httpserver import TorngasHTTPServer

__all__ = ["Server", "run", "define_options"]

log = logging.getLogger("torngas.server")


def define_options() -> None:
    """Define the torngas command-line options (idempotent)."""
    known = options._options  # noqa: SLF001 - tornado offers no public "is defined"
    specs: list[tuple[str, Any, type, str]] = [
        ("address", None, str, "address to bind (default: settings.ADDRESS)"),
        ("port", None, int, "port to listen on (default: settings.PORT)"),
        ("settings", None, str, "settings module, e.g. settings.setting"),
        ("processes", None, int, "worker processes; 0 = one per CPU (default 1)"),
        ("logging_dir", None, str, "directory for log files (overrides LOGGING_DIR)"),
        ("log_port_prefix", False, bool, "add the port to log file names (access.log.8000)"),
        ("disable_log", False, bool, "keep Tornado's own logging, not torngas's"),
    ]
    for name, default, type_, help_text in specs:
        if name.replace("_", "-") not in known and name not in known:
            define(name, default=default, type=type_, help=help_text, group="torngas")


class Server:
    """Builds and runs the application (the 1.8 API)."""

    def __init__(self) -> None:
        self.application: Any = None
        self.httpserver: HTTPServer | None = None
        self.urls: list[URLSpec] = []
        self.httpserver_kwargs: dict[str, Any] = {}
        self.io_loop: IOLoop | None = None
        self._parsed = False
        self._shutting_down = False

    # ------------------------------------------------------------- set-up
    def parse_command(self, args: list[str] | None = None) -> None:
        """Parse the command line (``tornado.options``) and load settings.

        Call it after your own ``define()`` calls. ``--settings`` wins over
        ``TORNGAS_APP_SETTINGS``.
        """
        define_options()
        parse_command_line(args)
        self._parsed = True
        self.configure(options.settings)

    def configure(self, settings_module: str | None = None) -> None:
        """Load settings (``settings_module``, else ``TORNGAS_APP_SETTINGS``,
        else what is configured already) and logging, without parsing a
        command line: what an ASGI server's worker does (``torngas.asgi``)."""
        define_options()
        if settings_module:
            settings.configure(settings_module)
        elif not settings.configured:
            settings.configure()
        self._configure_logging()

    def _configure_logging(self) -> None:
        try:
            from torngas.logger import configure_logging
        except ImportError:  # pragma: no cover
            return
        configure_logging(
            logging_dir=options.logging_dir,
            port=self.port,
            log_port_prefix=bool(options.log_port_prefix),
            disable=bool(options.disable_log),
        )

    @property
    def port(self) -> int:
        return int(
            options.port
            if "port" in options._options and options.port is not None
            else settings.PORT
        )

    @property
    def address(self) -> str:
        if "address" in options._options and options.address is not None:
            return str(options.address)
        return str(settings.ADDRESS)

    @property
    def processes(self) -> int:
        n = options.processes if "processes" in options._options else None
        n = settings.PROCESSES if n is None else n
        n = int(n)
        if n < 0:
            raise ArgumentError(f"--processes must be >= 0, got {n}")
        return n if n > 0 else (os.cpu_count() or 1)

    def load_urls(self) -> list[URLSpec]:
        """Collect the routes of every installed app."""
        from torngas.apps import load_urls

        self.urls = load_urls(settings.INSTALLED_APPS)
        return self.urls

    def load_application(self, application: Any = None) -> Any:
        """Build the application: ``application`` may be None (torngas's
        :class:`~torngas.application.Application`, or ``APPLICATION_CLASS``), a
        subclass, or an instance (used as it is)."""
        from torngas.application import Application
        from torngas.security import check_production_settings

        check_production_settings(settings)
        extra: dict[str, Any] = {}
        if self._parsed and self.processes != 1:
            extra["autoreload"] = False  # autoreload cannot work with forked workers
        if application is None:
            from torngas._utils import import_object

            application = import_object(settings.APPLICATION_CLASS, what="APPLICATION_CLASS")
        if isinstance(application, type):
            if not issubclass(application, Application):
                raise ImproperlyConfigured(
                    f"load_application: {application.__qualname__} must subclass "
                    "torngas.application.Application"
                )
            self.application = application(handlers=self.urls, **extra)
        elif isinstance(application, Application):
            self.application = application
        else:
            raise ImproperlyConfigured(
                "load_application expects a torngas.application.Application subclass or "
                f"instance, got {application!r}"
            )
        return self.application

    def _httpserver_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        merged: dict[str, Any] = dict(settings.HTTPSERVER or {})
        merged.setdefault("xheaders", bool(settings.XHEADERS))
        merged.update(self.httpserver_kwargs)
        merged.update(kwargs)
        return merged

    def load_httpserver(
        self, sockets: list[socket.socket] | None = None, **kwargs: Any
    ) -> HTTPServer:
        """Create the HTTP server for the application (and add ``sockets``)."""
        if self.application is None:
            raise ImproperlyConfigured("load_httpserver: call load_application() first")
        self.httpserver = TorngasHTTPServer(self.application, **self._httpserver_kwargs(**kwargs))
        if sockets:
            self.httpserver.add_sockets(sockets)
        return self.httpserver

    def load_all(self, application: Any = None, **httpserver_kwargs: Any) -> Server:
        """``parse_command`` + ``load_urls`` + ``load_application``; ``start()`` serves."""
        self.parse_command()
        self.load_urls()
        self.load_application(application)
        self.httpserver_kwargs.update(httpserver_kwargs)
        return self

    # ------------------------------------------------------------- serving
    def server_start(
        self, sockets: list[socket.socket] | None = None, **httpserver_kwargs: Any
    ) -> None:
        """Bind (unless ``sockets`` are given), fork if asked, and serve until stopped."""
        self.httpserver_kwargs.update(httpserver_kwargs)
        with exit_on_startup_error():
            self._bind_or_supervise(sockets)

    def start(self) -> None:
        """Serve the loaded application until stopped (prints a banner in DEBUG)."""
        if settings.DEBUG:
            self.print_settings_info()
        with exit_on_startup_error():
            self._bind_or_supervise(None)

    def print_settings_info(self) -> None:
        import tornado

        print(
            f"torngas: settings={settings.SETTINGS_MODULE or '(defaults)'} "
            f"debug={settings.DEBUG} tornado={tornado.version} "
            f"http://{self.address}:{self.port}/ processes={self.processes}",
            file=sys.stderr,
            flush=True,
        )

    def _bind_or_supervise(self, sockets: list[socket.socket] | None) -> None:
        if self.application is None:
            if not self._parsed:
                self.parse_command()
            if not self.urls:
                self.load_urls()
            self.load_application()
        n = self.processes if self._parsed or sockets is None else 1
        if n == 1:
            if sockets is None:
                sockets = tornado.netutil.bind_sockets(self.port, self.address)
            self._serve_worker(sockets)
        else:
            self._supervise(n, sockets)

    def _serve_worker(self, sockets: list[socket.socket]) -> None:
        """Serve on ``sockets`` in this process until a stop signal."""
        asyncio.run(self._worker_main(sockets))

    async def _worker_main(self, sockets: list[socket.socket]) -> None:
        self.io_loop = IOLoop.current()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.application.startup()
        freeze_startup_heap()  # settings.GC_FREEZE
        if self.application.settings.get("autoreload"):
            import tornado.autoreload

            tornado.autoreload.start()  # re-executes the process when a module changes
        server = self.load_httpserver(sockets)
        log.info("serving on %s (pid %d)", _describe(sockets), os.getpid())
        await stop.wait()
        await self.shutdown(server)

    async def shutdown(self, server: HTTPServer | None = None) -> None:
        """Graceful stop: refuse new connections, wait for in-flight requests
        up to ``SHUTDOWN_TIMEOUT``, close the rest, release resources."""
        server = server or self.httpserver
        if server is None or self._shutting_down:
            return
        self._shutting_down = True
        server.stop()
        deadline = time.monotonic() + float(settings.SHUTDOWN_TIMEOUT)
        while self.application.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        left = self.application.inflight
        if left:
            log.warning("shutdown deadline passed with %d request(s) in flight", left)
        try:
            await asyncio.wait_for(server.close_all_connections(), 5)
        except TimeoutError:
            log.warning("connections did not close within 5 s")
        await self.application.shutdown()

    # ------------------------------------------------------- multi-process
    def _supervise(self, n: int, sockets: list[socket.socket] | None) -> None:
        reuse = bool(settings.REUSE_PORT) and hasattr(socket, "SO_REUSEPORT") and sockets is None
        if sockets is None:
            # Bind once in the parent: a taken port fails here, with one message.
            sockets = tornado.netutil.bind_sockets(self.port, self.address, reuse_port=reuse)
            if reuse:
                for s in sockets:  # each worker binds its own; the parent must not hold one
                    s.close()
        children: dict[int, int] = {}
        stopping = False
        parent = os.getpid()

        def spawn(index: int) -> None:
            pid = os.fork()
            if pid == 0:  # worker
                code = 0
                try:
                    _die_with_parent(parent)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                        signal.signal(sig, signal.SIG_DFL)
                    tornado.process._task_id = index  # noqa: SLF001 - what task_id() reads
                    own = (
                        tornado.netutil.bind_sockets(self.port, self.address, reuse_port=True)
                        if reuse
                        else sockets
                    )
                    self._serve_worker(own)  # type: ignore[arg-type]
                except BaseException:
                    log.exception("worker %d failed", index)
                    code = 1
                finally:
                    logging.shutdown()
                    os._exit(code)
            children[pid] = index

        def on_signal(signum: int, _frame: Any) -> None:
            nonlocal stopping
            if not stopping:
                stopping = True
                log.info("received signal %d: stopping %d worker(s)", signum, len(children))
            for pid in list(children):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        for i in range(n):
            spawn(i)
        log.info("supervising %d workers on %s:%d", n, self.address, self.port)
        recent_deaths: list[float] = []
        kill_at: float | None = None
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if stopping:
                    now = time.monotonic()
                    if kill_at is None:
                        kill_at = now + float(settings.SHUTDOWN_TIMEOUT) + 5
                    elif now > kill_at:
                        for cpid in list(children):
                            try:
                                os.kill(cpid, signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                time.sleep(0.05)
                continue
            index = children.pop(pid, None)
            if index is None or stopping:
                continue
            log.warning("worker %d (pid %d) exited with status %d; restarting", index, pid, status)
            now = time.monotonic()
            recent_deaths = [t for t in recent_deaths if now - t < 10] + [now]
            if len(recent_deaths) > 5 * n:
                log.error("workers keep dying; giving up")
                on_signal(signal.SIGTERM, None)
                continue
            spawn(index)
        for s in sockets or ():
            try:
                s.close()
            except OSError:
                pass


def _describe(sockets: list[socket.socket]) -> str:
    names = []
    for s in sockets:
        try:
            host, port = s.getsockname()[:2]
            names.append(f"{host}:{port}")
        except OSError:
            pass
    return ", ".join(names)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGTERM this worker when the supervisor dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1  # noqa: N806
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except Exception:
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


def run(application: Any = None, **httpserver_kwargs: Any) -> None:
    """Parse the command line, load urls and the application, and serve.

    A configuration error (bad settings module, missing app, bad route, taken
    port) prints one line naming the cause and exits with status 2.
    """
    with exit_on_startup_error():
        server = Server()
        server.load_all(application, **httpserver_kwargs)
    server.start()


@contextlib.contextmanager
def exit_on_startup_error() -> Iterator[None]:
    """Turn a start-up error into one clear line on stderr and exit status 2."""
    try:
        yield
    except (TorngasError, OSError) as exc:
        if settings.configured and settings.get("DEBUG"):
            log.exception("start-up failed")
        print(f"torngas: start-up failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
