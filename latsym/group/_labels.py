"""Labels and order of real irreps: Mulliken symbols from geometry, internal and generic labels.

Point groups (faithful 2×2 or 3×3 orthogonal matrices) get Mulliken labels detected from the
geometry of their elements, following the published tables for the standard settings of the
International Tables:

- letter: ``A``/``B`` for one-dimensional irreps, symmetric/antisymmetric under the principal
  rotation ``C_n`` (under ``S_2n`` for S4 and D2d, which have neither inversion nor σh); ``E`` for
  two-dimensional ones (including a realified complex-conjugate pair of one-dimensional irreps, as
  ``E`` of C3, C4, C6, T); ``T`` for three-dimensional ones. Cubic groups have no ``B``.
- number: for ``A``/``B``, 1/2 when symmetric/antisymmetric under the C2' axes perpendicular to the
  principal axis or, if there are none, under the vertical mirrors σv; where two classes of them
  exist (4-fold and 6-fold groups), C2' is the class holding the 2-fold rotation about x and σv the
  class holding the mirror that contains the x axis (this reproduces D4h, D6h, C4v, C6v, C2v:
  x²−y² is B1g in D4h, x is B1 in C2v). ``E1``/``E2`` in 6-fold groups (character 2cos(2πk/6) on
  C6). D2 and D2h: ``B1``, ``B2``, ``B3`` symmetric under the 2-fold rotation about z, y, x. Cubic
  groups: subscripts 1/2 by the sign of the character on the 4-fold element (C4 in O, Oh; S4 in
  Td).
- ``g``/``u``: even/odd under inversion; primes ``'``/``''``: even/odd under σh in groups with σh
  and no inversion (Cs, C3h, D3h).

Plane groups (2×2 matrices) are labelled as their embedding in 3D (rotations about z, mirrors
vertical): 4mm gives A1, A2, B1, B2, E and the mirror group m gives A', A''.

Internal groups (``is_internal``) that are cyclic: ``even``/``odd`` for order 2, ``k0``, ``k1``, …
``k{n//2}`` for order n > 2 (``km`` has character ``exp(2πi m/n)`` on element 1, the generator; the
real irrep ``km`` with 0 < m < n/2 realifies the pair ``±m``).

Any other group (no geometry, or geometry outside these rules): ``G1``, ``G2``, … in order of
increasing dimension, the trivial irrep first.
"""

from __future__ import annotations

import numpy as np

from latsym.group._group import Group

_LETTERS = "ABET"


class _NoMulliken(Exception):
    """The group's geometry is outside the Mulliken rules; fall back to generic labels."""


def order_and_label(
    G: Group, real_chars: np.ndarray, types: list[str], cdims: list[int]
) -> tuple[list[int], list[str]]:
    """Order and label the real irreps of ``G``.

    Args:
        G: the group.
        real_chars: ``(k, n_classes)`` real characters (traces of the real irreps) per class.
        types: ``"R"``, ``"C"`` or ``"H"`` per real irrep.
        cdims: complex dimension per real irrep (of one complex constituent).

    Returns:
        ``(order, labels)``: ``order`` lists the input rows in output order (trivial first);
        ``labels[j]`` labels the irrep ``order[j]``.
    """
    real_chars = np.asarray(real_chars, dtype=np.float64)
    for rule in (_internal_labels, _mulliken_labels):
        try:
            keyed = rule(G, real_chars, types, cdims)
        except _NoMulliken:
            continue
        labels = [lab for lab, _ in keyed]
        if len(set(labels)) == len(labels):
            order = sorted(range(len(keyed)), key=lambda k: (keyed[k][1], k))
            return order, [labels[k] for k in order]
    return _generic_labels(real_chars, types, cdims)


def _generic_labels(real_chars, types, cdims):
    real_dims = real_chars[:, 0]

    def key(k):
        return (real_dims[k] > 1.5 or types[k] != "R", cdims[k], real_dims[k],
                tuple(-np.round(real_chars[k], 6)), k)

    order = sorted(range(len(types)), key=key)
    return order, [f"G{j + 1}" for j in range(len(order))]


def _internal_labels(G, real_chars, types, cdims):
    n = G.order
    if not getattr(G, "is_internal", False) or (n > 1 and G.element_orders[1] != n):
        raise _NoMulliken  # not internal, or not cyclic with generator 1
    gen = min(1, n - 1)  # the identity for the trivial group
    out = []
    for k in range(len(types)):
        # real character on the generator: 2cos(2πm/n) for C type, ±1 for R type
        chi = real_chars[k, G.class_of[gen]] / real_chars[k, 0]
        m = round(np.arccos(np.clip(chi, -1.0, 1.0)) * n / (2 * np.pi))
        if n == 2:
            out.append(("even" if m == 0 else "odd", m))
        else:
            out.append((f"k{m}", m))
    return out


# -- geometry ------------------------------------------------------------------------------------


def _canonical_axis(v: np.ndarray) -> np.ndarray:
    v = v / np.linalg.norm(v)
    first = np.flatnonzero(np.abs(v) > 1e-6)[0]
    return v if v[first] > 0 else -v


class _Geometry:
    """Rotation axes and orders of the proper parts ``det(g)·g`` of a 3D point group's elements."""

    def __init__(self, mats: np.ndarray):
        self.mats = mats
        self.det = np.round(np.linalg.det(mats)).astype(int)
        proper = mats * self.det[:, None, None]
        turns = np.arccos(np.clip((np.trace(proper, axis1=1, axis2=2) - 1) / 2, -1, 1)) / (2 * np.pi)
        self.order = np.ones(len(mats), dtype=int)  # order of the proper part ±g
        self.axis = np.zeros((len(mats), 3))
        _, _, vt = np.linalg.svd(proper - np.eye(3))
        for g in np.flatnonzero(turns > 1e-8):
            self.order[g] = next(n for n in range(2, 10**4) if abs(n * turns[g] - round(n * turns[g])) < 1e-6)
            self.axis[g] = _canonical_axis(vt[g, -1])

    def on_axis(self, a: np.ndarray) -> np.ndarray:
        return np.flatnonzero((self.order > 1) & (np.abs(self.axis @ a) > 1 - 1e-8))

    def perpendicular(self, a: np.ndarray) -> np.ndarray:
        return np.flatnonzero((self.order > 1) & (np.abs(self.axis @ a) < 1e-8))


def _embed(G: Group) -> np.ndarray:
    mats = G.matrices
    if mats is None or mats.shape[1] not in (2, 3):
        raise _NoMulliken
    if not np.allclose(np.einsum("gij,gkj->gik", mats, mats), np.eye(mats.shape[1]), atol=1e-8):
        raise _NoMulliken
    flat = np.round(mats.reshape(len(mats), -1), 8)
    if len(np.unique(flat, axis=0)) != len(mats):
        raise _NoMulliken  # not faithful
    if mats.shape[1] == 3:
        return mats
    out = np.zeros((len(mats), 3, 3))
    out[:, :2, :2] = mats
    out[:, 2, 2] = 1.0
    return out


def reference_element(G: Group) -> int | None:
    """The element that orders complex-conjugate pairs of a point group, None for other groups.

    It is the proper rotation ``C_n^+`` (by +2π/n, counterclockwise about the canonical direction
    of its axis: z for the principal axis of the standard settings, [111] for the cubic 3-folds)
    of highest order n, or, in S4, the rotoreflection ``S4^+ = σh C4^+``. The member ``1E`` of a
    pair has character ``exp(+2πi k/n)`` on it, like ``x + iy``.
    """
    try:
        mats = _embed(G)
    except _NoMulliken:
        return None
    geo = _Geometry(mats)
    proper = mats * geo.det[:, None, None]
    # sin(angle) of each proper part about its canonical axis, from the antisymmetric part
    spin = np.stack([proper[:, 2, 1] - proper[:, 1, 2], proper[:, 0, 2] - proper[:, 2, 0],
                     proper[:, 1, 0] - proper[:, 0, 1]], axis=1)
    sense = np.einsum("gi,gi->g", geo.axis, spin)
    rot = [g for g in range(G.order) if geo.det[g] > 0 and geo.order[g] > 2]
    if rot:
        n = max(geo.order[g] for g in rot)
        pool = [g for g in rot if geo.order[g] == n]
        # the +2π/n rotation: largest positive sine, then the first axis in canonical order
        cos_n = np.cos(2 * np.pi / n)
        pool = [g for g in pool if sense[g] > 0 and abs(np.trace(proper[g]) - 1 - 2 * cos_n) < 1e-8]
        return min(pool, key=lambda g: tuple(-np.round(geo.axis[g], 6)))
    # S4: the proper part of σh C4^+ is C2 C4^+, a rotation by -π/2 about z
    s4 = [g for g in range(G.order) if geo.det[g] < 0 and geo.order[g] == 4 and sense[g] < 0]
    return s4[0] if s4 else None


def _mulliken_labels(G, real_chars, types, cdims):
    geo = _Geometry(_embed(G))
    chi = real_chars[:, G.class_of]  # (k, |G|) character per element
    dims = real_chars[:, 0]
    n_el = G.order
    inversion = np.flatnonzero(np.all(np.abs(geo.mats + np.eye(3)) < 1e-8, axis=(1, 2)))
    letters = []
    for k in range(len(types)):
        if types[k] == "H" or (types[k] == "C" and cdims[k] != 1) or dims[k] > 3:
            raise _NoMulliken
        letters.append("E" if types[k] == "C" else {1: "A", 2: "E", 3: "T"}[round(dims[k])])
    three_fold_axes = {tuple(np.round(geo.axis[g], 6)) for g in range(n_el) if geo.order[g] == 3}
    parts: list[dict] = [{"letter": letters[k]} for k in range(len(types))]

    def sign(k, g):
        return chi[k, g] / dims[k] > 0

    if len(three_fold_axes) > 1:  # cubic
        four = [g for g in range(n_el) if geo.order[g] == 4]
        four.sort(key=lambda g: geo.det[g] < 0)  # a proper C4 if any, else S4
        for k, p in enumerate(parts):
            if four and p["letter"] in "AT":
                p["number"] = 1 if sign(k, four[0]) else 2
    else:
        _axial_parts(G, geo, chi, dims, parts, len(inversion) > 0)
    out = []
    for k, p in enumerate(parts):
        label = p["letter"] + (str(p["number"]) if "number" in p else "")
        gu = 0
        prime = 0
        if len(inversion):
            gu = 0 if sign(k, inversion[0]) else 1
            label += "gu"[gu]
        if "sigma_h" in p:
            prime = 0 if p["sigma_h"] else 1
            label += "'" if p["sigma_h"] else "''"
        key = (gu, prime, _LETTERS.index(p["letter"]), p.get("number", 0))
        out.append((label, key))
    return out


def _axial_parts(G, geo, chi, dims, parts, has_inversion):
    """Letters, numbers and primes for a group with at most one 3-fold axis (non-cubic)."""
    n_el = G.order
    candidates = {}
    for g in range(n_el):
        if geo.order[g] > 1:
            key = tuple(np.round(geo.axis[g], 6))
            score = (int(geo.order[g]), bool(geo.det[g] > 0))
            candidates[key] = max(candidates.get(key, score), score)
    if not candidates:  # C1, Ci
        return
    best = max(candidates.values())
    top = [np.array(a) for a, s in candidates.items() if s == best]

    def sign(k, g):
        return chi[k, g] / dims[k] > 0

    if len(top) == 3 and best == (2, True):  # D2, D2h: three equivalent 2-fold axes
        c2 = {}
        for g in range(n_el):
            if geo.order[g] == 2 and geo.det[g] > 0:
                c2[int(np.argmax(np.abs(geo.axis[g])))] = g
                if np.abs(geo.axis[g]).max() < 1 - 1e-8:
                    raise _NoMulliken
        for k, p in enumerate(parts):
            sym = [ax for ax in (2, 1, 0) if sign(k, c2[ax])]
            if p["letter"] == "A" and len(sym) == 1:
                p["letter"] = "B"
                p["number"] = (2, 1, 0).index(sym[0]) + 1
        return
    if len(top) != 1:
        raise _NoMulliken
    axis = _canonical_axis(top[0])
    on = geo.on_axis(axis)
    sigma_h = [g for g in on if geo.det[g] < 0 and geo.order[g] == 2]
    n_proper = max([int(geo.order[g]) for g in on if geo.det[g] > 0], default=1)
    n_all = max(int(geo.order[g]) for g in on)
    if not has_inversion and not sigma_h and n_all > n_proper:  # S4, D2d: principal S4
        pool = [g for g in on if geo.det[g] < 0 and geo.order[g] == n_all]
        n = n_all
    else:
        pool = [g for g in on if geo.det[g] > 0 and geo.order[g] == n_proper]
        n = n_proper
    principal = pool[0] if pool else None  # real characters agree on g and g⁻¹: any generator will do
    perp = geo.perpendicular(axis)
    c2p = [g for g in perp if geo.det[g] > 0 and geo.order[g] == 2]
    sigma_v = [g for g in perp if geo.det[g] < 0 and geo.order[g] == 2]
    x = np.array([1.0, 0.0, 0.0])
    vertical = None
    if c2p:  # prefer the class of the 2-fold about x
        along_x = [g for g in c2p if abs(geo.axis[g] @ x) > 1 - 1e-8]
        vertical = along_x[0] if along_x else min(c2p, key=lambda g: G.class_of[g])
    elif sigma_v:  # prefer the class of the mirror containing the x axis (normal ⊥ x)
        contains_x = [g for g in sigma_v if abs(geo.axis[g] @ x) < 1e-8]
        vertical = contains_x[0] if contains_x else min(sigma_v, key=lambda g: G.class_of[g])
    for k, p in enumerate(parts):
        if p["letter"] == "A":
            if principal is not None and not sign(k, principal):
                p["letter"] = "B"
            if vertical is not None:
                p["number"] = 1 if sign(k, vertical) else 2
        elif p["letter"] == "E" and n > 4 and principal is not None:
            c = np.clip(chi[k, principal] / dims[k], -1.0, 1.0)
            p["number"] = round(np.arccos(c) * n / (2 * np.pi))
        elif p["letter"] == "T":
            raise _NoMulliken
        if sigma_h and not has_inversion:
            p["sigma_h"] = bool(sign(k, sigma_h[0]))
