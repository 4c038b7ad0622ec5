"""Check two runs of the workflow produced the same science: same files, identical numbers.

Usage: python compare_runs.py REFERENCE_DIR OTHER_DIR

Both directories are Snakemake working directories; the rules of the comparison are those of
``kryptonite_n.tables.compare`` (arrays bit-identical, CSV and JSON values identical except run
measurements). Prints the counts and every difference; exit status 1 on any difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kryptonite_n.tables.compare import compare_runs


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: compare_runs.py REFERENCE_DIR OTHER_DIR (each with a results/ folder)", file=sys.stderr)
        return 2
    try:
        comparison = compare_runs(Path(sys.argv[1]), Path(sys.argv[2]))
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    print(comparison.summary())
    for problem in comparison.problems:
        print(problem, file=sys.stderr)
    return 0 if comparison.same else 1


if __name__ == "__main__":
    sys.exit(main())
