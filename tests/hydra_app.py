"""Compose the real ``conf/`` for app tests, with run directories under ``tmp_path``."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

CONF = Path(__file__).resolve().parents[1] / "conf"


def compose_app(name, overrides, tmp_path):
    """Compose ``conf/<name>.yaml`` as a Hydra job would, writing into ``tmp_path``."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(
            config_name=name,
            overrides=[*overrides, f"paths.output_dir={tmp_path}", f"hydra.run.dir={tmp_path}"],
            return_hydra_config=True,
        )
        HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture(autouse=True)
def clean_hydra():
    """Clear Hydra's global state before and after each test (import into a test module)."""
    GlobalHydra.instance().clear()
    yield
    GlobalHydra.instance().clear()


def run_entry_point(script, overrides, tmp_path):
    """Run ``train.py`` / ``evaluate.py`` as a user would; return (``metrics.json``, stdout)."""
    import json
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(CONF.parent / script), *overrides, f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads((tmp_path / "metrics.json").read_text()), out.stdout
