"""Do two runs of the workflow hold the same science? Every result file compared, with a diff.

Both folders are Snakemake working directories (each with a ``results/`` folder). Every file
under ``results/`` must exist in both. Arrays (.npy, .npz) must be bit-identical (same dtype,
shape and values, NaN equal to NaN); JSON and CSV files must hold identical values except for
measurements of the run itself (wall time, energy, carbon, host), named by ``VOLATILE`` and
left out. ``results/carbon/`` holds only such measurements and is skipped whole, as is any
file named after one (``figures/runtime_jobs.json``, ...). Other files (figures, HTML) are
compared by existence only. A difference is reported with where it is: the CSV column and
first row, the JSON key path, the array's first differing index and the largest gap.

Used by the cluster test (``.ci/cluster/compare_runs.py``) and the determinism test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# "cost": a figure of fit seconds and peak memory (the scaling page's cost against n).
VOLATILE = re.compile(r"seconds|time|duration|energy|emission|carbon|co2|kwh|power|watt|date|host|"
                      r"cpu_model|ram_|rss|gpu_|timestamp|run_id|cost", re.IGNORECASE)
SKIPPED_FOLDERS = ("carbon",)


@dataclass
class Comparison:
    """The outcome of comparing two runs: counts per kind of check, and the differences."""

    reference: Path
    other: Path
    identical: list[str] = field(default_factory=list)
    existence_only: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        compared = len(self.identical) + len(self.existence_only) + len(self.skipped)
        return (f"compared {compared} result files: {len(self.identical)} identical, "
                f"{len(self.existence_only)} existence only, {len(self.skipped)} skipped, "
                f"{len(self.problems)} differences")

    def report(self) -> str:
        return "\n".join([self.summary(), *self.problems])


# --------------------------------------------------------------------------- per file type


def _show(value: Any) -> str:
    """A value as a reader writes it (0.5, not np.float64(0.5))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _array_diff(left: np.ndarray, right: np.ndarray) -> str | None:
    """Why two arrays differ (dtype, shape, first differing index and largest gap), or None."""
    if left.dtype != right.dtype:
        return f"dtype {left.dtype} vs {right.dtype}"
    if left.shape != right.shape:
        return f"shape {left.shape} vs {right.shape}"
    floating = left.dtype.kind in "fc"
    if np.array_equal(left, right, equal_nan=floating):
        return None
    differs = left != right
    if floating:
        differs &= ~(np.isnan(left) & np.isnan(right))
    first = tuple(int(i) for i in np.argwhere(differs)[0]) if left.ndim else ()
    message = (f"{int(differs.sum())} of {left.size} values differ, first at {first}: "
               f"{_show(left[first])} vs {_show(right[first])}")
    if left.dtype.kind in "fciub":
        gap = np.abs(left.astype(np.float64) - right.astype(np.float64))
        message += f"; largest difference {np.nanmax(np.where(differs, gap, np.nan)):.6g}"
    return message


def diff_npy(a: Path, b: Path) -> str | None:
    return _array_diff(np.load(a, allow_pickle=False), np.load(b, allow_pickle=False))


def diff_npz(a: Path, b: Path) -> str | None:
    with np.load(a, allow_pickle=False) as left, np.load(b, allow_pickle=False) as right:
        if sorted(left.files) != sorted(right.files):
            return f"arrays {sorted(left.files)} vs {sorted(right.files)}"
        for name in sorted(left.files):
            problem = _array_diff(left[name], right[name])
            if problem:
                return f"array {name!r}: {problem}"
    return None


def diff_csv(a: Path, b: Path) -> str | None:
    left, right = pd.read_csv(a), pd.read_csv(b)
    if list(left.columns) != list(right.columns):
        return f"columns {list(left.columns)} vs {list(right.columns)}"
    if len(left) != len(right):
        return f"{len(left)} rows vs {len(right)}"
    for column in left.columns:
        if VOLATILE.search(str(column)):
            continue
        mine, theirs = left[column], right[column]
        same = (mine == theirs) | (mine.isna() & theirs.isna())
        if not same.all():
            row = int(np.flatnonzero(~same.to_numpy())[0])
            return (f"column {column!r}: {int((~same).sum())} of {len(same)} rows differ, first row {row}: "
                    f"{_show(mine.iloc[row])} vs {_show(theirs.iloc[row])}")
    return None


def _json_diff(left: Any, right: Any, where: str) -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        keys = {k for k in left if not VOLATILE.search(str(k))}
        other_keys = {k for k in right if not VOLATILE.search(str(k))}
        if keys != other_keys:
            return f"{where or '/'}: keys {sorted(keys ^ other_keys)} in only one"
        for key in sorted(keys):
            problem = _json_diff(left[key], right[key], f"{where}/{key}")
            if problem:
                return problem
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{where or '/'}: {len(left)} items vs {len(right)}"
        for i, (mine, theirs) in enumerate(zip(left, right, strict=True)):
            problem = _json_diff(mine, theirs, f"{where}/{i}")
            if problem:
                return problem
        return None
    same = left == right or (isinstance(left, float) and isinstance(right, float)
                             and np.isnan(left) and np.isnan(right))
    return None if same else f"{where or '/'}: {left!r} vs {right!r}"


def diff_json(a: Path, b: Path) -> str | None:
    return _json_diff(json.loads(a.read_text()), json.loads(b.read_text()), "")


DIFFERS: dict[str, Callable[[Path, Path], str | None]] = {
    ".npy": diff_npy,
    ".npz": diff_npz,
    ".csv": diff_csv,
    ".json": diff_json,
}


# --------------------------------------------------------------------------- whole runs


def result_files(run: Path | str) -> set[str]:
    """Every finished file under ``run/results`` (temporary ``.tmp`` files left out), relative."""
    root = Path(run) / "results"
    # An Optuna study journal (and its lock) is the tuning stage's resumable state, no output.
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp") and ".journal" not in p.name}


def is_volatile(name: str) -> bool:
    """A result file that holds only measurements of the run itself."""
    return name.split("/")[0] in SKIPPED_FOLDERS or bool(VOLATILE.search(Path(name).stem))


def compare_runs(reference: Path | str, other: Path | str,
                 include: Callable[[str], bool] | None = None) -> Comparison:
    """Compare every result file of two runs (only those ``include`` accepts, when given).

    Raises FileNotFoundError naming the folder when either run has no ``results/`` folder.
    """
    reference, other = Path(reference), Path(other)
    for run in (reference, other):
        if not (run / "results").is_dir():
            raise FileNotFoundError(f"{run / 'results'}: no results folder to compare")
    keep = include or (lambda _name: True)
    left = {name for name in result_files(reference) if keep(name)}
    right = {name for name in result_files(other) if keep(name)}
    comparison = Comparison(reference, other)
    comparison.problems += [f"only in {reference}: results/{name}" for name in sorted(left - right)]
    comparison.problems += [f"only in {other}: results/{name}" for name in sorted(right - left)]
    for name in sorted(left & right):
        differ = DIFFERS.get(Path(name).suffix)
        if is_volatile(name):
            comparison.skipped.append(name)
        elif differ is None:
            comparison.existence_only.append(name)
        else:
            try:
                problem = differ(reference / "results" / name, other / "results" / name)
            except (ValueError, OSError, pd.errors.ParserError) as error:
                problem = f"cannot be read ({error})"
            if problem:
                comparison.problems.append(f"differs: results/{name}: {problem}")
            else:
                comparison.identical.append(name)
    return comparison
