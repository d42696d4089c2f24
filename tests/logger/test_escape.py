"""escape_log_value: request data cannot forge or hide log lines."""

from __future__ import annotations

import pytest

from torngas.logger import escape_log_value


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/index?a=1", "/index?a=1"),
        ("héllo wörld 你好", "héllo wörld 你好"),
        ("/x\r\n127.0.0.1 GET /admin 200", "/x\\r\\n127.0.0.1 GET /admin 200"),
        ("tab\there", "tab\\there"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("rtl\u202eevil\u2066", "rtl\\u202eevil\\u2066"),
        ("back\\slash\\n", "back\\\\slash\\\\n"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape_log_value(raw) == escaped


def test_escaped_value_is_one_printable_line() -> None:
    hostile = "".join(chr(c) for c in range(0x00, 0xA0)) + "\u2028\u2029"
    out = escape_log_value(hostile)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert out.isprintable()


def test_non_str_values() -> None:
    assert escape_log_value(404) == "404"
    assert escape_log_value(b"a\nb") == "b'a\\\\nb'"  # str() of bytes, then escaped
