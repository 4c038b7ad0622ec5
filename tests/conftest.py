"""Shared fixtures: small generated datasets and one end-to-end quick run of the workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from kryptonite_n.compute.data import GeneratorSettings, generate

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def under_ci() -> bool:
    """CI sets CI=true (as GitHub Actions and GitLab do)."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """The one rule for a test this machine cannot run (no root, no browser, ...).

    Elsewhere it skips, saying why; under CI it fails, because CI is where it must run: a
    skip there would let a green run hide a check that never happened.
    """
    if under_ci():
        pytest.fail(f"this test must run under CI (CI=true), but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class WorkflowRun:
    """A finished workflow run in its own working directory."""

    directory: Path
    configfile: Path

    def command(self, *extra: str) -> list[str]:
        return [
            SNAKEMAKE, "--snakefile", str(REPO / "workflow" / "Snakefile"),
            "--directory", str(self.directory), "--configfile", str(self.configfile),
            "--cores", "2", *extra,
        ]

    def run(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*extra), capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": "0"})
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(extra)} failed:\n{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> WorkflowRun:
    """The whole study on config/quick.yaml, run once per test session."""
    run = WorkflowRun(tmp_path_factory.mktemp("quick-run"), REPO / "config" / "quick.yaml")
    run.run()
    return run


@pytest.fixture(scope="session")
def small_dataset():
    """A small generated n=9 dataset (fast to fit, same distribution as the real one)."""
    return generate(9, seed=11, settings=GeneratorSettings(rows_per_feature=500, hidden_rows=1000))
