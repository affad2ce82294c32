"""Reference spin configurations on the triangular lattice: the ordered states that compete in the
Kondo-lattice model at the default parameters, random spins, and noisy tetrahedral domains.

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


def chiral_domains(shape: tuple[int, int], seed: int | np.random.Generator | None = None, *,
                   noise: float = 0.0, max_domains: int = 6) -> np.ndarray:
    """Tetrahedral domains of both chiralities with angular noise: what a quench into the tetrahedral
    phase looks like as it coarsens, for training data beyond infinite-temperature spins.

    The lattice is cut into ``m`` Voronoi cells (``m`` drawn from 1 to ``max_domains``, centres uniform;
    real-space distances to each centre's periodic copy nearest along each axis). Each cell carries the
    tetrahedral state (:func:`ordered_state`) turned by its own uniformly drawn rotation and, with
    probability 1/2, reversed (``S → -S``, which flips the sign of the chirality): the order-parameter
    manifold of the phase, SO(3) × Z2, sampled per domain. Every spin then gets a Gaussian kick of
    standard deviation ``noise`` per component and is normalised (``noise`` 0.4 gives a mean ``|χ|``
    near 0.5; ``noise`` → ∞ tends to uniform random spins).

    Args:
        shape: ``(L1, L2)`` cells.
        seed: a seed or a numpy ``Generator``.
        noise: the standard deviation of the kick, ``>= 0``.
        max_domains: the most Voronoi cells, ``>= 1``.

    Returns:
        Unit spins ``(3, L1, L2)``. On odd sides the four-sublattice pattern has a seam.

    >>> s = chiral_domains((8, 8), seed=0, max_domains=1)
    >>> from latsym_kondo.observables import chirality
    >>> bool(np.allclose(np.abs(chirality(s)), 4 / (3 * np.sqrt(3))))  # one noiseless domain
    True
    """
    shape = tuple(shape)
    if len(shape) != 2 or not all(isinstance(n, int | np.integer) and n >= 1 for n in shape):
        raise ValueError(f"shape must be two positive side lengths (L1, L2), got {shape}")
    if not (isinstance(noise, int | float | np.floating) and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(max_domains, bool) or not isinstance(max_domains, int | np.integer) or max_domains < 1:
        raise ValueError(f"max_domains must be an integer >= 1, got {max_domains!r}")
    rng = np.random.default_rng(seed)
    l1, l2 = shape
    x, y = np.meshgrid(np.arange(l1), np.arange(l2), indexing="ij")
    tetrahedral = TETRAHEDRON[2 * (x % 2) + y % 2].transpose(2, 0, 1)
    n_domains = int(rng.integers(1, max_domains + 1))
    centres = rng.uniform(0, 1, size=(n_domains, 2)) * [l1, l2]
    # periodic minimum-image distance in the real-space metric of a1 = (1, 0), a2 = (-1/2, √3/2)
    dx = (x[None] - centres[:, 0, None, None] + l1 / 2) % l1 - l1 / 2
    dy = (y[None] - centres[:, 1, None, None] + l2 / 2) % l2 - l2 / 2
    domain = np.argmin((dx - dy / 2) ** 2 + 0.75 * dy**2, axis=0)
    spins = np.empty((3, l1, l2))
    for d in range(n_domains):
        q, r = np.linalg.qr(rng.standard_normal((3, 3)))
        rotation = q * np.sign(np.diag(r))
        rotation *= np.linalg.det(rotation)  # a proper rotation
        sign = rng.choice([-1.0, 1.0])
        inside = domain == d
        spins[:, inside] = sign * np.einsum("ab,bn->an", rotation, tetrahedral[:, inside])
    spins += noise * rng.standard_normal(spins.shape)
    return spins / np.linalg.norm(spins, axis=0, keepdims=True)
