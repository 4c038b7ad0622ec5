"""The study plan: what a configuration asks each stage to build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kryptonite_n import paths
from kryptonite_n.config import prepare_config
from kryptonite_n.plan import NETWORK_MODEL, StudyPlan, code_closure, expand, figure_code


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


SOURCE = Path(__file__).resolve().parents[1] / "src" / "kryptonite_n"


def loaded_modules(module: str) -> set[str]:
    """The project's module files that importing ``module`` in a fresh interpreter loads."""
    script = (f"import sys, {module}\n"
              "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
              " if n.startswith('kryptonite_n') and getattr(m, '__file__', None)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return {str(Path(line).resolve()) for line in result.stdout.split()}


def test_a_report_jobs_code_input_holds_every_module_it_runs():
    # The truth is the interpreter: every module that importing the page or figure code loads
    # must be a code input, or editing it would leave a page the code no longer makes.
    pages = {str(Path(f).resolve()) for f in code_closure(SOURCE, "kryptonite_n.report.pages")}
    assert loaded_modules("kryptonite_n.report.pages") <= pages
    assert str(SOURCE / "report" / "tuning_page.py") in pages
    figures = {str(Path(f).resolve()) for f in figure_code(SOURCE)}
    for module in ("scaling", "tuning", "models"):
        assert loaded_modules(f"kryptonite_n.report.figures.{module}") <= figures, module
    assert {str(SOURCE / "scaling.py"), str(SOURCE / "report" / "tuning_page.py")} <= figures
