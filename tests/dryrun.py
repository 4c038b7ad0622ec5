"""What Snakemake would run: the jobs of a ``--dry-run``, parsed from its job listing.

Each planned job is printed as ``rule NAME:`` (or ``localrule NAME:``) followed by indented
``key: value`` lines (input, output, log, reason, wildcards, ...). A job is known by its rule
and its log (unique per job in this workflow), or its outputs when it has no log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from conftest import WorkflowRun

from kryptonite_n.models import MODELS

JOB_START = re.compile(r"^(?:local)?rule (\S+):$")


@dataclass(frozen=True)
class Job:
    rule: str
    log: str
    outputs: frozenset[str]
    reason: str = field(default="", compare=False)

    def paths(self) -> list[Path]:
        return [Path(p) for p in (*self.outputs, *filter(None, self.log.split(", ")))]

    @property
    def dimensions(self) -> set[int]:
        """The n this job is about: the n{n} folders or file names in its outputs and log."""
        return {int(match.group(1)) for path in self.paths() for part in path.parts
                if (match := re.fullmatch(r"n(\d+)", part.split(".")[0]))}

    @property
    def models(self) -> set[str]:
        """The models this job is about: model-named folders or files, or a rule named ..._model."""
        found = {part.split(".")[0] for path in self.paths() for part in path.parts} & set(MODELS)
        return found | {model for model in MODELS if self.rule.endswith(f"_{model}")}


def parse_jobs(listing: str) -> dict[tuple[str, str], Job]:
    """The jobs in a dry-run's output, by (rule, log or outputs)."""
    jobs: dict[tuple[str, str], Job] = {}
    rule, fields = None, {}

    def flush() -> None:
        if rule is not None:
            outputs = frozenset(filter(None, fields.get("output", "").split(", ")))
            log = fields.get("log", "")
            job = Job(rule, log, outputs, fields.get("reason", ""))
            jobs[(rule, log or ", ".join(sorted(outputs)))] = job

    for line in listing.splitlines():
        start = JOB_START.match(line)
        if start:
            flush()
            rule, fields = start.group(1), {}
        elif rule is not None and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            fields[key] = value
        else:
            flush()
            rule = None
    flush()
    return jobs


def planned(run: WorkflowRun, *extra: str) -> dict[tuple[str, str], Job]:
    """The jobs ``snakemake --dry-run`` (with ``extra`` options and targets) would run."""
    result = run.run("--dry-run", *extra)
    return parse_jobs(result.stdout + "\n" + result.stderr)


def fit_job(jobs: dict[tuple[str, str], Job], model: str, n: int) -> Job | None:
    return next((job for job in jobs.values() if job.rule == f"fit_{model}" and job.dimensions == {n}),
                None)
