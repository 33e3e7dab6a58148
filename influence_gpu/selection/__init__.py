"""Seed selection: one selector contract, one lazy greedy engine, and the methods on top.

* :mod:`.base` - :class:`SeedSelector` / :class:`BlockingSelector` and :class:`SelectionResult`.
* :mod:`.lazy_greedy` - greedy / CELF / CELF++ over a :class:`MarginalOracle` (:mod:`.oracles`).
* :mod:`.greedy` - :class:`Greedy`, :class:`CELF`, :class:`CELFPP` on Monte Carlo spread
  (:class:`SpreadOracle`, or paper D's batched ``PartitionOracle`` with ``oracle="partition"``).
* :mod:`.heuristics` - :class:`Degree`, :class:`DegreeDiscount`, :class:`KShell`,
  :class:`RandomSeeds`.
* :mod:`.imm` - :class:`IMM` on reverse-reachable sketches (:mod:`influence_gpu.rr`).
* :mod:`.temporal` - paper E: :class:`KT`, :class:`KTIM`, :class:`IMIT`, :class:`TIM`,
  :class:`CCA` on temporal graphs.
* :mod:`.community` - paper D: :class:`SPIN`, :class:`SGA`, :class:`CSPIN`, :class:`CSGA`.
* :mod:`.rankings` - paper D's rankings: :class:`ICCRanking`, :class:`ClosenessRanking`.
* :mod:`.blocking` - influence blocking (paper B): :class:`NIECELF`, :class:`MCSCELF`,
  :class:`RRCELF` and the degree / proximity / random baselines.

Each method is a class whose constructor takes its hyper-parameters; ``conf/selector/<name>.yaml``
names it by ``_target_``. Method *names* are resolved only in :func:`influence_gpu.select_seeds`.
"""

from influence_gpu.selection.base import (
    BlockingSelector,
    SeedSelector,
    SelectionResult,
    Selector,
)
from influence_gpu.selection.blocking import (
    MCSCELF,
    NIECELF,
    RRCELF,
    DegreeBlocking,
    ProximityBlocking,
    RandomBlocking,
    reestimate,
)
from influence_gpu.selection.community import CSGA, CSPIN, SGA, SPIN
from influence_gpu.selection.greedy import CELF, CELFPP, Greedy
from influence_gpu.selection.heuristics import (
    Degree,
    DegreeDiscount,
    KShell,
    RandomSeeds,
    core_numbers,
    degree,
    degree_discount,
    kshell,
    random_seeds,
)
from influence_gpu.selection.imm import IMM
from influence_gpu.selection.lazy_greedy import GreedyTrace, lazy_greedy
from influence_gpu.selection.oracles import (
    BlockedInfluenceOracle,
    CoverageOracle,
    MarginalOracle,
    NIEOracle,
    SpreadOracle,
)
from influence_gpu.selection.rankings import ClosenessRanking, ICCRanking
from influence_gpu.selection.temporal import CCA, IMIT, KT, KTIM, TIM

__all__ = [
    "SeedSelector",
    "BlockingSelector",
    "SelectionResult",
    "Selector",
    "lazy_greedy",
    "GreedyTrace",
    "MarginalOracle",
    "SpreadOracle",
    "BlockedInfluenceOracle",
    "NIEOracle",
    "CoverageOracle",
    "Greedy",
    "CELF",
    "CELFPP",
    "Degree",
    "DegreeDiscount",
    "KShell",
    "RandomSeeds",
    "IMM",
    "KT",
    "KTIM",
    "IMIT",
    "TIM",
    "CCA",
    "SPIN",
    "SGA",
    "CSPIN",
    "CSGA",
    "ICCRanking",
    "ClosenessRanking",
    "NIECELF",
    "MCSCELF",
    "RRCELF",
    "DegreeBlocking",
    "ProximityBlocking",
    "RandomBlocking",
    "reestimate",
    "degree",
    "degree_discount",
    "kshell",
    "core_numbers",
    "random_seeds",
]
