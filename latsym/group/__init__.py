"""Group theory for lattice symmetries: finite groups, point groups, internal groups, irreps.

Pure numpy/scipy/sympy; no torch.
"""

from latsym.group._group import MAX_ORDER, Group, GroupError

__all__ = ["MAX_ORDER", "Group", "GroupError"]
