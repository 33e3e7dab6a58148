"""``torchrun --nproc_per_node=2 evaluate.py task=spread``: the one-process spread, world_size 2."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.hydra_app import run_entry_point

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["task=spread", "seeds=[0,1,2]", "graph.source.n=300", "diffusion.num_samples=501",
        "device=cpu", "progress=false"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_write_the_one_process_spread(tmp_path):
    (tmp_path / "one").mkdir()
    one, _ = run_entry_point("evaluate.py", ARGS, tmp_path / "one")
    (tmp_path / "two").mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         f"--master_port={_free_port()}", str(ROOT / "evaluate.py"), *ARGS,
         f"hydra.run.dir={tmp_path / 'two'}"],
        capture_output=True, text=True, cwd=tmp_path / "two", timeout=300,
        env=dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1"),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["spread"] == one["spread"] and two["stderr"] == one["stderr"]
    # only rank 0 printed the table's metrics file: one file, and it is complete
    assert sorted(p.name for p in (tmp_path / "two").glob("metrics*.json")) == ["metrics.json"]
