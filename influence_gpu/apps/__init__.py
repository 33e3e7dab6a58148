"""The task layer behind ``evaluate.py`` and ``train.py`` (the only Hydra code of the package).

:mod:`influence_gpu.apps._run` holds the plumbing (run folder, ``metrics.json``, seeding, device,
graph, callbacks and loggers from config) and :func:`~influence_gpu.apps._run.main`, which both
entry points call. Each task is one module with ``run(cfg) -> dict``, named by
``conf/task/<name>.yaml`` (``_target_: influence_gpu.apps.<module>.run``, ``_partial_: true``):

* :mod:`~influence_gpu.apps.select` - compare seed selectors (``evaluate.py``'s default);
* :mod:`~influence_gpu.apps.spread` - spread of given seeds;
* :mod:`~influence_gpu.apps.blocking` - paper B's influence-blocking benchmark (``task=ibm``);
* :mod:`~influence_gpu.apps.paper_c` - paper C's signed-network experiments (MILP formulations,
  local search; ``experiment=paper_c_random`` / ``paper_c_bitcoin``);
* :mod:`~influence_gpu.apps.paper_d` - paper D's non-submodular experiments
  (``experiment=paper_d_<network>``);
* :mod:`~influence_gpu.apps.paper_e` - paper E's temporal experiments (``experiment=paper_e_*``);
* :mod:`~influence_gpu.apps.cascades` - accuracy of a learned cascade model's checkpoint;
* :mod:`~influence_gpu.apps.fit_cascades` - train LTNN / RWNN or fit a MIP (``train.py``'s default);
* :mod:`~influence_gpu.apps.fit_nie` - train paper B's NIE (``train.py model=nie``);
* :mod:`~influence_gpu.apps.fit` - any Lightning model and datamodule (``train.py model=none``).

``import influence_gpu`` does not import this package.
"""
