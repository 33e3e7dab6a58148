"""Paper experiments as plain functions: graphs, selectors and diffusions in, records out.

No Hydra here (DESIGN section 2: only ``apps/`` touches it). The Hydra tasks
(:mod:`influence_gpu.apps.paper_e`, :mod:`influence_gpu.apps.paper_d`) build the objects from
``conf/`` and call these functions; the scripts ``benchmarks/paper_e.py`` and
``benchmarks/paper_d.py`` build the same objects in Python and call the same functions, so each
experiment's loop, timing and re-scoring is written once.

* :mod:`~influence_gpu.experiments.paper_e` - temporal IM (KT, KTIM and their peers, temporal
  IMM) on one temporal network;
* :mod:`~influence_gpu.experiments.paper_d` - non-submodular IM (SPIN, SGA, C-SPIN, C-SGA,
  greedy, CELF++, ICC rankings) on several networks and threshold models.

``import influence_gpu`` does not import this package.
"""
