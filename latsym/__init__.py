"""latsym: discrete lattice symmetries for equivariant machine learning.

Group theory for crystallographic point groups and user-defined finite groups times internal
symmetries (``latsym.group``), lattice geometry (``latsym.lattice``), equivariant PyTorch layers
(``latsym.nn``), model-agnostic dynamics (``latsym.dynamics``), model plugins (``latsym.plugin``)
and a public testing kit (``latsym.testing``).
"""

from latsym._errors import LatsymError
from latsym._version import __version__
from latsym.group import point_group

__all__ = ["LatsymError", "__version__", "point_group"]
