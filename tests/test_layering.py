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


def _import_graph():
    """Module -> set of influence_gpu modules it imports (imports inside functions count)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "influence_gpu"
    files = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges = {}
    for mod, path in files.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join([*pkg, base] if base else pkg)
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for name in names:
                while name and name not in files:
                    name = name.rpartition(".")[0]
                # a child importing from its own parent package is the parent's re-export
                if name and name != mod and not mod.startswith(name + "."):
                    targets.add(name)
        edges[mod] = targets
    return edges


def test_no_two_modules_import_each_other():
    edges = _import_graph()
    # every module that can reach itself again through imports lies on a cycle
    cycles = []
    for start in edges:
        seen, stack = set(), list(edges[start])
        while stack:
            m = stack.pop()
            if m == start:
                cycles.append(start)
                break
            if m not in seen:
                seen.add(m)
                stack.extend(edges.get(m, ()))
    assert not cycles, f"modules on an import cycle: {sorted(cycles)}"


def test_selection_never_imports_the_api_or_apps():
    edges = _import_graph()
    bad = {
        (m, t)
        for m, ts in edges.items()
        if m.startswith(("influence_gpu.selection", "influence_gpu.rr", "influence_gpu.diffusion",
                         "influence_gpu.graph"))
        for t in ts
        if t == "influence_gpu.api" or t.startswith("influence_gpu.apps")
    }
    assert not bad, sorted(bad)
