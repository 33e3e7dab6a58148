"""Paper C: seed selection on signed networks under first-arrival diffusion (DESIGN 7.5).

* :mod:`.objective` - :func:`signed_cost` (send costs + penalties of flipped nodes; ``inf`` for
  an infeasible set).
* :mod:`.milp` - the Bellman, KKT and path-elimination MILPs (:func:`solve_signed_milp`).
* :mod:`.local_search` - add / drop / swap and pair-move local search
  (:func:`signed_local_search`).
* :mod:`.experiments` - paper C's experiments (random instances, a signed data set).
* :mod:`.select` - :func:`select_signed`, :class:`SignedSelection` and the selectors
  :class:`SignedMILP` / :class:`SignedLocalSearch`.
"""

from influence_gpu.selection.signed.local_search import LocalSearchResult, signed_local_search
from influence_gpu.selection.signed.milp import FORMULATIONS, SignedMILPSolution, solve_signed_milp
from influence_gpu.selection.signed.objective import signed_cost
from influence_gpu.selection.signed.select import (
    METHODS,
    SignedLocalSearch,
    SignedMILP,
    SignedSelection,
    select_signed,
)

__all__ = [
    "signed_cost",
    "select_signed",
    "SignedSelection",
    "SignedMILP",
    "SignedLocalSearch",
    "solve_signed_milp",
    "SignedMILPSolution",
    "signed_local_search",
    "LocalSearchResult",
    "FORMULATIONS",
    "METHODS",
]
