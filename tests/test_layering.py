import subprocess
import sys


def test_diffusion_import_pulls_in_neither_lightning_nor_hydra():
    code = (
        "import sys, influence_gpu, influence_gpu.diffusion, influence_gpu.graph, "
        "influence_gpu.selection; "
        "bad = [m for m in ('lightning', 'hydra', 'pytorch_lightning') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
