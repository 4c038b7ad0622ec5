"""Page numbers against result files, and sentences that follow the numbers.

Each page's context builder gets small hand-made tables with known answers; the rendered pages
are checked to change their conclusions when the tables change; and the quick run's pages are
recomputed from its CSVs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from kryptonite_n.compute.carbon_share import attribute
from kryptonite_n.plan.config import prepare_config
from kryptonite_n.report import pages
from kryptonite_n.tables import results as tables

TEMPLATES = REPO / "docs" / "templates"
OFF = {"enabled": False}


def write(path: Path, frame: pd.DataFrame) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return str(path)


# --------------------------------------------------------------------------- hand-made tables


def summary_frame(mlp_tests: tuple[float, float, float] = (0.96, 0.965, 0.97),
                  bayes: float = 0.958) -> pd.DataFrame:
    """Summary rows for n = 9: a learned MLP, the oracle-assisted FSO, with known intervals."""
    rows = []
    for model, tests in (("mlp", mlp_tests), ("fso_logreg", (0.99, 0.99, 0.99))):
        series = pd.Series(tests)
        from kryptonite_n.stats import mean_interval

        interval = mean_interval(series)
        low, high = interval.low, interval.high
        rows.append({"model": model, "n": 9, "repeats": 3, "test_acc_mean": series.mean(),
                     "test_acc_std": series.std(ddof=1), "test_acc_ci_low": low, "test_acc_ci_high": high,
                     # 1800 test rows: Hoeffding sqrt(ln 20 / 3600) = 0.0288, Chebyshev 0.0527.
                     "test_rows": 1800, "hoeffding_low": series.mean() - 0.0288,
                     "chebyshev_low": series.mean() - 0.0527,
                     "validation_acc_mean": series.mean() + (0.01 if model == "mlp" else 0.0),
                     "whole_set_acc": series.mean(), "hidden_acc_mean": None, "target": 0.95,
                     "bayes_acc": bayes, "bayes_ci_low": None, "bayes_ci_high": None,
                     "bayes_source": "generator",
                     "meets_target": str(low >= 0.95).lower(), "fit_seconds_mean": 1.0, "note": ""})
    return pd.DataFrame(rows)


def truth_file(root: Path, bayes: float = 0.958) -> str:
    path = root / "data" / "n9" / "truth.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"n": 9, "flip_rate": 0.0417, "informative": [0, 1, 2, 3, 4, 5],
                                "families": ["laplace"] * 6 + ["uniform"] * 3,
                                "bayes": {"accuracy": bayes, "ci_low": None, "ci_high": None,
                                          "source": "generator"}}))
    return str(path)


def test_models_context_counts_learned_models_and_judges_the_interval(tmp_path):
    inputs = {"summary": [write(tmp_path / "summary.csv", summary_frame())], "truth": [truth_file(tmp_path)]}
    context = pages.models_context(inputs, prepare_config({"dimensions": [9]}))
    # FSO passes but is oracle-assisted: only the MLP counts; its interval [0.9526, 0.9774] clears 0.95.
    assert context["learned_pairs"] == 1 and context["learned_passing_pairs"] == 1
    assert context["beaten_n"] == [9]
    best = context["best"][0]
    assert best["labels"] == ["LR with FSO"] and best["reaches"] is True
    gap = {(r["model"], r["n"]): r["gap"] for r in context["validation_gap"]}
    assert gap[("mlp", 9)] == pytest.approx(0.01) and gap[("fso_logreg", 9)] == pytest.approx(0.0)
    # The MLP alone, its interval now reaching below the target: the claim is not refuted.
    weak = summary_frame(mlp_tests=(0.93, 0.96, 0.99))
    inputs["summary"] = [write(tmp_path / "weak.csv", weak)]
    context = pages.models_context(inputs, prepare_config({"dimensions": [9]}))
    assert context["beaten_n"] == [] and context["learned_passing_pairs"] == 0


def test_secret_support_compares_with_the_truth_or_the_oracle(tmp_path):
    rows = [{"model": "parity_gf2", "n": 9, "repeat": r, "features": "0 1 2", "equals_truth": flag}
            for r, flag in ((0, "true"), (1, "false"))]
    context = pages.secret_support([write(tmp_path / "support.csv", pd.DataFrame(rows))])
    assert context == [{"label": "GF(2) parity", "n": 9, "rows": 2, "agree": 1,
                        "verdict": "equal to the generator's truth"}]
    published = [{"model": m, "n": 9, "repeat": 0, "features": f, "equals_truth": ""}
                 for m, f in (("parity_gf2", "0 1 2"), ("xor_oracle", "0 1 3"))]
    context = pages.secret_support([write(tmp_path / "published.csv", pd.DataFrame(published))])
    assert context[0]["agree"] == 0 and "XOR oracle" in context[0]["verdict"]


def carbon_frame(energy: float) -> pd.DataFrame:
    rows = []
    # Three phases one after another (no overlap): each is charged the machine's 20 W of RAM
    # for its 10 s, and its share of the package's CPU reading.
    phases = (("train", "mlp", 10.0, 20.0), ("inference", "mlp", 1.0, 1.0), ("attack", "mlp", 5.0, 10.0))
    for i, (stage, model, cpu_time, busy) in enumerate(phases):
        start = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(seconds=10 * i)
        rows.append({"stage": stage, "model": model, "n": 9, "repeat": None, "duration_s": 10.0,
                     "energy_kwh": energy, "cpu_energy_kwh": energy * 0.8, "ram_energy_kwh": energy * 0.2,
                     "emissions_kg": energy * 0.2, "cpu_power_w": 20.0, "ram_power_w": 10.0, "country": "GBR",
                     "measurement": "RAPL", "codecarbon_version": "3.3.2", "cpu_power_source": "rapl",
                     "tdp_w": None, "cpu_time_s": cpu_time, "machine_busy_s": busy,
                     "started_at": start.isoformat(),
                     "ended_at": (start + pd.Timedelta(seconds=10)).isoformat(),
                     "host": "h", "rss_mb": 100.0, "machine_cpus": 2, "machine_ram_power_w": 20.0,
                     "cpu_model": "x", "tdp_generic": False})
    return attribute(pd.DataFrame(rows))


def test_carbon_is_shared_out_and_totals_are_sums(tmp_path):
    table = carbon_frame(0.01)
    # train: half the package's busy time was this job's -> 0.004 of the 0.008 kWh CPU;
    # RAM: 20 W for 10 s = 200 J = 5.56e-5 kWh each.
    assert list(table["cpu_share"]) == [0.5, 1.0, 0.5]
    ram = 200 / 3.6e6
    assert table["attributed_energy_kwh"].tolist() == pytest.approx([0.004 + ram, 0.008 + ram, 0.004 + ram])
    assert table["attributed_emissions_kg"].tolist() == pytest.approx(
        [0.2 * (0.004 + ram), 0.2 * (0.008 + ram), 0.2 * (0.004 + ram)])
    context = pages.carbon_context({"carbon": [write(tmp_path / "carbon.csv", table)]})
    assert context["read_kwh"] == pytest.approx(0.03)
    assert context["energy_kwh"] == pytest.approx(0.016 + 3 * ram)
    assert context["cpu_kwh"] == pytest.approx(0.016) and context["ram_kwh"] == pytest.approx(3 * ram)
    assert context["cpu_measured"] is True and context["power_sources"] == {"rapl": 3}
    assert context["train_over_inference"] == pytest.approx((0.004 + ram) / (0.008 + ram))
    estimated = table.assign(cpu_power_source="tdp_cpu_load", tdp_w=65.0)
    context = pages.carbon_context({"carbon": [write(tmp_path / "estimated.csv", attribute(estimated))]})
    # 65 W x (10, 1, 5 CPU seconds) / 2 CPUs, each phase alone.
    assert context["cpu_measured"] is False
    assert context["cpu_kwh"] == pytest.approx(65 * 16 / 2 / 3.6e6)


# --------------------------------------------------------------------------- sentences follow the numbers


def render_all(root: Path, inputs: dict, config: dict) -> dict[str, str]:
    outputs = {page: root / "docs" / f"{page}.md" for page in pages.PAGES} | {"config": root / "config.yaml"}
    pages.render_pages(TEMPLATES, {**inputs, "figures": []}, outputs, config, logs_dir=root / "logs")
    return {page: outputs[page].read_text() for page in pages.PAGES}


def test_sentences_change_with_the_numbers(tmp_path):
    config = prepare_config({"dimensions": [9], "attacks": OFF})
    truth = truth_file(tmp_path)
    carbon = write(tmp_path / "carbon.csv", carbon_frame(0.01))
    adversarial = pd.DataFrame([
        {"model": "mlp", "n": 9, "repeat": 0, "scope": scope, "attack": "pgd", "bound": "upper", "eps": 0.5,
         "clean_acc": 0.96, "robust_acc": robust, "label_preserving_acc": robust, "points": 100,
         "label_preserving_points": 50} for scope, robust in (("all", 0.1), ("irrelevant", 0.96))])
    good = render_all(tmp_path / "good", {
        "summary": [write(tmp_path / "good.csv", summary_frame())], "truth": [truth], "carbon": [carbon],
        "adversarial": [write(tmp_path / "adv.csv", adversarial)]}, config)
    bad_summary = summary_frame(mlp_tests=(0.93, 0.96, 0.99), bayes=0.999)
    bad_adversarial = adversarial.assign(robust_acc=[0.1, 0.5])
    bad = render_all(tmp_path / "bad", {
        "summary": [write(tmp_path / "bad.csv", bad_summary)], "truth": [truth_file(tmp_path / "b", 0.999)],
        "carbon": [write(tmp_path / "carbon2.csv", carbon_frame(0.02))],
        "adversarial": [write(tmp_path / "adv2.csv", bad_adversarial)]}, config)
    # The answer: refuted with the MLP passing; not refuted when its interval reaches below the target.
    assert "**The claim does not hold.**" in good["index"]
    assert "1 of the 1 fitted (model, n) pairs that learn from the labels pass" in good["index"]
    assert "**The claim does not hold.**" not in bad["index"]
    assert "No model that learns from the labels met a target" in bad["index"]
    # An n the challenge published no target for bears on the claim neither way.
    no_target = summary_frame().assign(n=10, target=float("nan"), meets_target="")
    untargeted = render_all(tmp_path / "untargeted", {
        "summary": [write(tmp_path / "n10.csv", no_target)], "truth": [truth], "carbon": [carbon]},
        prepare_config({"dimensions": [10], "attacks": OFF}))
    assert "**The challenge published no target for any n of this run** (n = 10)" in untargeted["index"]
    assert "met a target" not in untargeted["index"] and "claim does not hold" not in untargeted["index"]
    assert "LR with FSO is\n*oracle-assisted*" in good["index"]
    # The Bayes limit: reached by the best model's interval, or not.
    assert "At n = 9 the 95 % interval of the best model's mean test accuracy reaches the Bayes limit" \
        in good["index"]
    assert "stays below the Bayes limit" in bad["index"]
    assert "0.9580" in good["secret"] and "0.9990" in bad["secret"]
    # Robustness: who keeps its accuracy when only irrelevant features are attacked.
    assert "they ignore them):\nMLP (n = 9)" in good["robustness"]
    assert "Losing accuracy when only the irrelevant features are attacked: MLP (n = 9)" in bad["robustness"]
    assert "≤ 0.1000 / 0.1000 of 50 (pgd)" in good["robustness"]
    # Sustainability: totals follow the table.
    totals = "| **total** | 3 | 30.0 s | {0} kWh | 1.7 × 10⁻⁴ kWh | {0} kWh | {1} kg CO₂eq | {2} kWh |"
    assert totals.format("0.016", "0.0032", "0.030") in good["sustainability"]
    assert totals.format("0.032", "0.0064", "0.060") in bad["sustainability"]
    assert "read from the CPU package's energy" in good["sustainability"]
    assert "Energy is measured" not in good["sustainability"] and "CodeCarbon measured" not in good["index"]


# --------------------------------------------------------------------------- the quick run


@pytest.mark.workflow
def test_quick_run_pages_match_the_result_files(quick_run):
    results = quick_run.directory / "results"
    docs = results / "report" / "docs"
    robustness = (docs / "robustness.md").read_text()
    adversarial = pd.read_csv(results / "adversarial.csv")
    assert set(adversarial["bound"]) == {"exact", "upper", "average"}
    summary = tables.attack_summary(adversarial)
    bounding = summary[summary["bound"].isin(["exact", "upper"])]
    at_max = bounding[bounding["eps"] == bounding["eps"].max()]
    for (model, n, scope), group in at_max.groupby(["model", "n", "scope"]):
        # The lowest bound; an exact row at that value wins the tie.
        worst = group.assign(_upper=group["bound"] != "exact").sort_values(["robust_acc", "_upper"]).iloc[0]
        mark = "=" if worst["bound"] == "exact" else "≤"
        preserving = pages.fmt_acc(worst["label_preserving_acc"])
        cell = (f"{mark} {worst['robust_acc']:.4f} / {preserving} of {worst['label_preserving_points']} "
                f"({worst['attack']})")
        line = next(x for x in robustness.splitlines()
                    if x.startswith(f"| {tables.MODEL_LABELS[model]} | {n} |"))
        assert cell in line, (model, n, scope, line)
    # The exact worst case of LR with FSO is at most every searched attack's at each (n, scope, eps).
    fso = summary[summary["model"] == "fso_logreg"]
    for _, group in fso.groupby(["n", "scope", "eps"]):
        exact = group.loc[group["attack"] == "exact", "robust_acc"].item()
        assert (exact <= group.loc[group["bound"] == "upper", "robust_acc"] + 1e-12).all()
    # The Sustainability page's numbers (and every other page's) are checked claim by claim by
    # tests/test_published.py against tests/page_claims.py.
    summary_csv = pd.read_csv(results / "summary.csv")
    index = (docs / "index.md").read_text()
    fitted = summary_csv[summary_csv["repeats"] > 0]
    for row in fitted.itertuples():
        interval = f"[{row.test_acc_ci_low:.4f}, {row.test_acc_ci_high:.4f}]"
        assert f"| {tables.MODEL_LABELS[row.model]} | {row.n} | {row.test_acc_mean:.4f} ± " \
               f"{row.test_acc_std:.4f} | {interval} |" in index
    assert set(summary_csv["bayes_source"].dropna()) == {"generator"}
