"""Random vessel trees as capsule chains in physical space (micrometres).

The cortex seen by a two-photon microscope from above: penetrating vessels that dive along z and
branch, surface vessels that run in-plane near the top, and capillaries that join existing
vessels to each other, closing loops (first Betti number > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Vessel:
    """One vessel: a polyline of centreline points with a radius at each point.

    Attributes:
        points: ``N x 3`` centreline points in micrometres (axis order of the volume).
        radii: ``N`` radii in micrometres.
        brightness: relative lumen brightness of this vessel (dye concentration varies).
    """

    points: np.ndarray
    radii: np.ndarray
    brightness: float


@dataclass
class TreeSettings:
    """Knobs of the tree grower; the defaults give 3 to 10 % vessel voxels, like MiniVess."""

    penetrating_per_mm2: float = 220.0
    surface_vessels: tuple[int, int] = (1, 3)
    capillaries_per_mm2: float = 700.0
    radius_penetrating_um: tuple[float, float] = (2.5, 6.0)
    radius_surface_um: tuple[float, float] = (4.0, 8.0)
    radius_capillary_um: tuple[float, float] = (1.0, 2.0)
    step_um: float = 2.0
    branch_probability: float = 0.025
    max_branch_depth: int = 2
    brightness_range: tuple[float, float] = (0.35, 1.5)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _walk(
    rng: np.random.Generator,
    start: np.ndarray,
    direction: np.ndarray,
    radius: float,
    extent: np.ndarray,
    *,
    max_length: float,
    settings: TreeSettings,
    taper: float,
    jitter: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Grows one centreline by a persistent random walk until it leaves the box."""
    points, radii = [start], [radius]
    position, heading = start.astype(float), _unit(direction)
    for _ in range(int(max_length / settings.step_um)):
        heading = _unit(heading + rng.normal(0.0, jitter, 3))
        position = position + settings.step_um * heading
        radius = max(radius * taper, settings.radius_capillary_um[0])
        margin = radius + settings.step_um
        if np.any(position < -margin) or np.any(position > extent + margin):
            break
        points.append(position)
        radii.append(radius)
    return np.asarray(points), np.asarray(radii)


def _random_lateral(rng: np.random.Generator, z_weight: float) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    return _unit(np.array([np.cos(angle), np.sin(angle), rng.normal(0.0, z_weight)]))


def _grow_with_branches(
    rng: np.random.Generator,
    trunk: Vessel,
    extent: np.ndarray,
    settings: TreeSettings,
    depth: int,
) -> list[Vessel]:
    vessels = [trunk]
    if depth >= settings.max_branch_depth:
        return vessels
    for index in range(2, len(trunk.points) - 2):
        if rng.random() >= settings.branch_probability:
            continue
        radius = trunk.radii[index] * rng.uniform(0.5, 0.8)
        points, radii = _walk(
            rng,
            trunk.points[index],
            _random_lateral(rng, 0.6),
            radius,
            extent,
            max_length=rng.uniform(20, 90),
            settings=settings,
            taper=0.995,
            jitter=0.25,
        )
        if len(points) > 2:
            child = Vessel(points, radii, trunk.brightness * rng.uniform(0.8, 1.1))
            vessels += _grow_with_branches(rng, child, extent, settings, depth + 1)
    return vessels


def _penetrating(rng: np.random.Generator, extent: np.ndarray, settings: TreeSettings) -> list[Vessel]:
    area_mm2 = extent[0] * extent[1] / 1e6
    count = max(1, rng.poisson(settings.penetrating_per_mm2 * area_mm2))
    vessels = []
    for _ in range(count):
        start = np.array([rng.uniform(0, extent[0]), rng.uniform(0, extent[1]), 0.0])
        tilt = _unit(np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0]))
        radius = rng.uniform(*settings.radius_penetrating_um)
        points, radii = _walk(
            rng, start, tilt, radius, extent, max_length=4 * extent.max(), settings=settings, taper=0.997, jitter=0.12
        )
        trunk = Vessel(points, radii, rng.uniform(*settings.brightness_range))
        vessels += _grow_with_branches(rng, trunk, extent, settings, depth=0)
    return vessels


def _surface(rng: np.random.Generator, extent: np.ndarray, settings: TreeSettings) -> list[Vessel]:
    vessels = []
    for _ in range(rng.integers(settings.surface_vessels[0], settings.surface_vessels[1] + 1)):
        radius = rng.uniform(*settings.radius_surface_um)
        z = rng.uniform(0, min(0.15 * extent[2], 20.0)) + radius
        side = rng.integers(4)
        start = np.array([rng.uniform(0, extent[0]), rng.uniform(0, extent[1]), z])
        start[side % 2] = 0.0 if side < 2 else extent[side % 2]
        heading = np.array([0.0, 0.0, 0.0])
        heading[side % 2] = 1.0 if side < 2 else -1.0
        heading[1 - side % 2] = rng.normal(0, 0.4)
        points, radii = _walk(
            rng,
            start,
            heading,
            radius,
            extent,
            max_length=3 * extent.max(),
            settings=settings,
            taper=0.999,
            jitter=0.08,
        )
        points[:, 2] = np.clip(points[:, 2], radius, None)  # stays at the pial surface
        trunk = Vessel(points, radii, rng.uniform(*settings.brightness_range))
        vessels += _grow_with_branches(rng, trunk, extent, settings, depth=1)
    return vessels


def _capillaries(
    rng: np.random.Generator, vessels: list[Vessel], extent: np.ndarray, settings: TreeSettings
) -> list[Vessel]:
    """Thin curved vessels between two points of existing vessels: each closes a loop."""
    anchors = np.concatenate([v.points for v in vessels])
    area_mm2 = extent[0] * extent[1] / 1e6
    count = rng.poisson(settings.capillaries_per_mm2 * area_mm2)
    capillaries = []
    for _ in range(count):
        first = anchors[rng.integers(len(anchors))]
        distances = np.linalg.norm(anchors - first, axis=1)
        candidates = np.flatnonzero((distances > 15) & (distances < 70))
        if len(candidates) == 0:
            continue
        second = anchors[rng.choice(candidates)]
        bend = rng.normal(0, 0.35 * np.linalg.norm(second - first), 3)
        t = np.linspace(0, 1, max(3, int(np.linalg.norm(second - first) / settings.step_um)))[:, None]
        control = (first + second) / 2 + bend
        points = (1 - t) ** 2 * first + 2 * (1 - t) * t * control + t**2 * second
        radius = rng.uniform(*settings.radius_capillary_um)
        capillaries.append(Vessel(points, np.full(len(points), radius), rng.uniform(0.35, 0.9)))
    return capillaries


def grow_vessel_tree(
    rng: np.random.Generator, extent_um: np.ndarray, settings: TreeSettings | None = None
) -> list[Vessel]:
    """Grows the vessels of one field of view.

    Args:
        rng: the random generator (seeded by the caller).
        extent_um: physical size of the volume per axis, micrometres.
        settings: tree knobs; defaults when ``None``.

    Returns:
        Penetrating vessels with branches, surface vessels, then capillaries.
    """
    settings = settings or TreeSettings()
    extent = np.asarray(extent_um, dtype=float)
    vessels = _penetrating(rng, extent, settings) + _surface(rng, extent, settings)
    return vessels + _capillaries(rng, vessels, extent, settings)
