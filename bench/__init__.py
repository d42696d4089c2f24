"""torngas benchmark suite: ``scripts/bench`` (see docs/benchmarks.md).

The harness (``bench.run``) starts one server per contender, checks that every
server returns the same bytes, drives it with wrk and writes CSV, markdown and
plots. The contenders' apps live in ``bench.apps``; what they share (payloads,
templates, the SQLite data set, route lists) is in ``bench.common``.
"""
