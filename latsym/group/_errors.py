"""The exception of the group layer."""


class GroupError(ValueError):
    """Input that does not define a group or an irrep (bad generators, a table that is not a group, an
    unknown irrep label, an element that is not in the group, ...)."""
