"""Make untrusted text safe to put in a log line."""

from __future__ import annotations

import logging

__all__ = ["EscapeControlCharsFilter", "escape_log_value"]


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {ord("\\"): "\\\\"}
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        char = chr(code)
        table[code] = named.get(char, f"\\x{code:02x}")
    # Line and paragraph separators and bidirectional overrides: some viewers
    # start a new line, or reorder text, on these ("Trojan source" spoofing).
    for code in [0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]:
        table[code] = f"\\u{code:04x}"
    return table


_TABLE = _build_table()
_CONTROLS_ONLY = {k: v for k, v in _TABLE.items() if k != ord("\\")}


def escape_log_value(value: object) -> str:
    """Escape control characters so a value from a request cannot forge log lines.

    ``\\r``, ``\\n`` and ``\\t`` become ``\\r``, ``\\n``, ``\\t``; other C0/C1
    controls and DEL (ESC, which starts terminal escape sequences, included)
    become ``\\xhh``; U+2028/U+2029 and the bidirectional override characters
    become ``\\uhhhh``; a backslash is doubled so the escaping stays unambiguous.
    Everything else, non-ASCII text included, is kept. ``value`` is passed
    through ``str()`` first.

    >>> escape_log_value("GET /\\r\\nFAKE 200\\x1b[31m")
    'GET /\\\\r\\\\nFAKE 200\\\\x1b[31m'
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:  # the common case: nothing to do
        return text
    return text.translate(_TABLE)


class EscapeControlCharsFilter(logging.Filter):
    """A logging filter that escapes control characters in the whole message.

    For single-line streams such as access logs, where a value from the request
    may reach the message unescaped (Tornado's own ``tornado.access`` line
    includes the raw URI). Unlike :func:`escape_log_value` it leaves
    backslashes alone, so a message whose values were already escaped passes
    unchanged. Enabled by ``"escape": True`` in a ``LOGGING`` entry (the
    default for ``tornado.access`` and ``torngas.access``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isprintable():
            record.msg = message.translate(_CONTROLS_ONLY)
            record.args = None
        return True
