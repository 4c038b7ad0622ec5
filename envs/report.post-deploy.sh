#!/usr/bin/env bash
# Snakemake runs this once after creating the environment (`--sdm conda`): install the
# kryptonite_n library of this repository into it, so jobs need no PYTHONPATH.
set -euo pipefail
pip install --quiet --no-deps --editable "$(cd "$(dirname "$0")/.." && pwd)"
