"""latsym-holstein: the reference model plugin of latsym.

The semiclassical Holstein model on the square lattice: exact-diagonalization forces, Langevin
dynamics, observables, training data and equivariant force-field networks.
"""

__version__ = "0.1.0"
