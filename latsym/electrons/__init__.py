"""Electrons for exact reference solvers: Fermi–Dirac filling of single-particle levels.

A lattice model whose classical fields couple to non-interacting electrons (the Holstein model, the
Kondo lattice, double exchange …) diagonalises a single-particle Hamiltonian per configuration and
fills its levels at a fixed number of electrons. :func:`fill_levels` does that filling, stably at
every temperature ``T ≥ 0``, and gives the occupations, the chemical potential, the internal energy
and the electronic free energy ``F = Ω(μ) + μ N_e`` (whose derivatives with respect to the fields
are the forces, by Hellmann–Feynman at fixed ``N_e``).

Pure numpy/scipy; no torch.

>>> import numpy as np
>>> from latsym.electrons import fill_levels
>>> filled = fill_levels(np.array([1.0, -1.0, 0.0, 0.0]), n_electrons=2, temperature=0.0)
>>> filled.occupations, filled.mu, filled.free_energy()
(array([0. , 1. , 0.5, 0.5]), 0.0, -1.0)
"""

from latsym.electrons._filling import FilledLevels, fill_levels

__all__ = ["FilledLevels", "fill_levels"]
