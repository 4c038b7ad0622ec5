"""The report: figures drawn from real result tables, pages whose numbers come from the results
(and that say so when a stage was not produced), and a strict, offline MkDocs build."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import REPO, WorkflowRun
from dryrun import planned

from kryptonite_n.compute.data import DATASET_KEYS, TARGETS, GeneratorSettings, generate, write_dataset
from kryptonite_n.compute.explore import explore_dataset
from kryptonite_n.io import DataError
from kryptonite_n.plan.config import prepare_config
from kryptonite_n.plan.paths import dataset_files
from kryptonite_n.report import figures, pages, site
from kryptonite_n.report.figures._shared import OKABE_ITO
from kryptonite_n.report.figures.models import draw_accuracy
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.summary import summarise

TEMPLATES = REPO / "docs" / "templates"
STATIC = {"embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
          "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
          "iframe_worker": REPO / "docs" / "static" / "javascripts" / "vendor" / "iframe-worker" / "shim.js"}
OFF = {"enabled": False}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """Two small generated datasets and their exploration tables, laid out as the workflow does."""
    root = tmp_path_factory.mktemp("report-study")
    for n in (9, 12):
        folder = root / "results" / "data" / f"n{n}"
        files = dataset_files(folder, n, DATASET_KEYS)
        write_dataset(generate(n, 5, GeneratorSettings(rows_per_feature=150, hidden_rows=200)), files)
        explore_dataset(files, n, {name: folder / f"{name}.csv"
                                    for name in ("features", "histograms", "correlation", "pca")},
                        histogram_bins=30, pca_points=300, seed=1)
    return root


def read_spec(script: Path, name: str) -> dict:
    """The Vega spec a figure's script registers under ``name``."""
    prefix = f'(window.kryptoniteSpecs = window.kryptoniteSpecs || {{}})["{name}"] = '
    text = script.read_text()
    assert text.startswith(prefix)
    return json.loads(text.removeprefix(prefix).rstrip().removesuffix(";"))


def inline_table(spec: dict) -> tuple[dict, pd.DataFrame]:
    """The one dataset a Vega spec carries inline (as CSV text), and its rows."""
    (data,) = [d for d in spec["data"] if isinstance(d.get("values"), str)]
    return data, pd.read_csv(io.StringIO(data["values"]))


def data_sources(root: Path) -> dict[str, list[str]]:
    folder = root / "results" / "data"
    sources = {key: [str(folder / f"n{n}" / f"{key}.csv") for n in (9, 12)]
               for key in ("features", "histograms", "correlation", "pca")}
    sources["truth"] = [str(folder / f"n{n}" / "truth.json") for n in (9, 12)]
    sources["X"] = [str(folder / f"n{n}" / f"kryptonite-{n}-X.npy") for n in (9, 12)]
    sources["y"] = [str(folder / f"n{n}" / f"kryptonite-{n}-y.npy") for n in (9, 12)]
    return sources


def study_config(**overrides) -> dict:
    """The study's full configuration (defaults filled) for the small datasets above."""
    return prepare_config({"dimensions": [9, 12], "seed": 5, "repeats": 3,
                           "generator": {"rows_per_feature": 150, "hidden_rows": 200}, **overrides})


def xor_oracle_metrics(root: Path) -> list[str]:
    """Per-n metrics tables of the XOR rule on the true informative bits, scored on seeded halves."""
    paths = []
    for n in (9, 12):
        folder = root / "results" / "data" / f"n{n}"
        X, y = np.load(folder / f"kryptonite-{n}-X.npy"), np.load(folder / f"kryptonite-{n}-y.npy")
        truth = json.loads((folder / "truth.json").read_text())
        predicted = np.bitwise_xor.reduce((X[:, truth["informative"]] > 0.5).astype(np.int64), axis=1)
        rows = []
        for repeat in range(3):
            test = np.random.default_rng(repeat).permutation(len(y))[: len(y) // 2]
            rows.append({"model": "xor_oracle", "n": n, "repeat": repeat,
                         "validation_acc": float(np.mean(predicted[test] == y[test])),
                         "test_acc": float(np.mean(predicted[test] == y[test])),
                         "whole_set_acc": float(np.mean(predicted == y)), "hidden_acc": None})
        path = root / "results" / "models" / "xor_oracle" / f"n{n}" / "metrics.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(path, index=False)
        paths.append(str(path))
    return paths


# --------------------------------------------------------------------------- tables


def test_paths_name_their_n_and_repeat():
    assert tables.n_of("results/data/n12/features.csv") == 12
    assert tables.n_of("results/decision_boundary/n45.csv") == 45
    assert tables.repeat_of("results/models/mlp/n9/repeat3/history.csv") == 3
    with pytest.raises(DataError, match=r"results/summary\.csv"):
        tables.n_of("results/summary.csv")


def test_a_missing_column_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "adversarial.csv"
    pd.DataFrame({"model": ["mlp"], "n": [9]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"adversarial\.csv: missing column\(s\) eps"):
        tables.read_table(path, ["model", "n", "eps"])
    with pytest.raises(DataError, match="file not found"):
        tables.read_table(tmp_path / "absent.csv")


def test_headline_from_fits_and_from_the_summary_stage_agree(study):
    sources = data_sources(study)
    metric_paths = xor_oracle_metrics(study)
    metrics = tables.read_tables(metric_paths, tables.METRIC_COLUMNS)
    truths = tables.read_truths(sources["truth"])
    from_fits = tables.headline_table([], metric_paths, sources["truth"])
    for row in from_fits.itertuples():
        accuracies = metrics[metrics["n"] == row.n]["test_acc"]
        assert row.test_mean == pytest.approx(accuracies.mean())
        assert row.test_std == pytest.approx(accuracies.std(ddof=1))
        # The generator's exact limit: a little below 1 - p (noise crossing 0.5).
        assert row.bayes == pytest.approx(truths[row.n]["bayes"]["accuracy"])
        assert 0 < 1 - truths[row.n]["flip_rate"] - row.bayes < 1e-3
        assert row.target == TARGETS[row.n]
        # The repeats re-split one set 60/20/20: Nadeau and Bengio's corrected resampled t.
        count = len(accuracies)
        half = scipy.stats.t.ppf(0.975, count - 1) * (accuracies.var(ddof=1) * (1 / count + 0.2 / 0.6)) ** 0.5
        assert row.test_low == pytest.approx(max(0.0, accuracies.mean() - half))
        assert row.ci_method == "corrected_resampled_t"
        assert row.passes == (row.test_low >= TARGETS[row.n])
    summary_csv = study / "summary.csv"
    summarise(metrics, truths, [{"model": "poly_logreg", "n": 12, "note": "not run: too many monomials"}],
              test_over_train=0.2 / 0.6).to_csv(summary_csv, index=False)
    from_summary = tables.headline_table([summary_csv], metric_paths, sources["truth"])
    fitted = from_summary[from_summary["test_mean"].notna()].reset_index(drop=True)
    columns = ["model", "n", "test_mean", "test_std", "test_low", "test_high", "ci_method", "target", "bayes",
               "bayes_source", "passes"]
    pd.testing.assert_frame_equal(fitted[columns], from_fits[columns], check_dtype=False)
    skipped = from_summary[from_summary["test_mean"].isna()]
    assert skipped[["model", "n", "note"]].values.tolist() == [
        ["poly_logreg", 12, "not run: too many monomials"]]


# --------------------------------------------------------------------------- figures


def test_the_xor_slice_makes_the_label_the_xor_of_two_features(study):
    folder = study / "results" / "data" / "n12"
    X, y = np.load(folder / "kryptonite-12-X.npy"), np.load(folder / "kryptonite-12-y.npy")
    informative = json.loads((folder / "truth.json").read_text())["informative"]
    frame = figures.xor_slice(X, y, informative, max_points=10_000)
    bits = (X > 0.5).astype(np.int64)
    rows = frame["row"].to_numpy()
    assert (np.bitwise_xor.reduce(bits[rows][:, informative[2:]], axis=1) == 0).all()
    on_slice = (bits[rows, informative[0]] ^ bits[rows, informative[1]]) != y[rows]
    everywhere = np.bitwise_xor.reduce(bits[rows][:, informative], axis=1) != y[rows]
    # On the slice, the two-feature XOR is wrong exactly where the full parity is (the flips).
    np.testing.assert_array_equal(on_slice, everywhere)
    assert len(frame) == len(np.flatnonzero(np.bitwise_xor.reduce(bits[:, informative[2:]], axis=1) == 0))


def test_data_figures_are_specs_with_their_data_and_an_n_selector(study, tmp_path):
    sources = data_sources(study)
    names = figures.figure_names("data", sources)
    assert names == ["data_histograms", "data_correlation", "data_pca", "data_xor_slice"]
    outputs = {}
    for name in names:
        outputs[name], outputs[f"{name}_svg"] = tmp_path / f"{name}.js", tmp_path / f"{name}.svg"
        outputs[f"{name}_csv"] = tmp_path / f"{name}.csv"
    drawn = figures.draw_family("data", figures.family_inputs("data", sources), outputs)
    assert drawn == names
    histograms = pd.concat([pd.read_csv(p).assign(n=tables.n_of(p)) for p in sources["histograms"]])
    specs = {}
    for name in names:
        # The spec ships once, compiled to Vega, as a script registering it by name (also works
        # from file://).
        specs[name] = spec = read_spec(outputs[name], name)
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega/v6")
        (selector,) = [s for s in spec["signals"] if s["name"] == "n_choice"]
        assert selector["bind"]["options"] == [9, 12]
        assert outputs[f"{name}_svg"].read_text().lstrip().startswith("<svg")
        assert "n = 9 and 12" in spec["description"], spec["description"]
        # Categories in Okabe & Ito's palette, told apart with colour-vision deficiencies.
        assert spec["config"]["range"]["category"] == OKABE_ITO
        assert not outputs[name].with_suffix(".json").exists()
    reference, table = inline_table(specs["data_histograms"])  # inlined as CSV text, parsed by Vega
    rows = table.to_dict("records")
    assert len(rows) == len(histograms)
    assert reference["format"]["type"] == "csv"
    numbers = {t["as"] for d in specs["data_histograms"]["data"] if d.get("source") == reference["name"]
               for t in d.get("transform", []) if t.get("expr", "").startswith("toNumber(")}
    assert {"pmf", "value", "n"} <= numbers
    assert {(r["n"], r["feature"], r["family"]) for r in rows} == set(
        zip(histograms["n"], histograms["feature"], histograms["family"], strict=True))
    # The CSV beside the figure holds exactly the rows the chart draws.
    csv = pd.read_csv(outputs["data_histograms_csv"])
    pd.testing.assert_frame_equal(csv, pd.DataFrame(rows)[csv.columns], check_dtype=False)
    features = pd.concat([pd.read_csv(p) for p in sources["features"]])
    described = specs["data_histograms"]["description"]
    assert described.startswith(f"Histograms of the values of {len(features)} features")
    # The slice's description quotes how often the label is the XOR of the two drawn bits.
    _, points = inline_table(specs["data_xor_slice"])
    agree = (((points["x_a"] > 0.5) ^ (points["x_b"] > 0.5)) == (points["label"] == 1)).mean()
    assert f"in {agree:.1%} of the rows shown" in specs["data_xor_slice"]["description"]


def test_a_family_without_its_stage_draws_nothing():
    assert figures.figure_names("robustness", {"adversarial": [], "network": []}) == []
    assert figures.figure_names("carbon", {}) == []
    assert figures.figure_names("models", {"metrics": ["m.csv"], "truth": ["t.json"]}) == ["models_accuracy"]


def test_decision_boundaries_need_a_probability(tmp_path):
    path = tmp_path / "n9.csv"
    pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "score": [0.1, 0.9]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"n9\.csv: no probability column"):
        figures.boundary_table([path])
    pd.DataFrame({"n": 9, "model": ["mlp", "mlp", "xor_oracle"], "activation": ["relu", "relu", None],
                  "x": [0.0, 1.0, 0.0], "y": [0.0, 1.0, 0.0], "probability": [0.2, 0.8, 1.0]}
                 ).to_csv(path, index=False)
    grid = figures.boundary_table([path])
    assert sorted(set(grid["panel"])) == ["MLP relu", "XOR oracle"]


# --------------------------------------------------------------------------- pages and site


def render(root: Path, sources: dict[str, list[str]], figure_paths: list[str],
           config: dict) -> dict[str, Path]:
    docs = root / "docs"
    outputs = {page: docs / f"{page}.md" for page in pages.PAGES} | {"config": root / "config.yaml"}
    pages.render_pages(TEMPLATES, {**sources, "figures": figure_paths}, outputs, config,
                       logs_dir=root / "logs")
    return outputs


def test_pages_quote_the_results_and_name_what_was_not_produced(study, tmp_path):
    sources = data_sources(study) | {"metrics": xor_oracle_metrics(study)}
    outputs = render(tmp_path, sources, [], study_config(attacks=OFF, carbon=OFF))
    text = {page: outputs[page].read_text() for page in pages.PAGES}
    headline = tables.headline_table([], sources["metrics"], sources["truth"])
    for row in headline.itertuples():
        line = (f"| XOR oracle | {row.n} | {row.test_mean:.4f} ± {row.test_std:.4f} | "
                f"[{row.test_low:.4f}, {row.test_high:.4f}] | — | "
                f"{row.target:.3f} | {row.bayes:.4f} | {'**pass**' if row.passes else 'fail'} |")
        assert line in text["index"]
    for page in ("robustness", "sustainability"):
        assert "Not produced in this run" in text[page]
    assert "Not produced in this run" in text["data"]  # no figure was drawn
    assert 'class="vega-chart"' not in "".join(text.values())
    families = pd.read_csv(sources["features"][0])["family"].value_counts()
    counts = f"{families['uniform']} | {families['laplace']} | {families['gaussian']}"
    assert f"| 9 | {150 * 9} | {counts} |" in text["data"]
    assert "seed: 5" in text["reproducibility"]


def test_the_site_builds_strictly_and_offline(study, tmp_path):
    sources = data_sources(study) | {"metrics": xor_oracle_metrics(study)}
    docs = tmp_path / "docs"
    drawn = []
    for family in ("data", "models"):
        outputs = {}
        for name in figures.figure_names(family, sources):
            outputs[name] = docs / "figures" / f"{name}.js"
            outputs[f"{name}_svg"] = docs / "figures" / f"{name}.svg"
            outputs[f"{name}_csv"] = docs / "figures" / f"{name}.csv"
        drawn += [str(outputs[n]) for n in figures.draw_family(family, figures.family_inputs(family, sources),
                                                                    outputs)]
    render(tmp_path, sources, drawn, study_config())
    site.prepare_assets(STATIC, {"bundle": docs / site.BUNDLE, "embed": docs / "javascripts" / "embed.js",
                                 "style": docs / "stylesheets" / "report.css",
                                 "iframe_worker": docs / "javascripts" / "vendor" / "iframe-worker"
                                 / "shim.js"})
    outputs = {"site": tmp_path / "site", "config": tmp_path / "mkdocs.yml"}
    (docs / "figures" / "stale.json").write_text("{}")  # left by an earlier run: not shipped
    documents = [p for p in docs.rglob("*") if p.is_file() and p.name != "stale.json"]
    site.build_site(REPO / "mkdocs.yml", docs, documents, outputs)
    assert not (tmp_path / "site" / "figures" / "stale.json").exists()
    built = {p.name for p in (tmp_path / "site").glob("*.html")}
    assert {f"{page}.html" for page in pages.PAGES} <= built
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'data-spec="figures/models_accuracy.js"' in index
    assert 'href="figures/models_accuracy.csv"' in index
    for kind in ("js", "svg", "csv"):
        assert (tmp_path / "site" / "figures" / f"models_accuracy.{kind}").exists()
    assert not list((tmp_path / "site" / "figures").glob("*.json"))  # each spec ships once
    # Search from disk: the index as a script, the worker shim vendored, not from unpkg.com.
    assert (tmp_path / "site" / "search" / "search_index.js").exists()
    assert 'src="javascripts/vendor/iframe-worker/shim.js"' in index
    assert "unpkg.com" not in index
    # What no page loads is not shipped: source maps, other languages' stemmers.
    assert not list((tmp_path / "site").rglob("*.map"))
    assert not (tmp_path / "site" / "assets" / "javascripts" / "lunr" / "wordcut.js").exists()
    assert (tmp_path / "site" / "assets" / "javascripts" / "workers").is_dir()
    # Every script and stylesheet comes from the site itself; no web font is asked for.
    for page in built:
        html = (tmp_path / "site" / page).read_text()
        for url in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", url), (page, url)
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    assert 'vegaEmbed' in (tmp_path / "site" / site.BUNDLE).read_text()
    assert str((tmp_path / "site").resolve()) in outputs["config"].read_text()


# --------------------------------------------------------------------------- bounds, intervals, choices


def attack_table(root: Path) -> str:
    """adversarial.csv of two repeats at n = 9, scope all, eps 0 and 0.5: the MLP's gradient
    attacks, the XOR oracle's exact worst case, and uniform noise for both (never a bound)."""
    rows = []
    scores = {("mlp", "fgsm"): 0.2, ("mlp", "pgd"): 0.0, ("mlp", "uniform"): 0.81,
              ("xor_oracle", "exact"): 0.02, ("xor_oracle", "uniform"): 0.95}
    for (model, attack), robust in scores.items():
        for repeat, kept in ((0, 3), (1, 1)):
            for eps in (0.0, 0.5):
                rows.append({"model": model, "n": 9, "repeat": repeat, "scope": "all", "attack": attack,
                             "bound": {"exact": "exact", "uniform": "average"}.get(attack, "upper"),
                             "eps": eps, "clean_acc": 0.96, "robust_acc": 0.96 if eps == 0 else robust,
                             "label_preserving_acc": 0.96 if eps == 0 else 1.0,
                             "points": 100, "label_preserving_points": 100 if eps == 0 else kept})
    path = root / "adversarial.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_attack_charts_say_what_kind_of_bound_each_number_is(tmp_path):
    sources = {"adversarial": [attack_table(tmp_path)]}
    names = figures.figure_names("robustness", sources)
    assert names == ["robustness_attacks"]
    outputs = {"robustness_attacks": tmp_path / "a.js", "robustness_attacks_svg": tmp_path / "a.svg",
               "robustness_attacks_csv": tmp_path / "a.csv"}
    figures.draw_family("robustness", figures.family_inputs("robustness", sources), outputs)
    csv = pd.read_csv(outputs["robustness_attacks_csv"])
    # The figure's CSV and its panels carry the kind of each number.
    kinds = csv.drop_duplicates(["attack", "bound", "panel"]).set_index("attack")
    assert kinds["bound"].to_dict() == {"exact": "exact", "fgsm": "upper", "pgd": "upper",
                                        "uniform": "average"}
    assert kinds["panel"].to_dict() == {"exact": "exact (exact worst case)", "fgsm": "fgsm (upper bound)",
                                        "pgd": "pgd (upper bound)",
                                        "uniform": "uniform (average over noise draws)"}
    spec = read_spec(outputs["robustness_attacks"], "robustness_attacks")
    description = spec["description"]
    assert "fgsm (upper bound)" in description and "uniform (average over noise draws)" in description
    # Attacks and noise are never ranked as one accuracy: PGD's 0.000 is set against the
    # oracle's exact 0.020, the noise averages (0.810, 0.950) only against each other.
    bounds, noise = description.split("the best bound on the worst-case accuracy ranges from ")[1].split("; ")
    assert bounds.startswith("0.000 (MLP, pgd, n = 9) to 0.020 (XOR oracle, exact, n = 9)")
    assert "uniform" not in bounds
    assert noise.startswith("the average accuracy under random noise (not a bound) ranges from 0.810")
    # Label-preserving points are pooled over repeats (3 + 1): too few to draw a number.
    preserving = csv[(csv["variant"] == "label-preserving only") & (csv["eps"] == 0.5)]
    assert (preserving["points"] == 4).all() and preserving["accuracy"].isna().all()
    drawn = csv[(csv["variant"] == "all perturbations") & (csv["eps"] == 0.5)]
    assert (drawn["points"] == 200).all()


def test_the_worst_case_table_names_bounds_and_point_counts(study, tmp_path):
    sources = data_sources(study) | {"adversarial": [attack_table(tmp_path)]}
    text = render(tmp_path, sources, [], study_config(carbon=OFF))["robustness"].read_text()
    # 4 label-preserving points over both repeats: a count, no number (it would read 1.0000).
    assert "| MLP | 9 | 0.9600 | ≤ 0.0000 / — of 4 (pgd) | — | — |" in text
    assert "| XOR oracle | 9 | 0.9600 | = 0.0200 / — of 4 (exact) | — | — |" in text
    assert "an average is not a bound" in text


def summary_and_metrics(root: Path, tests: dict[str, list[float]], truth: list[str]) -> dict[str, list[str]]:
    """Per-model metrics tables at n = 9 (validation 0.01 above test) and their summary.csv."""
    paths = []
    for model, scores in tests.items():
        path = root / "models" / model / "n9" / "metrics.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"model": model, "n": 9, "repeat": range(len(scores)), "test_acc": scores,
                      "validation_acc": [v + 0.01 for v in scores], "whole_set_acc": scores,
                      "hidden_acc": scores}).to_csv(path, index=False)
        paths.append(str(path))
    metrics = tables.read_tables(paths)
    summary = root / "summary.csv"
    summarise(metrics, tables.read_truths(truth[:1]), test_over_train=0.2 / 0.6).to_csv(summary, index=False)
    return {"metrics": paths, "summary": [str(summary)]}


def test_best_model_lists_every_model_whose_interval_overlaps_the_best(study, tmp_path):
    truth = data_sources(study)["truth"][:1]
    # LR with FSO has the best mean; the MLP's interval reaches into FSO's; polynomial LR's does not.
    sources = summary_and_metrics(tmp_path, {"fso_logreg": [0.975, 0.976, 0.977],
                                             "mlp": [0.96, 0.97, 0.975],
                                             "poly_logreg": [0.90, 0.905, 0.91]}, truth) | {"truth": truth}
    context = pages.models_context(sources, study_config(dimensions=[9]))
    (best,) = context["best"]
    assert best["labels"] == ["LR with FSO", "MLP"] and best["best_label"] == "LR with FSO"
    text = render(tmp_path, sources, [], study_config(dimensions=[9], attacks=OFF, carbon=OFF))
    assert "| 9 | LR with FSO, MLP | 0.9760 [" in text["index"].read_text()
    drawing = draw_accuracy({"summary": sources["summary"], "metrics": sources["metrics"], "truth": truth})
    assert "LR with FSO and MLP (tied) at every n" in drawing.description
    assert "1 − flip rate" not in drawing.description


def test_models_page_says_which_interval_and_where_the_labels_come_from(study, tmp_path):
    truth = data_sources(study)["truth"][:1]
    sources = summary_and_metrics(tmp_path, {"fso_logreg": [0.975, 0.976, 0.977],
                                             "mlp": [0.96, 0.97, 0.975]}, truth) | {"truth": truth}
    models = render(tmp_path, sources, [], study_config(dimensions=[9], attacks=OFF, carbon=OFF))["models"]
    text = models.read_text()
    words = " ".join(text.split())
    assert "corrected resampled t interval of Nadeau and Bengio" in words and "1/J + 0.333" in words
    assert "with 3 repeats the interval is 1.4 times as wide as the plain t interval" in words
    # LR with FSO (best validation) supplies the labels: the page says it is oracle-assisted.
    assert "| 9 | LR with FSO | the noise shapes (oracle-assisted) | 2 | 0.9870 | 0.9770 | +0.0100 |" in text
    assert "At n = 9 the submitted labels come from an oracle-assisted model (LR with FSO)" in words
    assert "shows the size of that bias" not in text and "%of" not in text


# --------------------------------------------------------------------------- workflow


def test_a_disabled_stage_leaves_its_figures_out_of_the_plan(tmp_path):
    run = WorkflowRun(tmp_path, REPO / "config" / "quick.yaml")
    jobs = planned(run, "--config", "attacks={enabled: false}", "network_analysis={enabled: false}",
                   "carbon={enabled: false}")
    rules = {job.rule for job in jobs.values()}
    assert {"draw_data_figures", "draw_models_figures", "render_pages", "build_site"} <= rules
    assert "draw_robustness_figures" not in rules
    assert "attack_model" not in rules


def test_the_quick_run_builds_the_site(quick_run):
    site_dir = quick_run.directory / "site"
    for page in pages.PAGES:
        assert (site_dir / f"{page}.html").exists()
    svg = (site_dir / "figures" / "rulegraph.svg").read_text()
    assert "fit_mlp" in svg and "build_site" in svg
    report_carbon = pd.read_csv(quick_run.directory / "results" / "carbon" / "report.csv")
    assert set(report_carbon["stage"]) == {"report"}
    carbon = pd.read_csv(quick_run.directory / "results" / "carbon.csv")
    assert "report" not in set(carbon["stage"])


def test_stage_times_are_exact_sums_whatever_the_order(tmp_path):
    # Seen in a quick run: these benchmark seconds sum to 6.95 exactly, and a float sum in one
    # order gave 6.949999… ("6.9 s") while another gave "7.0 s"; the page must not depend on it.
    seconds = [2.13, 0.74, 0.74, 1.95, 0.71, 0.68]
    for order in (seconds, seconds[::-1], sorted(seconds)):
        runtimes = tmp_path / "runtimes.csv"
        pd.DataFrame({"job": [f"data/job{i}" for i in range(len(order))], "stage": "data",
                      "s": order}).to_csv(runtimes, index=False)
        context = pages.reproducibility_context({"runtimes": [str(runtimes)]}, tmp_path)
        assert [pages.fmt_seconds(row["s"]) for row in context["by_stage"]] == ["7.0 s"]
        assert pages.fmt_seconds(context["job_seconds"]) == "7.0 s"
