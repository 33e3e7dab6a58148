"""Train an influence model (Hydra entry point).

python train.py                                  # LTNN on known-LT cascades
python train.py model=<name> data=<name> trainer=gpu
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Run the task of ``cfg.task`` (:func:`influence_gpu.apps._run.main`)."""
    from influence_gpu.apps._run import main as run

    return run(cfg)


if __name__ == "__main__":
    main()
