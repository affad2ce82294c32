"""The base of every exception latsym raises.

Each latsym exception also keeps the built-in base that says what went wrong (``GroupError`` is a
``ValueError``, ``PluginError`` a ``RuntimeError``, ``EquivarianceError`` an ``AssertionError``), so
``except ValueError`` still catches bad input while ``except LatsymError`` catches all of latsym's
own errors at once.

>>> from latsym import LatsymError
>>> from latsym.group import GroupError, point_group
>>> try:
...     point_group("no-such-group")
... except LatsymError as exc:
...     isinstance(exc, GroupError) and isinstance(exc, ValueError)
True
"""

from __future__ import annotations


class LatsymError(Exception):
    """Base class of latsym's exceptions; catch it to handle any error latsym raises on purpose."""


def format_bytes(n_bytes: float) -> str:
    """A size for a message: ``"12 KiB"``, ``"3.25 GiB"``, ``"7.3e+03 TiB"``.

    >>> format_bytes(3 * 2**30), format_bytes(512)
    ('3 GiB', '512 bytes')
    """
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} bytes"
