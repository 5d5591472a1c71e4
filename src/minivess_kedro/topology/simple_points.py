"""Vectorised simple-point test in 3D (26-connected foreground, 6-connected background).

A voxel ``x`` is simple when flipping it changes no topology (Bertrand & Malandain's local
characterisation): the foreground meets the 26-neighbourhood ``N26*(x)`` in exactly one
26-connected component, and the background meets the 18-neighbourhood ``N18*(x)`` in exactly one
6-connected component that is 6-adjacent to ``x``. The test reads only the 26 neighbours, not
``x`` itself, so it is the same for adding and for removing ``x``.

Many neighbourhoods are tested at once: each is a 26-bit integer, and a component is grown from
one seed bit by bitwise propagation through two lookup tables (the union of the neighbours of
13 bits at a time), instead of one Python-level labelling per voxel.
"""

from __future__ import annotations

import itertools

import numpy as np

# The 26 neighbour offsets in raster order, the centre left out; bit i of a code is OFFSETS[i].
OFFSETS = np.array([o for o in itertools.product((-1, 0, 1), repeat=3) if o != (0, 0, 0)], dtype=np.int64)
_BITS = np.int64(1) << np.arange(len(OFFSETS), dtype=np.int64)
_MANHATTAN = np.abs(OFFSETS).sum(axis=1)
_FACE_BITS = np.int64(_BITS[_MANHATTAN == 1].sum())  # the 6 face neighbours
_N18_BITS = np.int64(_BITS[_MANHATTAN <= 2].sum())  # all but the 8 corners
_CHUNK = 13  # two lookups per 26-bit code; tables of 8192 entries


def _spread_tables(adjacent: np.ndarray) -> list[np.ndarray]:
    """Per chunk of a code, the union of the neighbour bits of every chunk value."""
    neighbour_bits = (adjacent.astype(np.int64) * _BITS[None, :]).sum(axis=1)
    tables = []
    for start in range(0, len(OFFSETS), _CHUNK):
        width = min(_CHUNK, len(OFFSETS) - start)
        values = np.arange(1 << width)
        chosen = (values[:, None] >> np.arange(width)) & 1
        table = np.zeros(1 << width, dtype=np.int64)
        for j in range(width):
            table |= np.where(chosen[:, j] == 1, neighbour_bits[start + j], 0)
        tables.append(table)
    return tables


_DIFF = np.abs(OFFSETS[:, None, :] - OFFSETS[None, :, :])
_SPREAD26 = _spread_tables(_DIFF.max(axis=2) == 1)
_SPREAD6 = _spread_tables(_DIFF.sum(axis=2) == 1)


def _spread(codes: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """The union of the neighbours of every set bit."""
    low, high = tables
    return low[codes & (len(low) - 1)] | high[codes >> _CHUNK]


def _one_component(mask: np.ndarray, seeds: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """Whether the component of ``mask`` grown from the lowest seed bit covers every seed bit.

    Args:
        mask: ``M`` int64 codes, the voxels that may be connected.
        seeds: ``M`` int64 codes (a subset of ``mask``), the voxels that must be reached.
        tables: spread tables of the adjacency.

    Returns:
        ``M`` bool, ``False`` where there is no seed.
    """
    reach = seeds & -seeds  # lowest set bit
    for _ in range(len(OFFSETS)):
        grown = reach | (_spread(reach, tables) & mask)
        if (grown == reach).all():
            break
        reach = grown
    return (seeds != 0) & ((seeds & ~reach) == 0)


def encode(neighbours: np.ndarray) -> np.ndarray:
    """``M x 26`` bool neighbourhoods (order of :data:`OFFSETS`) -> ``M`` int64 codes."""
    return np.asarray(neighbours, dtype=np.int64) @ _BITS


def is_simple(neighbours: np.ndarray) -> np.ndarray:
    """Simple-point test for many voxels at once.

    Args:
        neighbours: ``M x 26`` bool, the foreground state of each voxel's 26 neighbours in the
            order of :data:`OFFSETS`.

    Returns:
        ``M`` bool, ``True`` for simple voxels.
    """
    foreground = encode(neighbours)
    simple = _one_component(foreground, foreground, _SPREAD26)
    candidates = np.flatnonzero(simple)  # the background test only where the foreground passes
    background = ~foreground[candidates] & _N18_BITS
    simple[candidates] = _one_component(background, background & _FACE_BITS, _SPREAD6)
    return simple
