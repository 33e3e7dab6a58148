"""Shared fixtures: devices to run on, the shared datasets folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def devices(request) -> str:
    """Run a test on CPU always, and on CUDA when one is present."""
    return request.param


@pytest.fixture
def datasets_dir() -> Path:
    """``../shared/datasets`` beside the repository (or $INFLUENCE_GPU_DATA); skip when absent."""
    root = os.environ.get("INFLUENCE_GPU_DATA")
    path = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path}")
    return path
