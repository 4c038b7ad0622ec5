"""Incremental reruns: a change reruns exactly the jobs that depend on it, nothing else.

Every check asks Snakemake itself what it would do (the job listing of ``--dry-run``, see
dryrun.py) on a finished run, and compares that with the jobs the change can touch. Which jobs
those are is computed from their files, not listed by hand: a job's n are the ``n{n}`` folders
or file names in its outputs and log, its models the model names there and in its rule name.
The downstream closure of a job is what ``--forcerun`` of its output plans, so the checks stay
exact as stages are added.

Changing a model's code is tested in a copy of the workflow and library (see
``copied_tree``), with the copy's library first on PYTHONPATH, and the copy's module really
edited. Not the repository's file: editing it, even briefly, would make a concurrent run in
the repository refit that model. Not a newer mtime alone (os.utime): Snakemake records the
checksums of small inputs and does not rerun a job whose newer input has the same content.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, WorkflowRun
from dryrun import Job, fit_job, nothing_planned, planned

from kryptonite_n.plan.code import script_code
from kryptonite_n.plan.study import NETWORK_MODEL
from kryptonite_n.plan.tuning import TUNABLE

pytestmark = pytest.mark.workflow


def test_a_finished_run_plans_nothing(quick_run):
    assert nothing_planned(quick_run)


def test_one_models_setting_for_one_n_reruns_only_its_jobs_and_downstream(quick_run):
    changed = planned(quick_run, "--config", "models={mlp: {by_n: {9: {lr: 0.05}}}}")
    assert fit_job(changed, "mlp", 9) is not None, sorted(changed)
    # The tuned MLP's search starts from the MLP's settings and may take over its fit.
    mlp_family = {"mlp", TUNABLE["mlp"]}
    for job in changed.values():
        # Never a job that is only about another n or only about other models.
        assert not job.dimensions or 9 in job.dimensions, job
        assert not job.models or job.models & mlp_family, job
    assert fit_job(changed, "mlp", 12) is None
    # The jobs that read the setting: the MLP's fit for n = 9, and any other MLP training on
    # n = 9 that uses the MLP's settings (the activation study does).
    roots = [job for job in changed.values() if "Params have changed" in job.reason]
    assert fit_job({(job.rule, job.log): job for job in roots}, "mlp", 9) in roots
    for job in roots:
        # fit_activation_variant trains the activation study's MLPs (files named mlp_<activation>).
        assert job.dimensions == {9} and ("mlp" in job.rule or job.models == {"mlp"}
                                          or job.rule == "fit_activation_variant"), job
    # Exactly those and everything downstream of them: what forcing them would rerun.
    forced = planned(quick_run, "--forcerun", *sorted(out for job in roots for out in job.outputs))
    assert changed == forced


def test_adding_an_n_adds_only_its_jobs(quick_run):
    added = planned(quick_run, "--config", "dimensions=[9, 12, 15]")
    for job in added.values():
        assert not job.dimensions or 15 in job.dimensions, job
    new_rules = {job.rule for job in added.values() if job.dimensions == {15}}
    assert {"prepare_dataset", "split_dataset", "explore_dataset", "fit_mlp"} <= new_rules
    # Jobs that already ran and are planned again are aggregates over every n, none of one old n.
    existing = (quick_run.directory / "results").rglob("*")
    existing = {str(p.relative_to(quick_run.directory)) for p in existing if p.is_file()}
    for job in added.values():
        if job.outputs & existing:
            assert not job.dimensions, job


def _copy_tree(destination: Path) -> Path:
    """The workflow, scripts, config, report sources and library, as a project of its own."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".snakemake")
    for folder in ("workflow", "scripts", "config", "envs", "src", "docs"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, destination / folder, ignore=ignore)
    return destination


@pytest.fixture(scope="module")
def copied_tree(tmp_path_factory):
    """A copy of the project whose library is on PYTHONPATH, and a run of two cheap models in it.

    The run is limited to n = 9 and the fits of two fast models: enough to see which model's
    jobs a code change reruns, without a second full quick run.
    """
    tree = _copy_tree(tmp_path_factory.mktemp("tree"))
    models = ("xor_oracle", "parity_gf2")
    targets = [f"results/models/{model}/n9/metrics.csv" for model in models]
    run = TreeRun(tmp_path_factory.mktemp("tree-run"), tree / "config" / "quick.yaml", tree)
    run.run("--config", "dimensions=[9]", "--", *targets)
    return run, tree, models, targets


@dataclass(frozen=True)
class TreeRun(WorkflowRun):
    """A WorkflowRun of the copied project: its Snakefile and its library (PYTHONPATH)."""

    tree: Path = Path()

    def command(self, *extra: str) -> list[str]:
        command = super().command(*extra)
        command[command.index("--snakefile") + 1] = str(self.tree / "workflow" / "Snakefile")
        return command

    def run(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        # The copy's library comes first, ahead of the repository's editable install.
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(self.tree / "src")}
        result = subprocess.run(self.command(*extra), capture_output=True, text=True, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(extra)} failed:\n{result.stdout}\n{result.stderr}")
        return result


def test_the_copied_tree_uses_its_own_library(copied_tree):
    run, tree, models, _ = copied_tree
    log = (run.directory / "logs" / "models" / models[0] / "n9" / "fit.log")
    assert log.exists()
    # The run recorded the copy's module as the fit's code input, not the repository's.
    result = run.run("--config", "dimensions=[9]", "--detailed-summary", "--",
                     f"results/models/{models[0]}/n9/metrics.csv")
    assert str(tree / "src" / "kryptonite_n" / "compute" / "models" / f"{models[0]}.py") in result.stdout
    assert str(REPO / "src") not in result.stdout


def test_changing_one_models_code_reruns_only_that_models_jobs(copied_tree):
    run, tree, models, targets = copied_tree
    assert nothing_planned(run, "--config", "dimensions=[9]", "--", *targets)
    # parity_gf2 runs xor_oracle's ParityRule (an edit there reruns both): edit the other way round.
    other, edited = models
    module = tree / "src" / "kryptonite_n" / "compute" / "models" / f"{edited}.py"
    module.write_text(module.read_text() + "\n# An edit: the fit must be redone.\n")
    after = planned(run, "--config", "dimensions=[9]", "--", *targets)
    assert {job.rule for job in after.values()} == {f"fit_{edited}"}
    assert fit_job(after, edited, 9) is not None and fit_job(after, other, 9) is None


# The report's rules: they read the whole configuration (render_pages records it); and the
# default target, planned whenever anything it gathers is rebuilt (it computes nothing).
REPORT_RULES = {"render_pages", "build_site", "aggregate_report_carbon", "all"}


def test_a_new_carbon_country_reprices_the_energy_and_redraws_the_report_only(quick_run):
    jobs = planned(quick_run, "--config", "carbon={country: FRA}")
    rules = {job.rule for job in jobs.values()}
    assert "aggregate_carbon" in rules
    # The carbon table changes, so what draws from it does; no job computes anything else.
    assert rules <= {"aggregate_carbon", "draw_carbon_figures", "draw_runtime_figures"} | REPORT_RULES, rules


def test_turning_carbon_accounting_off_reruns_no_computation(quick_run):
    jobs = planned(quick_run, "--config", "carbon={enabled: false}")
    rules = {job.rule for job in jobs.values()}
    assert not {rule for rule in rules if rule.startswith(("fit_", "attack_", "analyse_", "map_", "prepare_d",
                                                           "explore_", "split_"))}, rules
    assert rules <= REPORT_RULES, rules


# ------------------------------------------------------------------ the DAG sees the code

#: Where a job's files say which models it loads by name, per script: the model folders of its
#: outputs (a fit, a scaling job, an attack) or of its inputs (the analyses of fitted models).
LOADED_MODELS_FROM = {"fit_model": "outputs", "fit_tuned_model": "outputs", "scale_model": "outputs",
                      "attack_model": "outputs", "analyse_networks": "inputs",
                      "map_decision_boundary": "inputs"}
MODEL_FOLDER = re.compile(r"results/(?:models|scaling|adversarial)/(\w+)/")


def rule_scripts() -> list[tuple[re.Pattern, str]]:
    """(rule-name pattern, script) of every rule, read from workflow/rules/*.smk."""
    found = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for chunk in re.split(r"\n(?=\s*(?:rule|checkpoint)(?: \w+)?:)", smk.read_text())[1:]:
            name = (re.match(r"\s*(?:rule|checkpoint) (\w+):", chunk)
                    or re.search(r"name:\s*f?\"([^\"]+)\"", chunk))
            script = re.search(r"scripts/(\w+)\.py", chunk)
            if name and script:
                pattern = re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(name.group(1)))
                found.append((re.compile(pattern), script.group(1)))
    return found


def job_script(job: Job, scripts: list[tuple[re.Pattern, str]]) -> str:
    return next(script for pattern, script in scripts if pattern.fullmatch(job.rule))


def loaded_models(job: Job, script: str) -> list[str]:
    if job.rule == "fit_activation_variant":
        return [NETWORK_MODEL]
    files = {"outputs": job.outputs, "inputs": job.inputs}.get(LOADED_MODELS_FROM.get(script), ())
    return sorted({match.group(1) for path in files if (match := MODEL_FOLDER.search(path))})


@pytest.fixture(scope="module")
def code_trees(quick_run, tmp_path_factory):
    """Two copies of the project (sources' times kept: older than the quick run's outputs)
    whose Snakefile plans against the finished quick run, and the library files (of the
    repository) each planned job runs: its script's closure with the models and figures its
    files show it loads (``plan.code.script_code``, which ``tests/test_plan.py`` checks against
    the modules an interpreter loads)."""
    trees = [_copy_tree(tmp_path_factory.mktemp("code-tree")) for _ in range(2)]
    runs = [TreeRun(quick_run.directory, quick_run.configfile, tree) for tree in trees]
    everything = planned(runs[0], "--forceall")
    scripts = rule_scripts()
    wanted = {}
    for job in everything.values():
        if job.rule != "all":
            script = job_script(job, scripts)
            family = job.rule.removeprefix("draw_").removesuffix("_figures")
            wanted[job] = (script, tuple(loaded_models(job, script)),
                           (family,) if job.rule.startswith("draw_") else None)
    return runs, {job: set(script_code(REPO, script, models=models, families=families))
                  for job, (script, models, families) in wanted.items()}


def test_editing_any_library_module_reruns_exactly_the_jobs_that_run_it(code_trees):
    # Every module of the library, edited in a copy: the dry run plans every job whose script
    # runs it (its code input is newer) and, beyond those, only jobs that read their outputs; a
    # job whose code did not change is never planned for its code. Modules that the same jobs
    # run are edited together (one dry run each), in two copies side by side.
    runs, code = code_trees
    source = REPO / "src"
    by_jobs: dict[frozenset, list[Path]] = {}
    for module in sorted((source / "kryptonite_n").rglob("*.py")):
        by_jobs.setdefault(frozenset(job for job, files in code.items() if str(module) in files), []).append(
            module.relative_to(source))
    # No job runs the plan's own modules (the parse does: the jobs they plan change, not their
    # code) or the comparison of two runs (a tool of the tests and the cluster check).
    assert sorted(map(str, by_jobs.pop(frozenset(), []))) == [
        "kryptonite_n/plan/code.py", "kryptonite_n/plan/study.py", "kryptonite_n/tables/compare.py"]
    assert len(by_jobs) > 10

    def edit_and_plan(run: TreeRun, modules: list[Path]) -> dict:
        files = [run.tree / "src" / module for module in modules]
        saved = [(file.read_text(), file.stat()) for file in files]
        for file in files:
            file.write_text(file.read_text() + "\n# An edit.\n")
        try:
            return planned(run, "--rerun-triggers", "mtime")
        finally:
            for file, (text, times) in zip(files, saved, strict=True):
                file.write_text(text)
                os.utime(file, ns=(times.st_atime_ns, times.st_mtime_ns))

    groups = list(by_jobs.items())
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(runs)) as pool:
        # Each copy takes every other group, so no two dry runs edit the same copy at once.
        halves = [pool.submit(lambda run, part: [edit_and_plan(run, modules) for _, modules in part], run,
                              groups[i::len(runs)]) for i, run in enumerate(runs)]
        plans = [plan for i in range(len(runs)) for plan in zip(groups[i::len(runs)], halves[i].result(),
                                                                   strict=True)]
    for (running, modules), jobs in plans:
        planned_jobs = set(jobs.values())
        assert running <= planned_jobs, (modules, sorted(job.rule for job in running - planned_jobs))
        for job in planned_jobs - running:
            assert job.rule == "all" or job.reason.startswith("Input files updated by another job"), (
                modules, job.rule, job.reason)
