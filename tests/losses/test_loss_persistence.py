"""Persistence pairs and critical-voxel maps of the ``topo`` loss."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.topology.persistence import persistence_pairs_0d, target_pair_count, topo_maps


def test_pairs_locate_the_minima_of_a_non_cubic_array():
    f = np.ones((5, 7, 3))
    f[0, 1, 2] = 0.0  # global minimum: the essential class, no finite pair
    f[4, 6, 0] = 0.2
    f[2, 3, 1] = 0.5
    births, deaths = persistence_pairs_0d(f)
    assert sorted(map(tuple, births.tolist())) == [(2, 3, 1), (4, 6, 0)]
    assert np.all(f[tuple(deaths.T)] == 1.0)


def test_constant_array_has_no_pair():
    births, deaths = persistence_pairs_0d(np.full((4, 3, 2), 0.3))
    assert births.shape == deaths.shape == (0, 3)


def _two_blobs(shape=(10, 6, 4), origin=5):
    """p with a strong and a weaker blob in the cube starting at ``origin`` on the first axis."""
    p = np.full(shape, 0.1)
    strong, weak = (origin + 1, 1, 1), (origin + 3, 4, 2)
    p[strong] = 0.9
    p[weak] = 0.8
    return p, strong, weak


def test_kept_pair_is_pushed_to_a_full_component_at_cube_offset():
    p, strong, weak = _two_blobs()
    y = np.zeros(p.shape)
    y[6, 1, 1] = y[8, 4, 2] = 1  # two target components: one finite pair to keep
    weight, ref = topo_maps(p, y, topo_size=5)
    assert weight[weak] == 1.0 and ref[weak] == 1.0  # birth: p -> 1 (f -> 0)
    death = np.argwhere(weight * (ref == 0))
    assert len(death) == 1 and p[tuple(death[0])] == pytest.approx(0.1)  # death: p -> 0
    assert weight[strong] == 0.0  # the most persistent component is the essential class
    assert weight[:5].sum() == 0  # the first cube (constant target) is skipped
    assert weight.sum() == 2


def test_surplus_pair_is_pulled_to_the_diagonal():
    p, strong, weak = _two_blobs()
    y = np.zeros(p.shape)
    y[6:9, 1:5, 1:3] = 1  # one target component: no finite pair, the weak blob is surplus
    weight, ref = topo_maps(p, y, topo_size=5)
    assert weight[weak] == 1.0 and ref[weak] == pytest.approx(0.1)  # birth -> p at death
    others = weight.copy()
    others[weak] = 0.0
    death = np.argwhere(others)
    assert len(death) == 1 and ref[tuple(death[0])] == pytest.approx(0.8)  # death -> p at birth
    assert weight[strong] == 0.0


def test_low_persistence_surplus_pairs_are_left_alone():
    p = np.full((6, 6, 4), 0.1)
    p[1, 1, 1] = 0.9
    p[4, 4, 2] = 0.12  # persistence 0.02 < 0.03
    y = np.zeros(p.shape)
    y[1:3, 1:3, 1:3] = 1
    weight, _ = topo_maps(p, y, topo_size=50)
    assert weight.sum() == 0


def test_target_pair_count_equals_gudhi_on_binary_cubes():
    rng = np.random.default_rng(1)
    for _ in range(100):
        shape = tuple(int(n) for n in rng.integers(2, 9, size=3))
        y = rng.random(shape) < rng.uniform(0.05, 0.6)
        y.flat[0], y.flat[-1] = True, False  # not constant
        assert target_pair_count(y) == len(persistence_pairs_0d(1.0 - y.astype(float))[0])
