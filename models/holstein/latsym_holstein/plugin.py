"""The Holstein model plugin, registered under the entry-point group ``latsym.models``."""

from __future__ import annotations


class HolsteinPlugin:
    """The semiclassical Holstein model on the square lattice."""

    name = "holstein"
    description = "semiclassical Holstein model on the square lattice (ED forces, Langevin dynamics)"
