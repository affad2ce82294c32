"""The exception of the group layer."""

from latsym._errors import LatsymError


class GroupError(LatsymError, ValueError):
    """Input that does not define a group or an irrep (bad generators, a table that is not a group, an
    unknown irrep label, an element that is not in the group, ...)."""
