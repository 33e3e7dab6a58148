"""RRSketch: estimates, coverage, joining streams, memory figures."""

from __future__ import annotations

import pytest
import torch

from influence_gpu.rr import RRSketch, sketch_nbytes
from influence_gpu.rr.sketch import ENTRY_BYTES, SET_BYTES


def sketch(key=None, start=0):
    # sets {0, 2}, {}, {1}, {2, 3}
    ptr = torch.tensor([0, 2, 2, 3, 5])
    nodes = torch.tensor([0, 2, 1, 2, 3], dtype=torch.int32)
    return RRSketch(4, ptr, nodes, key=key, model="ic", start=start)


def test_estimate_and_coverage():
    sk = sketch()
    assert sk.num_sets == 4 and sk.num_entries == 5 and sk.mean_size == 1.25
    assert sk.covered([2]).tolist() == [True, False, False, True]
    assert sk.coverage([0, 1]) == 2
    assert sk.estimate([2]) == pytest.approx(4 * 2 / 4)
    assert sk.estimate([]) == 0.0
    sk.inverted_index()  # the cached index gives the same answers
    assert sk.covered([2]).tolist() == [True, False, False, True]
    assert sk.coverage([0, 1, 3]) == 3
    with pytest.raises(ValueError, match="out of range"):
        sk.coverage([4])
    with pytest.raises(TypeError):
        sk.coverage([0.5])


def test_extend_joins_a_stream():
    a, b = sketch(key=5, start=0), sketch(key=5, start=4)
    a.inverted_index()
    a.extend(b)
    assert a.num_sets == 8 and a.ptr.tolist() == [0, 2, 2, 3, 5, 7, 7, 8, 10]
    assert a.coverage([1]) == 2  # the index was rebuilt
    with pytest.raises(ValueError, match="start"):
        sketch(key=5).extend(sketch(key=5, start=9))
    with pytest.raises(ValueError, match="keys"):
        sketch(key=5).extend(sketch(key=6, start=4))
    with pytest.raises(ValueError, match="nodes"):
        sketch().extend(RRSketch(3, torch.zeros(1, dtype=torch.long),
                                 torch.zeros(0, dtype=torch.int32)))


def test_memory_figures_and_validation():
    sk = sketch()
    assert sk.nbytes == 5 * 8 + 5 * 4
    assert sketch_nbytes(10, 2.0) == 10 * (SET_BYTES + 2 * ENTRY_BYTES)
    assert sk.memory_estimate(1000) == sketch_nbytes(1000, 1.25)
    with pytest.raises(ValueError, match="ptr"):
        RRSketch(4, torch.tensor([0, 3]), torch.zeros(2, dtype=torch.int32))
    with pytest.raises(ValueError, match="estimate|no RR sets"):
        RRSketch(4, torch.zeros(1, dtype=torch.long),
                 torch.zeros(0, dtype=torch.int32)).estimate([0])
