import subprocess
import sys

PACKAGES = [
    "influence_gpu",
    "influence_gpu.diffusion",
    "influence_gpu.graph",
    "influence_gpu.selection",
    "influence_gpu.cascades",
    "influence_gpu.learn",
    "influence_gpu.nie",
]


def test_library_import_pulls_in_neither_lightning_nor_hydra():
    code = (
        f"import sys, importlib; [importlib.import_module(m) for m in {PACKAGES!r}]; "
        "bad = [m for m in ('lightning', 'hydra', 'pytorch_lightning') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
