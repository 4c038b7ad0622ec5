"""What Snakemake would run: the jobs of a ``--dry-run``, parsed from its job listing.

Each planned job is printed as ``rule NAME:`` (``localrule NAME:``, ``checkpoint NAME:``) followed by indented
``key: value`` lines (input, output, log, reason, wildcards, ...). A job is known by its rule
and its log (unique per job in this workflow), or its outputs when it has no log.

The parser cannot go silent: ``planned`` checks the jobs it found against the total of
Snakemake's own "Job stats" table, and an empty plan must come with Snakemake's own
"Nothing to be done" (``nothing_planned``). A change of Snakemake's listing format therefore
fails the tests instead of making every plan look empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from conftest import WorkflowRun

from kryptonite_n.plan.models import MODELS

JOB_START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\S+):$")
#: The last line of Snakemake's "Job stats" table: ``total   N``.
JOB_TOTAL = re.compile(r"^total\s+(\d+)\s*$", re.MULTILINE)
NOTHING_TO_DO = "Nothing to be done"


@dataclass(frozen=True)
class Job:
    rule: str
    log: str
    outputs: frozenset[str]
    reason: str = field(default="", compare=False)
    inputs: frozenset[str] = field(default=frozenset(), compare=False)

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
            inputs = frozenset(filter(None, fields.get("input", "").split(", ")))
            job = Job(rule, log, outputs, fields.get("reason", ""), inputs)
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


def check_listing(listing: str, jobs: dict[tuple[str, str], Job]) -> None:
    """Raise unless the parsed jobs agree with what Snakemake itself says it would run."""
    totals = [int(total) for total in JOB_TOTAL.findall(listing)]
    if NOTHING_TO_DO in listing:
        if jobs or totals:
            raise AssertionError(f"Snakemake says {NOTHING_TO_DO!r} but {len(jobs)} jobs were parsed")
        return
    if not totals:
        raise AssertionError(f"a dry run neither says {NOTHING_TO_DO!r} nor has a job count:\n"
                             f"{listing[-3000:]}")
    # Snakemake prints its table before and after the listing: every copy must agree.
    if set(totals) != {len(jobs)}:
        raise AssertionError(f"Snakemake plans {' and '.join(map(str, sorted(set(totals))))} jobs, "
                             f"the parser found {len(jobs)}:\n{listing[-3000:]}")


def planned(run: WorkflowRun, *extra: str) -> dict[tuple[str, str], Job]:
    """The jobs ``snakemake --dry-run`` (with ``extra`` options and targets) would run."""
    result = run.run("--dry-run", *extra)
    listing = result.stdout + "\n" + result.stderr
    jobs = parse_jobs(listing)
    check_listing(listing, jobs)
    return jobs


def nothing_planned(run: WorkflowRun, *extra: str) -> bool:
    """True when Snakemake itself says so (and the parser agrees): "Nothing to be done", or,
    with ``--until``, a "Job stats" table whose total is 0."""
    result = run.run("--dry-run", *extra)
    listing = result.stdout + "\n" + result.stderr
    jobs = parse_jobs(listing)
    check_listing(listing, jobs)
    said = NOTHING_TO_DO in listing or set(JOB_TOTAL.findall(listing)) == {"0"}
    return said and not jobs


def fit_job(jobs: dict[tuple[str, str], Job], model: str, n: int) -> Job | None:
    return next((job for job in jobs.values() if job.rule == f"fit_{model}" and job.dimensions == {n}),
                None)
