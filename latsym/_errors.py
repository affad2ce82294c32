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
