"""What gets timed: suites of cases, and the targets computed from them.

A *case* is one contender serving one endpoint under one configuration. All
cases of a suite are timed round-robin (A B C A B C ...) so that drift hits
every case alike; ratios are taken within a round, then the median over rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    suite: str
    contender: str
    endpoint: str
    env: tuple[tuple[str, str], ...] = ()
    processes: int = 1
    cpus: str = "0"  # the server's cores (taskset -c)
    wrk_cpus: str = "1"
    label: str = ""

    @property
    def key(self) -> str:
        return self.label or f"{self.contender} {self.endpoint}"

    @property
    def server_key(self) -> tuple[object, ...]:
        return (self.contender, self.env, self.processes, self.cpus)


@dataclass(frozen=True)
class Target:
    name: str
    numerator: str  # case keys
    denominator: str
    goal: float
    issue: str = "#7"


@dataclass
class Suite:
    name: str
    title: str
    cases: list[Case] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


MAIN_CONTENDERS = (
    "tornado",
    "torngas",
    "torngas-mw3",
    "torngas-default",
    "flask",
    "django",
    "fastapi",
    "aiohttp",
    "torngas-uvicorn",
    "asgi-bare",
)
MAIN_ENDPOINTS = ("/plaintext", "/json", "/page", "/full")
ROUTE_COUNTS = (10, 100, 1000)
MIDDLEWARE_COUNTS = (0, 1, 5, 10)
PROCESS_COUNTS = (1, 2)


def main_suite(
    contenders: tuple[str, ...] = MAIN_CONTENDERS, endpoints: tuple[str, ...] = MAIN_ENDPOINTS
) -> Suite:
    from bench.contenders import CONTENDERS

    s = Suite("main", "Endpoints, every contender (one server process on one core)")
    for c in contenders:
        for ep in endpoints:
            if ep in CONTENDERS[c].endpoints:
                s.cases.append(Case("main", c, ep))
    keys = {c.key for c in s.cases}
    wanted = [
        Target("torngas / Tornado, plaintext", "torngas /plaintext", "tornado /plaintext", 0.95,
               "#2 #7"),
        Target("torngas / Tornado, json", "torngas /json", "tornado /json", 0.95, "#2 #7"),
        Target("torngas AccessLog+2 no-op / Tornado, plaintext", "torngas-mw3 /plaintext",
               "tornado /plaintext", 0.85, "#2"),
        Target("torngas AccessLog+2 no-op / Tornado, json", "torngas-mw3 /json",
               "tornado /json", 0.85, "#2"),
        Target("torngas default stack / Tornado, plaintext", "torngas-default /plaintext",
               "tornado /plaintext", 0.85),
        Target("torngas default stack / Tornado, json", "torngas-default /json",
               "tornado /json", 0.85),
        Target("torngas / Tornado, page", "torngas /page", "tornado /page", 0.95, "info"),
        Target("torngas default stack /full / Django /full", "torngas-default /full",
               "django /full", 2.0),
        Target("torngas default stack /full / Flask /full", "torngas-default /full",
               "flask /full", 2.0),
        Target("torngas default stack /full / Tornado /full", "torngas-default /full",
               "tornado /full", 0.0, "info"),
        Target("torngas (cache, no middleware) /full / Tornado /full", "torngas /full",
               "tornado /full", 0.0, "info"),
        # torngas on an ASGI server (#9)
        Target("torngas/uvicorn / Tornado, plaintext", "torngas-uvicorn /plaintext",
               "tornado /plaintext", 1.6, "#9"),
        Target("torngas/uvicorn / Tornado, json", "torngas-uvicorn /json", "tornado /json",
               1.6, "#9"),
        Target("torngas/uvicorn / FastAPI, plaintext", "torngas-uvicorn /plaintext",
               "fastapi /plaintext", 1.0, "#9"),
        Target("torngas/uvicorn / FastAPI, json", "torngas-uvicorn /json", "fastapi /json",
               1.0, "#9"),
        Target("torngas/uvicorn / FastAPI, page", "torngas-uvicorn /page", "fastapi /page",
               1.0, "#9"),
        Target("torngas/uvicorn / bare ASGI on uvicorn, plaintext", "torngas-uvicorn /plaintext",
               "asgi-bare /plaintext", 0.5, "#9"),
        Target("torngas/uvicorn / bare ASGI on uvicorn, json", "torngas-uvicorn /json",
               "asgi-bare /json", 0.0, "info"),
        Target("torngas/granian / Tornado, plaintext", "torngas-granian /plaintext",
               "tornado /plaintext", 0.0, "info"),
    ]  # fmt: skip
    s.targets = [t for t in wanted if t.numerator in keys and t.denominator in keys]
    return s


def routes_suite() -> Suite:
    s = Suite("routes", "requests/s against the number of routes (/plaintext declared last)")
    for c in ("torngas", "tornado"):
        for n in ROUTE_COUNTS:
            s.cases.append(
                Case("routes", c, "/plaintext", (("BENCH_ROUTES", str(n)),), label=f"{c} r{n}")
            )
    s.targets = [
        Target("torngas 1000 routes / 10 routes", "torngas r1000", "torngas r10", 0.9),
        Target("Tornado 1000 routes / 10 routes", "tornado r1000", "tornado r10", 0.0, "info"),
    ]
    return s


def middleware_suite() -> Suite:
    s = Suite("middleware", "requests/s against the number of no-op middlewares (torngas)")
    for n in MIDDLEWARE_COUNTS:
        s.cases.append(
            Case(
                "middleware",
                "torngas",
                "/plaintext",
                (("BENCH_MIDDLEWARES", str(n)),),
                label=f"torngas mw{n}",
            )
        )
    s.targets = [
        Target("torngas 10 no-op middlewares / none", "torngas mw10", "torngas mw0", 0.0, "info")
    ]
    return s


def processes_suite() -> Suite:
    s = Suite(
        "processes",
        "requests/s against worker processes (torngas --processes; server on cores 0-1, "
        "wrk on core 1)",
    )
    for n in PROCESS_COUNTS:
        s.cases.append(
            Case(
                "processes", "torngas", "/plaintext", processes=n, cpus="0,1", label=f"torngas p{n}"
            )
        )
    s.targets = [Target("torngas 2 processes / 1", "torngas p2", "torngas p1", 1.6)]
    return s


def all_suites(
    contenders: tuple[str, ...] = MAIN_CONTENDERS, endpoints: tuple[str, ...] = MAIN_ENDPOINTS
) -> dict[str, Suite]:
    return {
        "main": main_suite(contenders, endpoints),
        "routes": routes_suite(),
        "middleware": middleware_suite(),
        "processes": processes_suite(),
    }
