"""Reference spin configurations on the triangular lattice: the ordered states that compete in the
Kondo-lattice model at the default parameters, and random spins.

Every configuration is a numpy float64 array of unit spins, shape ``(3, L1, L2)`` (components first),
in the geometry of :mod:`latsym_kondo.ed` (the index ``[x, y]`` is the site ``x·a1 + y·a2``).
"""

from __future__ import annotations

import numpy as np

#: The four unit vectors of a regular tetrahedron, shape ``(4, 3)``; sublattice ``(x mod 2, y mod 2)``
#: carries row ``2 (x mod 2) + (y mod 2)``.
TETRAHEDRON = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
TETRAHEDRON.flags.writeable = False

#: The names :func:`ordered_state` accepts, and the side each needs to divide.
ORDERED_STATES = {"tetrahedral": 2, "stripe": 2, "120": 3, "ferromagnet": 1}


def ordered_state(name: str, l1: int, l2: int | None = None) -> np.ndarray:
    """An ordered state on the periodic ``l1 × l2`` lattice (``l2`` defaults to ``l1``).

    - ``"tetrahedral"``: the four sublattices ``(x mod 2, y mod 2)`` carry the corners of a regular
      tetrahedron (:data:`TETRAHEDRON`); every triangle has chirality ``4/(3√3)`` and ``S(q)`` has
      equal peaks at the three M points.
    - ``"stripe"``: ``S = (-1)^x ẑ``, collinear, one M point.
    - ``"120"``: coplanar, ``S = (cos θ, sin θ, 0)`` with ``θ = 2π(x + y)/3`` (three sublattices,
      all different on every triangle; the K point).
    - ``"ferromagnet"``: ``S = ẑ``.

    Returns:
        Shape ``(3, l1, l2)``.

    Raises:
        ValueError: an unknown name, or sides the state does not divide (it would not close
            periodically).

    >>> ordered_state("tetrahedral", 4).shape
    (3, 4, 4)
    >>> ordered_state("120", 4)
    Traceback (most recent call last):
        ...
    ValueError: the 120 state needs sides divisible by 3, got 4 x 4
    """
    l2 = l1 if l2 is None else l2
    if name not in ORDERED_STATES:
        raise ValueError(f"unknown ordered state {name!r}; known: {sorted(ORDERED_STATES)}")
    period = ORDERED_STATES[name]
    if l1 % period or l2 % period or min(l1, l2) < 1:
        raise ValueError(f"the {name} state needs sides divisible by {period}, got {l1} x {l2}")
    x, y = np.meshgrid(np.arange(l1), np.arange(l2), indexing="ij")
    spins = np.zeros((3, l1, l2))
    if name == "tetrahedral":
        spins[:] = TETRAHEDRON[2 * (x % 2) + y % 2].transpose(2, 0, 1)
    elif name == "stripe":
        spins[2] = (-1.0) ** x
    elif name == "120":
        angle = 2 * np.pi * (x + y) / 3
        spins[0], spins[1] = np.cos(angle), np.sin(angle)
    else:
        spins[2] = 1.0
    return spins


def random_spins(shape: tuple[int, ...], seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Unit spins drawn uniformly on the sphere, independently per site.

    Args:
        shape: ``(3, L1, L2)`` or ``(B, 3, L1, L2)``.
        seed: a seed or a numpy ``Generator``.

    >>> s = random_spins((2, 3, 4, 4), seed=0)
    >>> s.shape, bool(np.allclose(np.linalg.norm(s, axis=-3), 1))
    ((2, 3, 4, 4), True)
    """
    shape = tuple(shape)
    if len(shape) not in (3, 4) or shape[-3] != 3:
        raise ValueError(f"expected a shape (3, L1, L2) or (B, 3, L1, L2), got {shape}")
    spins = np.random.default_rng(seed).standard_normal(shape)
    return spins / np.linalg.norm(spins, axis=-3, keepdims=True)
