"""Deprecation helpers (stdlib only).

Anything deprecated warns with :class:`RemovedInTorngas3Warning` (a
:class:`DeprecationWarning`), and its docstring says what replaces it.
The test suite runs with ``filterwarnings = error``: tests that exercise a
deprecated path catch the warning with ``pytest.warns(RemovedInTorngas3Warning)``.
"""

from __future__ import annotations

import warnings

__all__ = ["RemovedInTorngas3Warning", "RemovedInNextVersionWarning", "warn_deprecated"]


class RemovedInTorngas3Warning(DeprecationWarning):
    """A feature that still works in torngas 2.x and goes away in torngas 3.0."""


#: The warning class for whatever is removed in the next major version.
RemovedInNextVersionWarning = RemovedInTorngas3Warning


def warn_deprecated(
    message: str,
    *,
    category: type[Warning] = RemovedInTorngas3Warning,
    stacklevel: int = 2,
) -> None:
    """Warn that something is deprecated.

    ``stacklevel`` counts from the *caller* of this function, as with
    :func:`warnings.warn`: the default 2 points at whoever called the function
    that calls :func:`warn_deprecated`.
    """
    warnings.warn(message, category, stacklevel=stacklevel + 1)
