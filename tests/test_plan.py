"""The study plan: what a configuration asks each stage to build."""

from __future__ import annotations

import ast
import concurrent.futures
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from kryptonite_n.plan import paths
from kryptonite_n.plan.catalogue import FAMILIES
from kryptonite_n.plan.code import script_code
from kryptonite_n.plan.config import prepare_config
from kryptonite_n.plan.models import MODELS
from kryptonite_n.plan.study import NETWORK_MODEL, StudyPlan, expand


def test_expand_fills_every_combination_and_keeps_the_rest():
    assert expand("a/{n}/{repeat}/{model}", n=[9, 12], repeat=[0, 1]) == [
        "a/9/0/{model}", "a/9/1/{model}", "a/12/0/{model}", "a/12/1/{model}"]
    assert expand("x{n}", n=9) == ["x9"]
    # A wildcard the pattern does not hold multiplies nothing.
    assert expand("results/{model}/n{n}/metrics.csv", model="mlp", n=[9, 12], repeat=[0, 1, 2]) == [
        "results/mlp/n9/metrics.csv", "results/mlp/n12/metrics.csv"]


def test_the_plan_follows_the_configuration():
    config = prepare_config({"dimensions": [9, 12, 24], "repeats": 2,
                             "models": {"poly_logreg": {"dimensions": [9]},
                                        "mock_baseline": {"enabled": False}},
                             "attacks": {"models": ["mlp", "xor_oracle"]},
                             "network_analysis": {"dimensions": [12, 15], "activations": ["relu"]}})
    plan = StudyPlan(config)
    assert plan.fitted["poly_logreg"] == [9] and plan.fitted["mock_baseline"] == []
    assert plan.fitted["mlp"] == [9, 12, 24]
    assert plan.attacked == {"mlp": [9, 12, 24], "xor_oracle": [9, 12, 24]}
    assert plan.analysed == [12]  # 15 is not studied
    assert plan.hidden_dimensions == [9, 12, 24]
    assert set(plan.support_models) == {"poly_logreg", "xor_oracle", "parity_gf2"}
    # The n = 12 network is elu (the paper's table): relu is a variant, elu the fit itself.
    assert plan.network_activations(12) == ["relu", "elu"]
    assert plan.activation_models(12, "elu") == [paths.fill(paths.FIT_FILES["model"], model=NETWORK_MODEL,
                                                            n=12, repeat=r) for r in (0, 1)]
    assert all("/variant_relu/" in f for f in plan.activation_models(12, "relu"))
    outputs = plan.fit_outputs("mlp")
    assert outputs["history"] == [f"results/models/mlp/n{{n}}/repeat{r}/history.csv" for r in (0, 1)]
    assert outputs["table"] == "results/models/mlp/n{n}/metrics.csv"
    carbon = plan.carbon_inputs()
    assert "results/carbon/network_analysis/variant_relu/n12.csv" in carbon
    assert "results/carbon/attack/poly_logreg/n9.csv" not in carbon
    assert plan.report_sources()["adversarial"] == [paths.ADVERSARIAL]
    tables = plan.fits(paths.METRICS_TABLE)
    assert len(tables) == len(set(tables)) == sum(map(len, plan.fitted.values()))


def test_disabled_stages_leave_nothing_to_read():
    plan = StudyPlan(prepare_config({"dimensions": [9], "attacks": {"enabled": False},
                                     "network_analysis": {"enabled": False}}))
    assert plan.attacked == {} and plan.analysed == [] and plan.attack_targets() == []
    sources = plan.report_sources()
    assert sources["adversarial"] == [] and sources["network"] == [] and sources["boundary"] == []


REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path.stem for path in (REPO / "scripts").glob("*.py"))


def test_every_script_runs_the_code_its_rules_depend_on():
    # The truth is the interpreter: the library files that running the script's imports (and
    # loading every model and figure by name) loads, against the static closure of its imports.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        loaded = pool.map(lambda script: loaded_modules(script, MODELS, FAMILIES), SCRIPTS)
        truths = dict(zip(SCRIPTS, loaded, strict=True))
    for script in SCRIPTS:
        assert truths[script] == set(script_code(REPO, script, models=MODELS, families=FAMILIES)), script
    assert str(REPO / "src/kryptonite_n/report/tuning_page.py") in truths["render_pages"]


def test_a_rule_depends_only_on_the_models_and_figures_it_loads():
    fit_mlp = set(script_code(REPO, "fit_model", models=["mlp"]))
    assert str(REPO / "src/kryptonite_n/compute/models/mlp.py") in fit_mlp
    assert not any("compute/models/poly_logreg.py" in f for f in fit_mlp)
    data_figures = set(script_code(REPO, "draw_figures", families=["data"]))
    assert not any("report/figures/tuning.py" in f for f in data_figures)
    tuning_figures = script_code(REPO, "draw_figures", families=["tuning"])
    assert any("report/figures/tuning.py" in f for f in tuning_figures)


def loaded_modules(script: str, models: Sequence[str] = (),
                   families: Sequence[str] | None = None) -> set[str]:
    """The library files a fresh interpreter loads when it runs the imports of
    ``scripts/<script>.py`` (wherever they are in the script), then the figures of ``families``
    by name if the figures are loaded, then ``models`` by name if the registry is."""
    tree = ast.parse((REPO / "scripts" / f"{script}.py").read_text())
    statements = [ast.unparse(node).strip() for node in ast.walk(tree)
                  if isinstance(node, ast.Import | ast.ImportFrom)
                  and ast.unparse(node).split()[1].startswith("kryptonite_n")]
    program = "\n".join([
        "import importlib, sys", *statements,
        "if 'kryptonite_n.report.figures' in sys.modules:",
        "    from kryptonite_n.report.figures import drawer",
        "    from kryptonite_n.plan.catalogue import FIGURES",
        f"    [drawer(f.name) for f in FIGURES if {families!r} is None or f.family in {families!r}]",
        "if 'kryptonite_n.compute.models' in sys.modules:",
        f"    for model in {list(models)!r}: importlib.import_module('kryptonite_n.compute.models.' + model)",
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('kryptonite_n') and getattr(m, '__file__', None)))",
    ])
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return {str(Path(line).resolve()) for line in result.stdout.split()}
