"""Evaluate seed selection, seed sets, learned models or blocking methods (Hydra entry point).

python evaluate.py                               # compare selectors on the built-in BA graph
python evaluate.py task=spread seeds=[0,1,2]
python evaluate.py experiment=email_eu_core_select
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
def main(cfg: DictConfig) -> float | None:
    """Run the task of ``cfg.task`` (:func:`influence_gpu.apps._run.main`)."""
    from influence_gpu.apps._run import main as run

    return run(cfg)


if __name__ == "__main__":
    main()
