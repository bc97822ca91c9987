"""Bench section 5: peak resident memory of a recognizing process and of a training one.

Each is measured in a Python process of its own, so neither sees the other's
imports or allocations.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from bench.common import FAST_RECIPE, ROOT, table

PEAK_REPORT = """
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # VmHWM: this program's own peak (ru_maxrss keeps the parent's across exec on Linux)
    peak = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
except (OSError, StopIteration):
    pass
print(json.dumps({{"maxrss_kb": peak, "torch_loaded": "torch" in sys.modules}}))
"""
"""What each child prints last: its peak resident memory, and whether torch was loaded."""

RECOGNIZE_CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from bench.images import latency_cases
from mdr import Recognizer
r = Recognizer()
cases = latency_cases({data!r})
for _ in range({runs}):
    for _, image, _ in cases:
        r.recognize(image)
""" + PEAK_REPORT

TRAIN_CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from mdr.training.loop import train
from mdr.training.config import TrainConfig
config = TrainConfig(**{recipe!r}, epochs=1, train_size={train_size!r}, data_dir={data!r})
train(config)
""" + PEAK_REPORT


def _child(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(sizes: Sizes, data_dir) -> tuple[str, dict]:
    data = str(data_dir) if data_dir else None
    recognize = _child(RECOGNIZE_CHILD.format(root=str(ROOT), data=data, runs=sizes.memory_runs))
    training = _child(TRAIN_CHILD.format(root=str(ROOT), data=data, recipe=FAST_RECIPE,
                                         train_size=sizes.train_size))
    rows = [["recognize only (Recognizer, 4 canvases x " f"{sizes.memory_runs})", f"{recognize['maxrss_kb'] / 1024:.0f}",
             "yes" if recognize["torch_loaded"] else "no"],
            [f"training (fast recipe, 1 epoch, {sizes.train_size or 60000} images)",
             f"{training['maxrss_kb'] / 1024:.0f}", "yes" if training["torch_loaded"] else "no"]]
    text = (table(["process", "peak RSS MB", "torch imported"], rows)
            + "\n\nEach in its own Python process: its peak resident set (`VmHWM` of /proc/self/status, "
              "else `ru_maxrss`) at its end; torch imported: whether `torch` was in `sys.modules` then.")
    return text, {"recognize": recognize, "training": training}
