"""Check two runs of the workflow produced the same science: same files, identical numbers.

Usage: python compare_runs.py REFERENCE_DIR OTHER_DIR

Both directories are Snakemake working directories. Every file under results/ must exist in
both. Arrays (.npy, .npz) must be bit-identical; JSON and CSV files must hold identical values
except for measurements of the run itself (wall time, energy, carbon), which are named by
VOLATILE and skipped. results/carbon/ holds only such measurements and is skipped whole, as
is any file named after one (figures/runtime_jobs.json, figures/carbon_models.json, ...).
Other files (figures, HTML) are compared by existence only. Exit status 1 on any difference.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

VOLATILE = re.compile(r"seconds|time|duration|energy|emission|carbon|co2|kwh|power|watt|date|host|"
                      r"cpu_model|ram_|gpu_|timestamp|run_id", re.IGNORECASE)
SKIPPED_FOLDERS = ("carbon",)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp")}


def _strip(value: object) -> object:
    """Drop volatile keys from nested JSON."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not VOLATILE.search(str(k))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _same_csv(a: Path, b: Path) -> bool:
    left, right = pd.read_csv(a), pd.read_csv(b)
    if list(left.columns) != list(right.columns):
        return False
    keep = [c for c in left.columns if not VOLATILE.search(str(c))]
    return left[keep].equals(right[keep])


def _same_npz(a: Path, b: Path) -> bool:
    with np.load(a, allow_pickle=False) as left, np.load(b, allow_pickle=False) as right:
        return sorted(left.files) == sorted(right.files) and all(
            np.array_equal(left[k], right[k], equal_nan=left[k].dtype.kind == "f") for k in left.files
        )


def _same_npy(a: Path, b: Path) -> bool:
    left, right = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
    return left.dtype == right.dtype and np.array_equal(left, right, equal_nan=left.dtype.kind == "f")


COMPARE = {
    ".npy": _same_npy,
    ".npz": _same_npz,
    ".csv": _same_csv,
    ".json": lambda a, b: _strip(json.loads(a.read_text())) == _strip(json.loads(b.read_text())),
}


def compare(reference: Path, other: Path) -> list[str]:
    """The differences between two working directories' results, as messages."""
    left, right = _files(reference / "results"), _files(other / "results")
    problems = [f"only in {reference}: {name}" for name in sorted(left - right)]
    problems += [f"only in {other}: {name}" for name in sorted(right - left)]
    counts = {"identical": 0, "existence only": 0, "skipped": 0}
    for name in sorted(left & right):
        if name.split("/")[0] in SKIPPED_FOLDERS or VOLATILE.search(Path(name).stem):
            counts["skipped"] += 1
            continue
        same = COMPARE.get(Path(name).suffix)
        if same is None:
            counts["existence only"] += 1
        elif same(reference / "results" / name, other / "results" / name):
            counts["identical"] += 1
        else:
            problems.append(f"differs: results/{name}")
    print(f"compared {len(left & right)} result files: "
          + ", ".join(f"{count} {kind}" for kind, count in counts.items()))
    return problems


def main() -> int:
    reference, other = (Path(arg) for arg in sys.argv[1:3])
    if not (reference / "results").is_dir() or not (other / "results").is_dir():
        print("usage: compare_runs.py REFERENCE_DIR OTHER_DIR (each with a results/ folder)", file=sys.stderr)
        return 2
    problems = compare(reference, other)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    summary = reference / "results" / "summary.csv"
    print("results/summary.csv identical" if summary.exists() else "no results/summary.csv in this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
