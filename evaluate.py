"""Evaluate seed-selection methods or a seed set by simulation (Hydra entry point).

python evaluate.py                               # compare methods on the built-in BA graph
python evaluate.py task=spread seeds=[0,1,2]
python evaluate.py experiment=email_eu_core_select
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    """Run :func:`influence_gpu.pipeline.evaluate`."""
    from influence_gpu.pipeline import evaluate

    evaluate(cfg)


if __name__ == "__main__":
    main()
