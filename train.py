"""Train an influence model (Hydra entry point).

python train.py                                  # shows the graph and the model= choices
python train.py model=<name> data=<name> trainer=gpu
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> None:
    """Run :func:`influence_gpu.pipeline.train`."""
    from influence_gpu.pipeline import train

    train(cfg)


if __name__ == "__main__":
    main()
