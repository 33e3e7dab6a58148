"""Busy CPU processes beside a measurement (the shared-machine case of the speed benchmarks)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def busy_processes(count: int, settle: float = 1.5) -> Iterator[None]:
    """Run ``count`` Python processes that each spin on one CPU until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(settle)
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()
