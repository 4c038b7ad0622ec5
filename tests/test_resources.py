"""Resources: every rule declares what a scheduler needs, and a job uses exactly its threads."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import REPO

RULE_START = re.compile(r"^\s*rule(?:\s+(\w+))?\s*:", re.MULTILINE)

# Libraries loaded before the limit (numpy's BLAS, as a script's imports do) and after it
# (torch's OpenMP when a model module is imported inside the job): both must obey it.
PROBE = """
import json, sys
import numpy
if sys.argv[2] == "torch-first":
    import torch
from kryptonite_n.compute.jobs import limit_threads
limit_threads(int(sys.argv[1]))
import scipy.linalg, torch
from threadpoolctl import threadpool_info
torch.ones(300, 300) @ torch.ones(300, 300)
print(json.dumps({"torch": torch.get_num_threads(),
                  "pools": {p["internal_api"]: p["num_threads"] for p in threadpool_info()}}))
"""


@pytest.mark.parametrize(("threads", "order"), [(1, "torch-first"), (2, "torch-later")])
def test_a_job_uses_exactly_its_threads(threads, order):
    result = subprocess.run([sys.executable, "-c", PROBE, str(threads), order],
                            capture_output=True, text=True, check=True)
    used = json.loads(result.stdout)
    assert used["torch"] == threads
    assert {"openmp", "openblas"} <= set(used["pools"])
    assert set(used["pools"].values()) == {threads}, used


def _rule_blocks() -> dict[str, str]:
    """Each rule's text in workflow/rules/*.smk, by name (dynamic names by their name: line)."""
    blocks = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = path.read_text()
        starts = list(RULE_START.finditer(text))
        ends = [*(start.start() for start in starts[1:]), len(text)][:len(starts)]
        for start, end in zip(starts, ends, strict=True):
            block = text[start.start():end]
            name = start.group(1) or re.search(r"name:\s*\n?\s*(\S+)", block).group(1)
            blocks[f"{path.name}:{name}"] = block
    return blocks


def test_every_rule_declares_threads_memory_and_runtime():
    blocks = _rule_blocks()
    assert len(blocks) >= 4
    for name, block in blocks.items():
        if not re.search(r"^\s*(script|shell|run|notebook|wrapper):", block, re.MULTILINE):
            continue  # a rule that runs nothing (only gathers inputs) needs no resources
        assert re.search(r"^\s*threads:", block, re.MULTILINE), f"{name} declares no threads"
        assert "mem_mb=" in block, f"{name} declares no resources.mem_mb"
        assert "runtime=" in block, f"{name} declares no resources.runtime"
