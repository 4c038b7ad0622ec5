"""Every number on the report's pages, accounted for: the table of page claims -> source columns.

A page is split into its Markdown tables and its prose (fenced code blocks are the run's
configuration, quoted verbatim, and are not claims). A *number* is any token with a decimal
point (``0.9553``, ``12.5 s``, ``3.1 × 10⁻⁵``); integers (n, counts, repeats) are not checked here.

* ``TABLES``: a table, found by its header, whose rows are keyed by some cells; each listed
  column must equal the value the claim computes from the result file named, formatted as the
  page formats it. A cell holding a number in a column no claim lists is unaccounted.
* ``TEXT``: a sentence pattern whose groups are numbers computed from a result file.
* ``ALLOWED``: literal numbers of the prose that come from no result (the challenge's rules,
  thresholds of the method), each with the words around it.

``unaccounted`` returns every number on a page that none of these explains; the test fails on
any. When a page's wording changes, its claim stops matching and its numbers become
unaccounted: update the pattern here (or the table's header), never widen ``ALLOWED`` to a
number that comes from a result file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kryptonite_n.report import pages as fmt
from kryptonite_n.tables.results import MODEL_LABELS

NUMBER = re.compile(r"(?<![\w.])[-+−]?\d[\d,]*\.\d+(?:\.\d+)*")
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)


def acc(value: object, digits: int = 4) -> str:
    return fmt.fmt_acc(value, digits)


def label(model: str) -> str:
    return MODEL_LABELS.get(model, model)


# --------------------------------------------------------------------------- parsing


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    start: int
    end: int


def split_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def find_tables(text: str) -> list[Table]:
    found, lines, offset = [], text.splitlines(keepends=True), 0
    starts = []
    for line in lines:
        starts.append(offset)
        offset += len(line)
    i = 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and re.match(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$", lines[i + 1]):
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            found.append(
                Table(
                    split_cells(lines[i]),
                    [split_cells(x) for x in lines[i + 2 : j]],
                    starts[i],
                    starts[j - 1] + len(lines[j - 1]),
                )
            )
            i = j
        else:
            i += 1
    return found


# --------------------------------------------------------------------------- claims


Results = Path  # the run's folder (holding results/ and logs/)


@dataclass(frozen=True)
class TableClaim:
    """Rows of the table on ``page`` whose header starts with ``header``.

    ``expected(run)`` maps each row's key (the cells of ``key`` columns, as printed) to the
    cells it must show, by column name (as printed): computed from the result file.
    """

    page: str
    header: tuple[str, ...]
    key: tuple[str, ...]
    expected: Callable[[Results], dict[tuple[str, ...], dict[str, str]]]
    source: str
    #: Whether every row of the source must be on the page (False: the page shows a selection).
    all_rows: bool = True
    #: A table the page repeats under headings (one per n): the pattern of those headings, whose
    #: group, the last above the table, is the first part of each row's key.
    section: str | None = None


@dataclass(frozen=True)
class TextClaim:
    """A sentence of ``page``: ``pattern``'s groups must equal ``expected(run)`` (one string per group).

    A pattern with a group named ``key`` (e.g. the n a number is quoted for) gets from
    ``expected(run)`` a dict: key -> the strings of the other groups. So does one with a
    ``section`` (the pattern of the headings the sentence is repeated under, one per n): its
    key is the group of the last heading above the sentence.
    """

    page: str
    pattern: str
    expected: Callable[[Results], list[str]]
    source: str
    required: bool = True
    section: str | None = None


@dataclass
class Report:
    unaccounted: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def section_of(text: str, position: int, pattern: str) -> str | None:
    """The group of the last heading matching ``pattern`` above ``position``."""
    found = [m.group(1) for m in re.finditer(pattern, text[:position], flags=re.MULTILINE)]
    return found[-1] if found else None


def check_page(
    page: str,
    text: str,
    run: Results,
    table_claims: list[TableClaim],
    text_claims: list[TextClaim],
    allowed: list[str],
) -> Report:
    report = Report()
    covered: list[tuple[int, int]] = [m.span() for m in FENCE.finditer(text)]
    for table in find_tables(text):
        claim = next(
            (c for c in table_claims if c.page == page and tuple(table.header[: len(c.header)]) == c.header),
            None,
        )
        if claim is None:
            for row in table.rows:
                for cell in row:
                    for token in NUMBER.findall(cell):
                        report.unaccounted.append(f"{page}: table {table.header}: {token} in {row}")
            covered.append((table.start, table.end))
            continue
        expected = claim.expected(run)
        prefix: tuple[str | None, ...] = ()
        if claim.section:
            prefix = (section_of(text, table.start, claim.section),)
            expected = {k: v for k, v in expected.items() if k[:1] == prefix}
        index = {name: i for i, name in enumerate(table.header)}
        seen = set()
        for row in table.rows:
            key = prefix + tuple(row[index[k]] for k in claim.key)
            seen.add(key)
            want = expected.get(key)
            if want is None:
                report.wrong.append(
                    f"{page}: table {claim.header}: row {key} has no source row in {claim.source}"
                )
                continue
            for name, cell in zip(table.header, row, strict=False):
                if name in want:
                    if cell != want[name]:
                        report.wrong.append(
                            f"{page}: table {claim.header} row {key} column {name!r}: "
                            f"page {cell!r}, {claim.source} {want[name]!r}"
                        )
                elif NUMBER.search(cell) and name not in claim.key:
                    report.unaccounted.append(f"{page}: table {claim.header} column {name!r}: {cell}")
        missing = set(expected) - seen
        if missing and claim.all_rows:
            report.wrong.append(
                f"{page}: table {claim.header}: rows {sorted(missing)} of {claim.source} are not on the page"
            )
        covered.append((table.start, table.end))
    for claim in (c for c in text_claims if c.page == page):
        matches = list(re.finditer(claim.pattern, text))
        if claim.required and not matches:
            report.wrong.append(f"{page}: no sentence matches the claim {claim.pattern!r} ({claim.source})")
        want = claim.expected(run) if matches else []
        for match in matches:
            found = list(match.groups())
            if "key" in match.groupdict() or claim.section:
                if "key" in match.groupdict():
                    key = match.group("key").strip()
                    found = [g for i, g in enumerate(match.groups(), 1) if i != match.re.groupindex["key"]]
                else:
                    key = section_of(text, match.start(), claim.section)
                if key not in want:
                    report.wrong.append(f"{page}: {match.group(0)!r}: {key} is not in {claim.source}")
                    continue
                expected_groups = want[key]
            else:
                expected_groups = want
            if found != expected_groups:
                report.wrong.append(
                    f"{page}: {match.group(0)!r}: page {found}, {claim.source} {expected_groups}"
                )
            covered.append(match.span())
    for phrase in allowed:
        covered += [m.span() for m in re.finditer(phrase, text)]
    for match in NUMBER.finditer(text):
        if not any(start <= match.start() and match.end() <= end for start, end in covered):
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            report.unaccounted.append(
                f"{page}: {match.group(0)} in {text[line_start:line_end].strip()[:160]!r}"
            )
    return report


def read(run: Results, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / name)


# --------------------------------------------------------------------------- the sources


def summary(run: Results) -> pd.DataFrame:
    return read(run, "summary.csv")


def fitted(run: Results) -> pd.DataFrame:
    table = summary(run)
    return table[table["repeats"] > 0]


def ci(value: object, low: object, high: object) -> str:
    return acc(value) + ("" if fmt._missing(low) or fmt._missing(high) else f" [{acc(low)}, {acc(high)}]")


def interval(low: object, high: object) -> str:
    return "—" if fmt._missing(low) or fmt._missing(high) else f"[{acc(low)}, {acc(high)}]"


def best_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per n: the best mean test accuracy (summary.csv ``test_acc_mean``) and the models whose
    interval reaches the best one's low end."""
    rows = {}
    for n, group in fitted(run).groupby("n", sort=True):
        group = group.reset_index(drop=True)
        best = group.loc[group["test_acc_mean"].idxmax()]
        tied = group[
            (group["test_acc_mean"] == best["test_acc_mean"])
            | (group["test_acc_ci_high"] >= best["test_acc_ci_low"])
        ]
        tied = tied.iloc[(-tied["test_acc_mean"]).argsort(kind="stable")]
        rows[(str(n),)] = {
            "best model, and models tied with it": ", ".join(label(m) for m in tied["model"]),
            "best mean test accuracy (95 % interval)": ci(
                best["test_acc_mean"], best["test_acc_ci_low"], best["test_acc_ci_high"]
            ),
            "target": acc(best["target"], 3),
            "Bayes limit": ci(best["bayes_acc"], best["bayes_ci_low"], best["bayes_ci_high"]),
        }
    return rows


def verdict(flag: object) -> str:
    if fmt._missing(flag) or str(flag) == "":
        return "no target"
    return "**pass**" if str(flag).lower() == "true" else "fail"


def headline_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    rows = {}
    for row in summary(run).itertuples():
        key = (label(row.model), str(row.n))
        common = {"target": acc(row.target, 3), "Bayes limit": acc(row.bayes_acc)}
        if row.repeats > 0:
            std = "" if fmt._missing(row.test_acc_std) else f" ± {acc(row.test_acc_std)}"
            rows[key] = {
                **common,
                "test accuracy": acc(row.test_acc_mean) + std,
                "95 % interval": interval(row.test_acc_ci_low, row.test_acc_ci_high),
                "hidden set": acc(row.hidden_acc_mean),
                "met": verdict(row.meets_target),
            }
        else:
            rows[key] = {**common, "test accuracy": "not run", "95 % interval": "—", "hidden set": "—"}
    return rows


def secret_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    rows = {}
    for row in fitted(run).itertuples():
        std = "" if fmt._missing(row.test_acc_std) else f" ± {acc(row.test_acc_std)}"
        reaches = (
            "—"
            if fmt._missing(row.test_acc_ci_high)
            else ("yes" if row.test_acc_ci_high >= row.bayes_acc else "no")
        )
        rows[(label(row.model), str(row.n))] = {
            "interval reaches it": reaches,
            "test accuracy": acc(row.test_acc_mean) + std,
            "95 % interval": interval(row.test_acc_ci_low, row.test_acc_ci_high),
            "whole labelled set": acc(row.whole_set_acc),
            "hidden set": acc(row.hidden_acc_mean),
            "Bayes limit": ci(row.bayes_acc, row.bayes_ci_low, row.bayes_ci_high),
        }
    return rows


def choice_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """The submitted hidden labels' source (choice.csv) and the chosen repeat's metrics.json."""
    import json

    rows = {}
    for row in read(run, "hiddenlabels/choice.csv").itertuples():
        metrics = json.loads(
            (
                run / "results" / "models" / row.model / f"n{row.n}" / f"repeat{row.repeat}" / "metrics.json"
            ).read_text()
        )
        rows[(str(row.n),)] = {
            "model": label(row.model),
            "repeat": str(row.repeat),
            "validation (chose it)": acc(row.validation_acc),
            "test (judges it)": acc(metrics["test_acc"]),
            "optimism": f"{row.validation_acc - metrics['test_acc']:+.4f}",
            "hidden set": acc(row.hidden_acc),
            "probabilities": (f"`y_probability_{row.n}.npy`"
                              if (run / "results" / "hiddenlabels" / f"y_probability_{row.n}.npy").exists()
                              else "labels only"),
        }
    return rows


# --- calibration and ensembles: recomputed here from the saved probabilities and labels


def _repeat_files(run: Results, model: str, n: int, name: str) -> list[Path]:
    folder = run / "results" / "models" / model / f"n{n}"
    return sorted(folder.glob(f"repeat*/{name}"), key=lambda p: int(p.parent.name.removeprefix("repeat")))


def _applicable(run: Results, model: str, n: int) -> list[int]:
    """The repeats of (model, n) whose model applied to the data (a test accuracy of its own)."""
    table = pd.read_csv(run / "results" / "models" / model / f"n{n}" / "metrics.csv")
    return sorted(int(r) for r in table.loc[table["test_acc"].notna(), "repeat"])


def _fits_with(run: Results, name: str) -> list[tuple[str, int]]:
    found = {(p.parts[-4], int(p.parts[-3].removeprefix("n")))
             for p in (run / "results" / "models").glob(f"*/n*/repeat*/{name}")}
    return sorted(found)


def ece_by_hand(p: object, y: object, binning: str, bins: int = 15) -> float:
    """The expected calibration error as the page defines it, typed here."""
    import numpy as np

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if binning == "uniform":
        index = np.minimum((p * bins).astype(int), bins - 1)
    else:
        index = np.empty(len(p), dtype=int)
        for b, rows in enumerate(np.array_split(np.argsort(p, kind="stable"), bins)):
            index[rows] = b
    return sum(abs(y[index == b].mean() - p[index == b].mean()) * np.sum(index == b)
               for b in np.unique(index)) / len(p)


def calibration_scores(run: Results) -> dict[tuple[str, int], dict[str, float]]:
    """Per (model, n) with test probabilities: the means over its applicable repeats of accuracy,
    Brier score, log loss and both ECEs, from the probability, split and label files."""
    import numpy as np

    scores = {}
    for model, n in _fits_with(run, "test_probabilities.npy"):
        y = np.load(run / "results" / "data" / f"n{n}" / f"kryptonite-{n}-y.npy")
        per_repeat = []
        for repeat in _applicable(run, model, n):
            roles = np.load(run / "results" / "data" / f"n{n}" / "splits" / f"repeat{repeat}.npy")
            truth = y[roles == 2]
            p = np.load(run / "results" / "models" / model / f"n{n}" / f"repeat{repeat}"
                        / "test_probabilities.npy")
            # log loss as scikit-learn clips it: to the float64 machine epsilon
            clipped = np.clip(p, np.finfo(float).eps, 1 - np.finfo(float).eps)
            per_repeat.append({
                "accuracy": np.mean((p > 0.5) == (truth == 1)), "brier": np.mean((p - truth) ** 2),
                "log_loss": -np.mean(np.where(truth == 1, np.log(clipped), np.log(1 - clipped))),
                "uniform": ece_by_hand(p, truth, "uniform"),
                "equal_mass": ece_by_hand(p, truth, "equal_mass"),
                "rows": len(truth)})
        if per_repeat:
            frame = pd.DataFrame(per_repeat)
            scores[(model, n)] = {**frame.mean().to_dict(), "repeats": len(frame),
                                  "rows": int(frame["rows"].min())}
    return scores


def ece_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for (model, n), score in calibration_scores(run).items():
        cell = f"{score['uniform']:.4f} / {score['equal_mass']:.4f}"
        rows.setdefault((label(model),), {})[f"n = {n}"] = cell
    return rows


def brier_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    return {(label(model), str(n)): {"repeats": str(score["repeats"]),
                                     "test rows per repeat": str(score["rows"]),
                                     "accuracy": acc(score["accuracy"]),
                                     "Brier score": f"{score['brier']:.4f}",
                                     "log loss": f"{score['log_loss']:.4f}"}
            for (model, n), score in calibration_scores(run).items()}


def full_ensembles(run: Results) -> dict[tuple[str, int], dict[str, float | None]]:
    """Per fitted (model, n) on generated data: every applicable repeat together on the hidden
    rows, from the hidden predictions, probabilities and true hidden labels."""
    import numpy as np

    bayes = {int(r.n): r.bayes_acc for r in summary(run).itertuples()}
    ensembles = {}
    for model, n in _fits_with(run, "hidden_predictions.npy"):
        truth_file = run / "results" / "data" / f"n{n}" / f"hidden-kryptonite-{n}-y.npy"
        repeats = _applicable(run, model, n)
        if not truth_file.exists() or not repeats:
            continue
        truth = np.load(truth_file)
        folder = run / "results" / "models" / model / f"n{n}"
        labels = np.stack([np.load(folder / f"repeat{r}" / "hidden_predictions.npy") for r in repeats])
        k = len(labels)
        ones = labels.sum(axis=0)
        has_p = (folder / f"repeat{repeats[0]}" / "hidden_probabilities.npy").exists()
        p = (np.stack([np.load(folder / f"repeat{r}" / "hidden_probabilities.npy") for r in repeats])
             if has_p else None)
        mean_label = (p.mean(axis=0) > 0.5) if has_p else None
        tie = mean_label if has_p else np.ones(len(truth), dtype=bool)
        vote = np.where(2 * ones == k, tie, 2 * ones > k)
        member = float(np.mean(labels == truth))
        combined = float(np.mean(mean_label == truth)) if has_p else float(np.mean(vote == truth))
        ensemble = {
            "member": member, "vote": float(np.mean(vote == truth)),
            "probability": float(np.mean(mean_label == truth)) if has_p else None,
            "gain": combined - member,
            "disagreement": float(np.mean(ones * (k - ones) / (k * (k - 1) / 2))) if k > 1 else 0.0,
            "variance": float(np.mean(p.var(axis=0))) if has_p else None}
        # As ensembles.csv holds them (10 significant digits), which the page prints: a gain of
        # -0.00005 must round the same way on both sides.
        ensembles[(model, n)] = {key: None if value is None else float(f"{value:.10g}")
                                 for key, value in ensemble.items()} | {"members": k, "bayes": bayes.get(n)}
    return ensembles


def ensemble_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    return {(label(model), str(n)): {
        "members": str(e["members"]), "members alone": acc(e["member"]), "majority vote": acc(e["vote"]),
        "mean probability": acc(e["probability"]), "gain": f"{e['gain']:+.4f}",
        "disagreement": f"{e['disagreement']:.4f}",
        "probability variance": f"{e['variance']:.4f}" if e["variance"] is not None else "—",
        "Bayes limit": acc(e["bayes"])} for (model, n), e in full_ensembles(run).items()}


def ensemble_helps(run: Results) -> dict[str, list[str]]:
    return {f"{label(model)} at n = {n}": [f"{e['gain']:+.4f}", f"{e['disagreement']:.4f}"]
            for (model, n), e in full_ensembles(run).items() if e["gain"] >= 0.005}


def ensemble_at_limit(run: Results) -> list[str]:
    """The smallest and largest gain of the full ensembles whose members are within half a point
    of the Bayes limit."""
    gains = [e["gain"] for e in full_ensembles(run).values()
             if e["bayes"] is not None and not pd.isna(e["bayes"]) and e["bayes"] - e["member"] < 0.005]
    return [f"{min(gains):+.4f}", f"{max(gains):+.4f}"]


def mock_max(run: Results) -> list[str]:
    table = fitted(run)
    return [acc(table.loc[table["model"] == "mock_baseline", "test_acc_mean"].max())]


def carbon_total(column: str) -> Callable[[Results], list[str]]:
    return lambda run: [fmt.fmt_num(read(run, "carbon.csv")[column].sum(), 2)]


def bayes_by_n(run: Results) -> dict[str, list[str]]:
    table = summary(run)
    return {str(n): [acc(group["bayes_acc"].iloc[0])] for n, group in table.groupby("n")}


def metrics_tables(run: Results) -> pd.DataFrame:
    files = sorted((run / "results" / "models").glob("*/n*/metrics.csv"))
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def gap_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """validation − test per (model, n), with the corrected resampled t interval of its mean,
    computed here from the per-repeat rows (split 60/20/20: n_test / n_train = 1/3)."""
    import math

    from scipy import stats

    metrics = metrics_tables(run)
    rows = {}
    for row in fitted(run).itertuples():
        part = metrics[(metrics["model"] == row.model) & (metrics["n"] == row.n)]
        diffs = (part["validation_acc"] - part["test_acc"]).to_numpy()
        cells = {
            "validation": acc(row.validation_acc_mean),
            "test": acc(row.test_acc_mean),
            "validation − test": f"{row.validation_acc_mean - row.test_acc_mean:+.4f}",
        }
        if len(diffs) > 1:
            half = stats.t.ppf(0.975, len(diffs) - 1) * math.sqrt(
                diffs.var(ddof=1) * (1 / len(diffs) + 1 / 3)
            )
            mean = diffs.mean()
            # Repeats whose differences agree exactly give no interval worth printing.
            cells["95 % interval"] = f"[{mean - half:+.4f}, {mean + half:+.4f}]" if half > 0 else "—"
        rows[(label(row.model), str(row.n))] = cells
    return rows


def bound_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """One repeat's test rows (from its split file) and the 95 % lower bounds of the mean test
    accuracy (metrics.csv) by Hoeffding's and Chebyshev's inequalities, typed here."""
    import math

    import numpy as np

    metrics = metrics_tables(run)
    rows = {}
    for row in fitted(run).itertuples():
        splits = sorted((run / "results" / "data" / f"n{row.n}" / "splits").glob("repeat*.npy"))
        m = min(int(np.count_nonzero(np.load(s) == 2)) for s in splits)
        test = metrics[(metrics["model"] == row.model) & (metrics["n"] == row.n)]["test_acc"].mean()
        if pd.isna(test):
            continue  # not applicable to these data: no accuracy, no bound
        # As summary.csv holds the bounds (10 significant digits), which the page prints.
        bounds = [float(f"{max(0.0, test - half):.10g}")
                  for half in (math.sqrt(math.log(20) / (2 * m)), math.sqrt(1 / (4 * m * 0.05)))]
        rows[(label(row.model), str(row.n))] = {
            "test rows per repeat": str(m), "mean test accuracy": acc(test),
            "Hoeffding ≥": acc(bounds[0]), "Chebyshev ≥": acc(bounds[1]),
        }
    return rows


def gap_by_model(run: Results) -> dict[str, list[str]]:
    return {
        f"{model} at n = {n}": [cells["validation − test"]] for (model, n), cells in gap_rows(run).items()
    }


def config(run: Results) -> dict:
    import yaml

    return yaml.safe_load((run / "results" / "report" / "config.yaml").read_text())


def resampling(run: Results) -> list[str]:
    split = config(run)["split"]
    return [f"{split['test'] / split['train']:.3f}"]


def widening(run: Results) -> list[str]:
    import math

    split, repeats = config(run)["split"], int(fitted(run)["repeats"].max())
    return [f"{math.sqrt(1 + repeats * split['test'] / split['train']):.1f}"]


def coefficient_tables(run: Results) -> dict[tuple[str, str], pd.DataFrame]:
    return {
        (path.parts[-3].removeprefix("n"), path.parts[-2].removeprefix("repeat")): pd.read_csv(path)
        for path in sorted((run / "results" / "models").glob("*/n*/repeat*/coefficients.csv"))
    }


def sparsity_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """The polynomial LR's largest monomial per fit, from its coefficients.csv (features 0-based,
    as on every page)."""
    rows = {}
    for key, table in coefficient_tables(run).items():
        magnitude = table["coefficient"].abs().sort_values(ascending=False)
        top = table.loc[magnitude.index[0]]
        rows[key] = {
            "largest monomial": "`" + "·".join(f"x{int(i)}" for i in str(top["monomial"]).split()) + "`",
            "degree": str(int(top["degree"])),
            "coefficient": f"{top['coefficient']:.3f}",
            "share of all coefficient magnitude": fmt.fmt_pct(magnitude.iloc[0] / magnitude.sum()),
            "ratio to the runner-up": fmt.fmt_num(magnitude.iloc[0] / magnitude.iloc[1]),
        }
    return rows


def share_range(run: Results) -> list[str]:
    shares = [
        float(cells["share of all coefficient magnitude"].removesuffix(" %"))
        for cells in sparsity_rows(run).values()
    ]
    return [f"{min(shares):.1f}", f"{max(shares):.1f}"]


def truths(run: Results) -> dict[int, dict]:
    import json

    return {
        int(path.parent.name.removeprefix("n")): json.loads(path.read_text())
        for path in sorted((run / "results" / "data").glob("n*/truth.json"))
    }


def data_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    targets = summary(run).groupby("n")["target"].first()
    return {
        (str(n),): {
            "flip rate p(n)": acc(t["flip_rate"]),
            "Bayes limit": ci(t["bayes"]["accuracy"], t["bayes"]["ci_low"], t["bayes"]["ci_high"]),
            "target": acc(targets[n], 3),
        }
        for n, t in truths(run).items()
    }


def scale(family: str) -> Callable[[Results], list[str]]:
    return lambda run: [str(config(run)["generator"]["scales"][family])]


def crossing_gap(run: Results) -> list[str]:
    return [fmt.fmt_num(max(1 - t["flip_rate"] - t["bayes"]["accuracy"] for t in truths(run).values()))]


def exploration(run: Results, table: str) -> dict[int, pd.DataFrame]:
    return {n: pd.read_csv(run / "results" / "data" / f"n{n}" / f"{table}.csv") for n in truths(run)}


def threshold_range(run: Results) -> list[str]:
    values = pd.concat([t["threshold"] for t in exploration(run, "features").values()])
    return [fmt.fmt_num(values.min()), fmt.fmt_num(values.max())]


def label_correlation(run: Results) -> list[str]:
    import math

    largest = max(
        t.loc[(t["column"] == "label") & (t["row"] != "label"), "correlation"].abs().max()
        for t in exploration(run, "correlation").values()
    )
    fewest = min(config(run)["generator"]["rows_per_feature"] * n for n in truths(run))
    return [acc(largest), acc(4 / math.sqrt(fewest))]


def pca_share(run: Results) -> dict[str, list[str]]:
    return {
        str(n): [f"{100 * (t['explained_pc1'].iloc[0] + t['explained_pc2'].iloc[0]):.1f}"]
        for n, t in exploration(run, "pca").items()
    }


def kwh(value: float) -> str:
    return f"{fmt.fmt_num(value, 2)} kWh"


def stage_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per stage and in total, the carbon.csv sums: the energy charged to the jobs
    (``attributed_*``) and CodeCarbon's own reading (``energy_kwh``)."""
    carbon = read(run, "carbon.csv")

    def cells(part: pd.DataFrame) -> dict[str, str]:
        return {
            "rows": str(len(part)),
            "duration": fmt.fmt_seconds(part["duration_s"].sum()),
            "CPU": kwh(part["attributed_cpu_energy_kwh"].sum()),
            "RAM": kwh(part["attributed_ram_energy_kwh"].sum()),
            "energy": kwh(part["attributed_energy_kwh"].sum()),
            "emissions": f"{fmt.fmt_num(part['attributed_emissions_kg'].sum(), 2)} kg CO₂eq",
            "CodeCarbon as read": kwh(part["energy_kwh"].sum()),
        }

    rows = {(stage,): cells(part) for stage, part in carbon.groupby("stage", sort=False)}
    return rows | {("**total**",): cells(carbon)}


def carbon_totals(run: Results) -> list[str]:
    carbon = read(run, "carbon.csv")
    return [
        fmt.fmt_num(carbon[c].sum(), 2)
        for c in (
            "attributed_energy_kwh",
            "attributed_cpu_energy_kwh",
            "attributed_ram_energy_kwh",
            "attributed_emissions_kg",
        )
    ]


def ram_drawn(run: Results) -> list[str]:
    """The machine's RAM power over the union of the metered phases' intervals, per host; and the
    part of it charged to no row."""
    carbon = read(run, "carbon.csv")
    carbon = carbon[carbon["energy_kwh"].notna()]
    total = 0.0
    for _, part in carbon.groupby("host"):
        spans = sorted(zip(pd.to_datetime(part["started_at"]), pd.to_datetime(part["ended_at"]), strict=True))
        busy, end = 0.0, None
        for start, stop in spans:
            if end is None or start > end:
                busy += (stop - start).total_seconds()
                end = stop
            elif stop > end:
                busy += (stop - end).total_seconds()
                end = stop
        total += busy * part["machine_ram_power_w"].max() / 3.6e6
    unattributed = max(0.0, total - carbon["attributed_ram_energy_kwh"].sum())
    return [fmt.fmt_num(total, 2), fmt.fmt_num(unattributed, 2)]


def as_read(run: Results) -> list[str]:
    carbon = read(run, "carbon.csv")
    return [fmt.fmt_num(carbon["cpu_energy_kwh"].sum(), 2), fmt.fmt_num(carbon["ram_energy_kwh"].sum(), 2)]


def codecarbon_version(run: Results) -> list[str]:
    return [str(read(run, "carbon.csv")["codecarbon_version"].iloc[0])]


def version_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Package versions as installed here (the run and the test share the environment)."""
    import importlib.metadata
    import platform

    rows = {("python",): {"version": platform.python_version()}}
    for name in fmt.PACKAGES:
        try:
            rows[(name,)] = {"version": importlib.metadata.version(name)}
        except importlib.metadata.PackageNotFoundError:
            rows[(name,)] = {"version": "not installed"}
    return rows


def python_version(run: Results) -> list[str]:
    import platform

    return [platform.python_version()]


def benchmarks(run: Results) -> pd.DataFrame:
    """The Snakemake benchmarks of the jobs finished when the pages were rendered, as the
    rendering job recorded them (runtimes.csv), each row checked against its benchmark file."""
    table = pd.read_csv(run / "results" / "report" / "runtimes.csv")
    for row in table.itertuples():
        truth = pd.read_csv(run / "logs" / f"{row.job}.benchmark.tsv", sep="\t")["s"].mean()
        assert row.s == truth and row.stage == row.job.split("/")[0], (row, truth)
    return table[["stage", "s"]]


def stage_time_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    return {
        (stage,): {"jobs": str(len(part)), "total wall-clock time": fmt.fmt_seconds(math.fsum(part["s"]))}
        for stage, part in benchmarks(run).groupby("stage")
    }


def job_seconds(run: Results) -> list[str]:
    table = benchmarks(run)
    return [str(len(table)), fmt.fmt_seconds(math.fsum(table["s"]))]


# --------------------------------------------------------------------------- robustness


def adversarial(run: Results) -> pd.DataFrame:
    """adversarial.csv pooled over repeats by points, per (model, n, scope, attack, bound, eps):
    the accuracies weighted by each repeat's points, the label-preserving one by its own points
    (and not shown below 30 of them, the page's stated threshold)."""
    table = read(run, "adversarial.csv")
    table["preserving_points"] = table["label_preserving_points"].fillna(0)
    table["_clean"] = table["clean_acc"] * table["points"]
    table["_robust"] = table["robust_acc"] * table["points"]
    table["_preserving"] = table["label_preserving_acc"].fillna(0) * table["preserving_points"]
    pooled = (
        table.groupby(["model", "n", "scope", "attack", "bound", "eps"])[
            ["_clean", "_robust", "_preserving", "points", "preserving_points"]
        ]
        .sum()
        .reset_index()
    )
    pooled["robust"] = pooled["_robust"] / pooled["points"]
    pooled["preserving"] = (pooled["_preserving"] / pooled["preserving_points"]).where(
        pooled["preserving_points"] >= 30
    )
    return pooled


def worst_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per (model, n) and scope, at the largest ε: the lowest pooled accuracy over the attacks
    that bound the worst case (bound exact or upper; an exact one wins a tie)."""
    pooled = adversarial(run)
    bounding = pooled[pooled["bound"].isin(["exact", "upper"])]
    at_max = bounding[bounding["eps"] == bounding["eps"].max()]
    rows = {}
    for (model, n), group in at_max.groupby(["model", "n"]):
        mine = bounding[(bounding["model"] == model) & (bounding["n"] == n)]
        cells = {"clean": acc(mine["_clean"].sum() / mine["points"].sum())}
        for scope, column in (
            ("all", "all features"),
            ("informative", "informative only"),
            ("irrelevant", "irrelevant only"),
        ):
            part = group[group["scope"] == scope]
            if part.empty:
                cells[column] = "—"
                continue
            lowest = part[part["robust"] <= part["robust"].min() + 1e-12]
            # "exact" sorts before "upper"; among tied searches, the first attack by name.
            worst = lowest.sort_values("bound", kind="stable").iloc[0]
            mark = "=" if worst["bound"] == "exact" else "≤"
            cells[column] = (
                f"{mark} {acc(worst['robust'])} / {acc(worst['preserving'])} of "
                f"{int(worst['preserving_points'])} ({worst['attack']})"
            )
        rows[(label(model), str(n))] = cells
    return rows


def eps_values(run: Results) -> list[str]:
    return [", ".join(str(float(e)) for e in sorted(read(run, "adversarial.csv")["eps"].unique()))]


def eps_max(run: Results) -> list[str]:
    return [str(float(read(run, "adversarial.csv")["eps"].max()))]


def network_means(run: Results) -> pd.DataFrame:
    """network_analysis.csv averaged over repeats per (n, activation, layer)."""
    return (
        read(run, "network_analysis.csv")
        .groupby(["n", "activation", "layer"])[["test_acc", "sigma_max", "condition", "zero_grad_share"]]
        .mean()
        .reset_index()
    )


def network_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    return {
        (str(row.n), row.activation, row.layer): {
            "test accuracy": acc(row.test_acc),
            "largest singular value": fmt.fmt_num(row.sigma_max),
            "condition number": fmt.fmt_num(row.condition),
            "share of zero weight gradients": fmt.fmt_pct(row.zero_grad_share),
        }
        for row in network_means(run).itertuples()
    }


def most_saturated(run: Results) -> list[str]:
    means = network_means(run)
    top = means.loc[means["zero_grad_share"].idxmax()]
    return [fmt.fmt_pct(top["zero_grad_share"]), top["activation"], str(top["n"]), top["layer"]]


def attacked_network(run: Results) -> list[str | None]:
    """The network-analysis layers of the attacked MLP: at each n, the activation its fitted
    repeats trained with (their metrics.json settings)."""
    import json

    means = network_means(run)
    activations = {
        int(n): json.loads(
            (run / "results" / "models" / "mlp" / f"n{n}" / "repeat0" / "metrics.json").read_text()
        )["details"]["settings"]["activation"]
        for n in sorted(means["n"].unique())
    }
    shares = means[[activations[int(r.n)] == r.activation for r in means.itertuples()]]["zero_grad_share"]
    low, high = shares.min(), shares.max()
    return [
        ", ".join(f"{a} at n = {n}" for n, a in sorted(activations.items())),
        fmt.fmt_pct(low),
        None if low == high else fmt.fmt_pct(high),
    ]


# --------------------------------------------------------------------------- scaling


def scaling_table(run: Results) -> pd.DataFrame:
    return read(run, "scaling.csv")


def multiple(factor: float) -> str:
    """A rows multiple as the page names it: ×1/8, ×0.15, ×4."""
    if factor >= 1:
        return f"×{factor:g}"
    inverse = 1 / factor
    return f"×1/{inverse:g}" if abs(inverse - round(inverse)) < 1e-9 else f"×{factor:g}"


def reference_multiple(run: Results) -> float:
    """The rows multiple whose cells are the study's fits, else ×1 when the grid has it, else its largest."""
    table = scaling_table(run)
    study = table[table["source"] == "study"]
    if len(study):
        return float(study["rows_factor"].mode().iloc[0])
    return 1.0 if (table["rows_factor"] == 1.0).any() else float(table["rows_factor"].max())


def scaling_cells(run: Results) -> pd.DataFrame:
    """Per (model, n, rows multiple): the fitted repeats' mean test accuracy and its 95 % t interval
    (widened by test_over_train for the study's re-split repeats; clipped to [0, 1]), the goal
    (the challenge target, else 99 % of Bayes) and whether the interval's low end clears it."""
    import math

    from scipy import stats

    out = []
    for (model, n, factor, rows), group in scaling_table(run).groupby(
        ["model", "n", "rows_factor", "train_rows"], sort=False
    ):
        values = group["test_acc"].dropna().to_numpy()
        target, bayes = group["target"].iloc[0], float(group["bayes_acc"].iloc[0])
        goal, kind = (0.99 * bayes, "99% of Bayes") if pd.isna(target) else (float(target), "target")
        cell = {
            "model": model,
            "n": int(n),
            "factor": float(factor),
            "rows": int(rows),
            "repeats": len(values),
            "mean": math.nan,
            "low": math.nan,
            "high": math.nan,
            "goal": goal,
            "kind": kind,
            "reached": False,
        }
        if len(values):
            cell["mean"] = values.mean()
        if len(values) > 1:
            ratio = group["test_over_train"].fillna(0).iloc[0]
            half = stats.t.ppf(0.975, len(values) - 1) * math.sqrt(
                values.var(ddof=1) * (1 / len(values) + ratio)
            )
            cell |= {"low": max(0.0, cell["mean"] - half), "high": min(1.0, cell["mean"] + half)}
            cell["reached"] = bool(cell["low"] >= cell["goal"])
        out.append(cell)
    return pd.DataFrame(out)


def breaks(run: Results) -> dict[tuple[str, float], dict]:
    """Per (model, rows multiple): the first fitted n not shown to reach its goal, the largest
    n below it that reaches it, the largest n fitted and the first n not fitted."""
    out = {}
    for (model, factor), group in scaling_cells(run).groupby(["model", "factor"], sort=False):
        group = group.sort_values("n")
        fitted = group[group["repeats"] > 0]
        below = fitted[~fitted["reached"]]
        first = below.iloc[0] if len(below) else None
        reaching = fitted[fitted["reached"] & (fitted["n"] < (first["n"] if first is not None else 10**9))]
        unfitted = group[group["repeats"] == 0]
        out[(model, factor)] = {
            "reaching": reaching.iloc[-1] if len(reaching) else None,
            "below": first,
            "largest_fitted": int(fitted["n"].max()) if len(fitted) else None,
            "first_unfitted": int(unfitted["n"].iloc[0]) if len(unfitted) else None,
        }
    return out


def break_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    factor, rows = reference_multiple(run), {}
    for (model, at), b in breaks(run).items():
        if at != factor:
            continue
        reaching, below = b["reaching"], b["below"]
        if below is not None:
            verdict = (
                "one repeat, no interval" if pd.isna(below["low"]) else f"low end < {acc(below['goal'])}"
            )
            interval = ci(below["mean"], below["low"], below["high"])
            below_cell = f"n = {below['n']}: {interval}, {verdict} ({below['kind']})"
        elif b["largest_fitted"] is not None:
            below_cell = f"none up to n = {b['largest_fitted']}"
        else:
            below_cell = "not fitted at this rows multiple"
        rows[(label(model),)] = {
            "largest n reaching the goal: mean [95 % interval]": "none"
            if reaching is None
            else (
                f"n = {reaching['n']}: {ci(reaching['mean'], reaching['low'], reaching['high'])}, "
                f"low end ≥ {acc(reaching['goal'])}"
            ),
            "first n not shown to reach it": below_cell,
            "first n not fitted": "—" if b["first_unfitted"] is None else str(b["first_unfitted"]),
        }
    return rows


def every_break_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    rows = {}
    for (model, factor), b in breaks(run).items():
        reaching, below = b["reaching"], b["below"]
        rows[(label(model), multiple(factor))] = {
            "largest n reaching: low end": "none"
            if reaching is None
            else f"n = {reaching['n']}: {acc(reaching['low'])}",
            "first n not shown to reach it: low end": "none"
            if below is None
            else f"n = {below['n']}: {'no interval' if pd.isna(below['low']) else acc(below['low'])}",
            "largest n fitted": "—" if b["largest_fitted"] is None else str(b["largest_fitted"]),
        }
    return rows


def floors(run: Results) -> dict[int, dict[str, float]]:
    """Per n, from scaling.csv bayes_acc: the label noise q, the channel's capacity 1 − H(q), the
    floors n / (1 − H(q)) and log₂ C(n, 2n/3) / (1 − H(q))."""
    import math

    out = {}
    for n, bayes in sorted(set(zip(scaling_table(run)["n"], scaling_table(run)["bayes_acc"], strict=True))):
        q = 1 - bayes
        capacity = 1 - (0.0 if q <= 0 or q >= 1 else -q * math.log2(q) - (1 - q) * math.log2(1 - q))
        bits = math.log2(math.comb(n, round(2 * n / 3)))
        out[int(n)] = {
            "q": q,
            "capacity": capacity,
            "floor": n / capacity,
            "bits": bits,
            "support_floor": bits / capacity,
        }
    return out


def floor_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    return {
        (str(n),): {
            "label noise q = 1 − Bayes": fmt.fmt_num(f["q"]),
            "1 − H(q) (bits per row)": fmt.fmt_num(f["capacity"]),
            "floor, all 2ⁿ parities (rows)": fmt.fmt_num(f["floor"]),
            "log₂ C(n, 2n/3) (bits)": fmt.fmt_num(f["bits"]),
            "floor, told the support size (rows)": fmt.fmt_num(f["support_floor"]),
        }
        for n, f in floors(run).items()
    }


def gf2_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """The GF(2) parity learner's fewest training rows whose cell reaches the goal, per n."""
    cells = scaling_cells(run)
    cells = cells[(cells["model"] == "parity_gf2") & (cells["repeats"] > 0)]
    rows = {}
    for n, group in cells.groupby("n"):
        reached = group[group["reached"]]
        smallest = int(group["rows"].min())
        needed = int(reached["rows"].min()) if len(reached) else None
        status = (
            "never reached"
            if needed is None
            else "at or below the smallest tried"
            if needed == smallest
            else "reached"
        )
        rows[(str(n),)] = {
            "floor (rows)": fmt.fmt_num(floors(run)[n]["floor"]),
            "floor, told the support size (rows)": fmt.fmt_num(floors(run)[n]["support_floor"]),
            "GF(2): rows needed": "—" if needed is None else fmt.fmt_num(needed),
            "status": status,
            "smallest rows tried": fmt.fmt_num(smallest),
        }
    return rows


def gf2_note_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    table = scaling_table(run)
    notes = table[(table["model"] == "parity_gf2") & table["note"].notna()]
    return {
        (str(r.n), fmt.fmt_num(r.train_rows), str(r.repeat)): {"what it said": str(r.note)}
        for r in notes.itertuples()
    }


def slope_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per model fitted here with four cells or more: log(mean cost) = a + b log n + c log rows by
    least squares over its cells, with b's 95 % t interval (cells − 3 degrees of freedom)."""
    import math

    import numpy as np
    from scipy import stats

    table = scaling_table(run)
    rows = {}
    for measure, name in (("fit_seconds", "fit seconds"), ("peak_rss_mb", "peak memory")):
        data = table[(table["source"] != "study") & (table[measure] > 0)]
        for model, group in data.groupby("model"):
            means = group.groupby(["n", "train_rows"])[measure].mean().reset_index()
            x = np.column_stack(
                [
                    np.ones(len(means)),
                    np.log(means["n"].astype(float)),
                    np.log(means["train_rows"].astype(float)),
                ]
            )
            if len(means) < 4 or np.linalg.matrix_rank(x) < 3:
                continue
            y = np.log(means[measure].to_numpy(float))
            coef = np.linalg.solve(x.T @ x, x.T @ y)
            dof = len(means) - 3
            sigma2 = float(((y - x @ coef) ** 2).sum()) / dof
            half = stats.t.ppf(0.975, dof) * math.sqrt(sigma2 * np.linalg.inv(x.T @ x)[1, 1])
            rows[(label(model), name)] = {
                "exponent of n at fixed rows": fmt.fmt_num(coef[1]),
                "95 % interval": f"[{fmt.fmt_num(coef[1] - half)}, {fmt.fmt_num(coef[1] + half)}]",
                "exponent of rows": fmt.fmt_num(coef[2]),
                "cells": str(len(means)),
                "n range": f"{means['n'].min()}–{means['n'].max()}",
                "training rows": "–".join(fmt.fmt_num(means["train_rows"].agg(f)) for f in ("min", "max")),
            }
    return rows


def grid_multiples(run: Results) -> list[str]:
    return [", ".join(multiple(f) for f in sorted(scaling_table(run)["rows_factor"].unique()))]


def reference_label(run: Results) -> list[str]:
    return [multiple(reference_multiple(run))]


def scaling_cell_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per model, cells (model, n, rows multiple; each once, whatever its repeats): fitted here,
    the study's fits, and those none of whose repeats has a test accuracy."""
    table = scaling_table(run)
    cells = table.groupby(["model", "n", "rows_factor"]).agg(
        fitted=("test_acc", lambda v: v.notna().any()), study=("source", lambda v: (v == "study").any())
    )
    return {
        (label(model),): {
            "cells fitted here": str(int((group["fitted"] & ~group["study"]).sum())),
            "cells that are the study's fits": str(int((group["fitted"] & group["study"]).sum())),
            "cells not fitted": str(int((~group["fitted"]).sum())),
        }
        for model, group in cells.groupby(level="model")
    }


def fit_counts(run: Results) -> list[str]:
    """Fits made here (not the study's) and their fit seconds; the cells none of whose repeats
    was fitted, and those of them whose fit failed."""
    table = scaling_table(run)
    own = table[table["test_acc"].notna() & (table["source"] != "study")]
    cells = table.assign(failed=table["note"].fillna("").str.startswith("fit failed")).groupby(
        ["model", "n", "rows_factor"]
    )
    unfitted = cells.agg(fitted=("test_acc", lambda v: v.notna().any()), failed=("failed", "any"))
    unfitted = unfitted[~unfitted["fitted"]]
    return [
        str(len(own)),
        fmt.fmt_seconds(own["fit_seconds"].sum()),
        str(len(unfitted)),
        str(int(unfitted["failed"].sum())),
    ]


def study_fits(run: Results) -> list[str]:
    table = scaling_table(run)
    return [str(int(((table["source"] == "study") & table["test_acc"].notna()).sum()))]


def study_multiple_by_model(run: Results) -> dict[str, list[str]]:
    table = scaling_table(run)
    study = table[(table["source"] == "study") & table["test_acc"].notna()]
    return {label(m): [multiple(float(g["rows_factor"].iloc[0]))] for m, g in study.groupby("model")}


# --------------------------------------------------------------------------- tuning

#: The searched model -> its tuned model (the specs' ``tunes``).
TUNED = {"mlp": "mlp_tuned"}
SETTINGS_SHOWN = (
    "layers",
    "hidden_units",
    "activation",
    "optimizer",
    "lr",
    "batch_size",
    "dropout",
    "weight_decay",
    "max_epochs",
    "patience",
)


def searches(run: Results) -> dict[tuple[str, int], pd.DataFrame]:
    """results/tuning/{model}/n{n}/trials.csv, per (model, n)."""
    return {
        (path.parts[-3], int(path.parts[-2].removeprefix("n"))): pd.read_csv(path)
        for path in sorted((run / "results" / "tuning").glob("*/n*/trials.csv"))
    }


def setting(value: object) -> str:
    """A setting as the page prints it: floats to three significant digits."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return "0" if value == 0 else f"{value:.3g}"
    return str(value)


def mean_half(values: object, ratio: float) -> dict[str, float | None]:
    """Mean and the half width of its corrected resampled 95 % t interval (unclipped)."""
    import math

    import numpy as np
    from scipy import stats

    values = np.asarray(pd.Series(values).dropna(), dtype=float)
    if len(values) == 0:
        return {"mean": None, "half": None, "low": None, "high": None}
    mean = float(values.mean())
    if len(values) < 2:
        return {"mean": mean, "half": None, "low": None, "high": None}
    half = stats.t.ppf(0.975, len(values) - 1) * math.sqrt(values.var(ddof=1) * (1 / len(values) + ratio))
    return {"mean": mean, "half": half, "low": mean - half, "high": mean + half}


def plus_minus(value: dict[str, float | None]) -> str:
    if value["mean"] is None:
        return "—"
    return acc(value["mean"]) + ("" if value["half"] is None else f" ± {acc(value['half'])}")


def tuning_outcomes(run: Results) -> dict[str, dict]:
    """Per searched n: the best completed trial (the earliest on a tie), the paper's trial, and
    the paper-settings and tuned models' test accuracies from their metrics tables."""
    import json

    split = config(run)["split"]
    ratio = split["test"] / split["train"]
    metrics = metrics_tables(run)
    out = {}
    for (model, n), trials in searches(run).items():
        complete = trials[trials["state"] == "COMPLETE"].sort_values(
            ["validation_acc", "trial"], ascending=[False, True]
        )
        best = complete.iloc[0]
        paper_trial = complete[complete["origin"] == "paper"]
        paper = metrics[(metrics["model"] == model) & (metrics["n"] == n)].set_index("repeat")
        tuned = metrics[(metrics["model"] == TUNED[model]) & (metrics["n"] == n)].set_index("repeat")
        paper_settings = json.loads(
            (run / "results" / "models" / model / f"n{n}" / "repeat0" / "metrics.json").read_text()
        )["details"]["settings"]
        out[str(n)] = {
            "model": model,
            "trials": trials,
            "complete": complete,
            "best": best,
            "best_is_paper": best["origin"] == "paper",
            "paper_validation": float(paper_trial["validation_acc"].iloc[0]) if len(paper_trial) else None,
            "paper_settings": paper_settings,
            "tuned_settings": json.loads(best["settings"]),
            "paper_acc": mean_half(paper["test_acc"], ratio),
            "tuned_acc": mean_half(tuned["test_acc"], ratio),
            "difference": mean_half(tuned["test_acc"] - paper["test_acc"], ratio),
            "chance": mean_half(tuned["majority_acc"], ratio),
            "over_chance": mean_half(tuned["test_acc"] - tuned["majority_acc"], ratio),
            "bayes": truths(run)[n]["bayes"]["accuracy"],
        }
    return out


def tuning_rows(run: Results) -> dict[tuple[str, ...], dict[str, str]]:
    """Per searched n (the table under "### n = …"): each setting of the paper-settings model (as
    its repeat 0 trained, metrics.json) and of the best trial (trials.csv settings), and both
    models' test accuracy (their metrics.csv), the Bayes limit (truth.json) and the gap to it."""
    rows = {}
    for n, o in tuning_outcomes(run).items():
        paper = f"{label(o['model'])} (`models.{o['model']}`: the paper's settings in the full study)"
        tuned = f"tuned MLP (trial {int(o['best']['trial'])}" + (
            ": the paper's settings)" if o["best_is_paper"] else ")"
        )
        for key in SETTINGS_SHOWN:
            rows[(n, key)] = {
                paper: setting(o["paper_settings"].get(key)),
                tuned: setting(o["tuned_settings"].get(key)),
            }
        rows[(n, "**test accuracy**")] = {
            paper: plus_minus(o["paper_acc"]),
            tuned: plus_minus(o["tuned_acc"]),
        }
        rows[(n, "Bayes limit")] = {paper: acc(o["bayes"]), tuned: acc(o["bayes"])}
        rows[(n, "gap to the Bayes limit")] = {
            column: "—" if mean is None else acc(o["bayes"] - mean)
            for column, mean in ((paper, o["paper_acc"]["mean"]), (tuned, o["tuned_acc"]["mean"]))
        }
    return rows


def tuned_minus_paper(run: Results) -> dict[str, list[str | None]]:
    out = {}
    for n, o in tuning_outcomes(run).items():
        d = o["difference"]
        verdict = (
            None
            if d["low"] is None
            else (
                "lies above zero" if d["low"] > 0 else "lies below zero" if d["high"] < 0 else "contains zero"
            )
        )
        out[n] = [acc(d["mean"]), None if d["half"] is None else acc(d["half"]), verdict]
    return out


def best_trials(run: Results) -> dict[str, list[str | None]]:
    return {
        n: [
            str(len(o["trials"])),
            str(len(o["complete"])),
            str(int((o["trials"]["state"] == "PRUNED").sum())),
            acc(o["best"]["validation_acc"]),
            None if o["paper_validation"] is None else acc(o["paper_validation"]),
        ]
        for n, o in tuning_outcomes(run).items()
    }


def points_below_bayes(run: Results) -> dict[str, list[str]]:
    return {
        n: [f"{(o['bayes'] - o['tuned_acc']['mean']) * 100:.1f}"] for n, o in tuning_outcomes(run).items()
    }


def capped_trials(run: Results) -> dict[str, list[str]]:
    """Completed trials that ran to their epoch limit (still improving when it stopped them)."""
    return {
        n: [
            ", ".join(
                f"trial {int(t.trial)}: {acc(t.validation_acc)} after {int(t.epochs)} epochs"
                for t in o["complete"].sort_values("trial").itertuples()
                if t.epochs >= t.max_epochs
            )
        ]
        for n, o in tuning_outcomes(run).items()
    }


def chance(run: Results) -> dict[str, list[str]]:
    return {n: [plus_minus(o["chance"])] for n, o in tuning_outcomes(run).items()}


def over_chance(run: Results) -> dict[str, list[str]]:
    return {n: [plus_minus(o["over_chance"])] for n, o in tuning_outcomes(run).items()}


def best_validation(run: Results) -> dict[str, list[str]]:
    return {
        n: [acc(o["best"]["validation_acc"]), str(len(o["trials"]))] for n, o in tuning_outcomes(run).items()
    }


def pruning(run: Results) -> list[str]:
    """Over every search: trials pruned, trials, epochs run, and at most what they would have run
    unpruned (a pruned trial's epoch limit), and the share of epochs saved at most."""
    trials = pd.concat(searches(run).values(), ignore_index=True)
    pruned = trials["state"] == "PRUNED"
    run_epochs = int(trials["epochs"].sum())
    bound = int(trials.loc[~pruned, "epochs"].sum() + trials.loc[pruned, "max_epochs"].sum())
    return [
        str(int(pruned.sum())),
        str(len(trials)),
        str(run_epochs),
        str(bound),
        fmt.fmt_pct(1 - run_epochs / bound),
    ]


#: The headings of the Tuning page's sections, one per searched n.
N_HEADING = r"^### n = (\d+)$"

SCI = r"([\d.,]+(?: × 10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?)"

TABLES: list[TableClaim] = [
    TableClaim("calibration", ("model", "n", "repeats", "test rows per repeat"), ("model", "n"), brier_rows,
               "every test_probabilities.npy, split file and label file (the scores typed here)"),
    TableClaim("calibration", ("model", "n", "members"), ("model", "n"), ensemble_rows,
               "every hidden_predictions.npy and hidden_probabilities.npy, the true hidden labels and "
               "summary.csv's Bayes limit (the ensemble typed here)"),
    # After the two above: its header is only "model" and the n.
    TableClaim("calibration", ("model",), ("model",), ece_rows,
               "every test_probabilities.npy, split file and label file (the ECE typed here)"),
    TableClaim("data", ("n", "labelled rows"), ("n",), data_rows, "truth.json and summary.csv target"),
    TableClaim("sustainability", ("stage", "rows", "duration"), ("stage",), stage_rows, "carbon.csv"),
    TableClaim("reproducibility", ("package", "version"), ("package",), version_rows, "importlib.metadata"),
    TableClaim(
        "reproducibility",
        ("stage", "jobs", "total wall-clock time"),
        ("stage",),
        stage_time_rows,
        "logs/**/*.benchmark.tsv s",
    ),
    TableClaim("index", ("n", "best model, and models tied with it"), ("n",), best_rows, "summary.csv"),
    TableClaim("index", ("model", "n", "test accuracy"), ("model", "n"), headline_rows, "summary.csv"),
    TableClaim(
        "secret", ("model", "n", "test accuracy"), ("model", "n"), secret_rows, "summary.csv", all_rows=False
    ),
    TableClaim(
        "models",
        ("n", "repeat", "largest monomial"),
        ("n", "repeat"),
        sparsity_rows,
        "models/poly_logreg/n*/repeat*/coefficients.csv",
    ),
    TableClaim(
        "models",
        ("model", "n", "test rows per repeat"),
        ("model", "n"),
        bound_rows,
        "every split file (test rows) and metrics.csv (test accuracy); the bounds' formulas typed here",
    ),
    TableClaim(
        "models",
        ("model", "n", "validation", "test"),
        ("model", "n"),
        gap_rows,
        "summary.csv and every metrics.csv (the per-repeat validation − test differences)",
    ),
    TableClaim(
        "models",
        ("n", "model", "learns its features from"),
        ("n",),
        choice_rows,
        "hiddenlabels/choice.csv and the chosen repeat's metrics.json",
    ),
    TableClaim(
        "robustness",
        ("model", "n", "clean", "all features"),
        ("model", "n"),
        worst_rows,
        "adversarial.csv (pooled over repeats by points; bound exact or upper, at the largest eps)",
    ),
    TableClaim(
        "robustness",
        ("n", "activation", "layer", "test accuracy"),
        ("n", "activation", "layer"),
        network_rows,
        "network_analysis.csv (mean over repeats)",
    ),
    TableClaim(
        "scaling",
        ("model", "cells fitted here"),
        ("model",),
        scaling_cell_rows,
        "scaling.csv cells (model, n, rows_factor): test_acc, source",
    ),
    TableClaim(
        "scaling",
        ("model", "largest n reaching the goal: mean [95 % interval]"),
        ("model",),
        break_rows,
        "scaling.csv cells at the study's rows multiple (mean and 95 % t interval of test_acc)",
    ),
    TableClaim(
        "scaling",
        ("model", "rows", "largest n reaching: low end"),
        ("model", "rows"),
        every_break_rows,
        "scaling.csv cells (low end of the 95 % t interval of test_acc)",
    ),
    TableClaim(
        "scaling",
        ("n", "label noise q = 1 − Bayes"),
        ("n",),
        floor_rows,
        "scaling.csv bayes_acc (q = 1 − Bayes, 1 − H(q), n and log₂ C(n, 2n/3) over it)",
    ),
    TableClaim(
        "scaling",
        ("n", "floor (rows)"),
        ("n",),
        gf2_rows,
        "scaling.csv bayes_acc and the parity_gf2 cells (fewest train_rows reaching the goal)",
    ),
    TableClaim(
        "scaling",
        ("n", "training rows", "repeat", "what it said"),
        ("n", "training rows", "repeat"),
        gf2_note_rows,
        "scaling.csv note of parity_gf2",
    ),
    TableClaim(
        "scaling",
        ("model", "measure", "exponent of n at fixed rows"),
        ("model", "measure"),
        slope_rows,
        "scaling.csv fit_seconds, peak_rss_mb (least squares on log n and log train_rows)",
    ),
    TableClaim(
        "tuning",
        ("setting",),
        ("setting",),
        tuning_rows,
        "trials.csv (best trial's settings), repeat 0's metrics.json settings, metrics.csv test_acc, "
        "truth.json",
        section=N_HEADING,
    ),
]

TEXT: list[TextClaim] = [
    TextClaim("calibration",
              r"(?m)^- (?P<key>.+? at n = \d+): gain ([+-]\d\.\d{4}), disagreement (\d\.\d{4})$",
              ensemble_helps, "the full ensembles typed here", required=False),
    TextClaim("calibration", r"There the full ensembles gain between ([+-]\d\.\d{4}) and ([+-]\d\.\d{4})\.",
              ensemble_at_limit, "the full ensembles typed here", required=False),
    TextClaim("reproducibility", r"Python (\d+\.\d+\.\d+)\.", python_version, "the Python running the tests"),
    TextClaim(
        "index",
        r"The workflow's (\d+) timed jobs took ([\d.]+ s|\d+ min \d+ s|\d+ h \d+ min)",
        job_seconds,
        "logs/**/*.benchmark.tsv s",
    ),
    TextClaim(
        "sustainability",
        rf"In all, an estimated {SCI} kWh \({SCI} kWh CPU,\s+{SCI} kWh RAM\) and {SCI} kg",
        carbon_totals,
        "carbon.csv attributed_*",
    ),
    TextClaim(
        "sustainability",
        rf"of the\s+{SCI} kWh the RAM drew while metered phases ran, {SCI} kWh",
        ram_drawn,
        "carbon.csv started_at, ended_at, machine_ram_power_w, attributed_ram_energy_kwh",
        required=False,
    ),
    TextClaim(
        "sustainability",
        rf"reading per job \({SCI} kWh CPU, {SCI} kWh RAM in all\)",
        as_read,
        "carbon.csv cpu_energy_kwh, ram_energy_kwh",
    ),
    TextClaim(
        "sustainability",
        r"CodeCarbon (\d+\.\d+\.\d+) ran",
        codecarbon_version,
        "carbon.csv codecarbon_version",
    ),
    TextClaim("data", r"uniform noise on ±([\d.]+)", scale("uniform"), "config generator.scales"),
    TextClaim("data", r"Laplace noise of scale ([\d.]+)", scale("laplace"), "config generator.scales"),
    TextClaim("data", r"noise of σ = ([\d.]*\d)", scale("gaussian"), "config generator.scales"),
    TextClaim(
        "data",
        rf"costs at most\s+{SCI} of accuracy below 1 − p",
        crossing_gap,
        "truth.json 1 − flip_rate − bayes.accuracy",
    ),
    TextClaim(
        "data",
        r"\(from ([\d.]+) to\s+([\d.]+) over every feature and n\)",
        threshold_range,
        "features.csv threshold",
    ),
    TextClaim(
        "data",
        r"(\d\.\d{4}); (?:that is within|that is beyond|above)[^:]*?fewest labelled rows: (\d\.\d{4})\)",
        label_correlation,
        "correlation.csv (column label) and rows_per_feature·n rows",
    ),
    TextClaim(
        "data", r"(\d+\.\d) % \(n = (?P<key>\d+)\)", pca_share, "pca.csv explained_pc1 + explained_pc2"
    ),
    TextClaim("secret", r"(\d\.\d{4}) \(n = (?P<key>\d+)\)", bayes_by_n, "summary.csv bayes_acc"),
    TextClaim(
        "models",
        r"(?P<key>[\w() -]+ at n = \d+) \(([+-]\d\.\d{4})\)",
        gap_by_model,
        "summary.csv validation_acc_mean − test_acc_mean",
        # Only where some gap's interval excludes 0.
        required=False,
    ),
    TextClaim("models", r"1/J \+ (\d\.\d{3}) \(J repeats", resampling, "config split test / train"),
    TextClaim(
        "models",
        r"the interval is (\d+\.\d) times as wide",
        widening,
        "√(1 + J · test/train), J = summary.csv repeats",
    ),
    TextClaim(
        "models", r"(\d+\.\d) % to (\d+\.\d) % of the coefficient magnitude", share_range, "coefficients.csv"
    ),
    TextClaim("robustness", r"ε ∈ \{([^}]*)\}", eps_values, "adversarial.csv eps"),
    TextClaim("robustness", r"At the largest budget, ε = ([\d.]+),", eps_max, "adversarial.csv eps"),
    TextClaim(
        "robustness",
        r"The largest share is (\d+\.\d %)\s+\((\w+), n = (\d+), layer (\w+)\)",
        most_saturated,
        "network_analysis.csv zero_grad_share (mean over repeats)",
    ),
    TextClaim(
        "robustness",
        r"the attacked MLP \(([^)]*)\)\s+has (\d+\.\d %)(?: to (\d+\.\d %) over its layers| in every layer)",
        attacked_network,
        "network_analysis.csv zero_grad_share of the MLP's activation (models/mlp/n*/repeat0/metrics.json)",
    ),
    TextClaim(
        "scaling",
        r"training rows of\s+(.+?) the published training split",
        grid_multiples,
        "scaling.csv rows_factor",
    ),
    TextClaim(
        "scaling",
        r"(\d+) fits were\s+made \(([^)]*) of fitting\); (\d+) cells are reported as not\s+fitted, with the "
        r"reason, (\d+) of them",
        fit_counts,
        "scaling.csv test_acc, fit_seconds, note, source",
    ),
    TextClaim(
        "scaling",
        r"(\d+) more rows are the study's own fits",
        study_fits,
        "scaling.csv rows of source study",
        required=False,
    ),
    TextClaim(
        "scaling",
        r"\*\*(?P<key>[^*]+)\*\*: its cells at (\S+) the published rows",
        study_multiple_by_model,
        "scaling.csv rows_factor of the source = study rows",
    ),
    TextClaim(
        "scaling",
        r"At (\S+) the published rows, where each model stops",
        reference_label,
        "scaling.csv rows_factor of the source = study rows",
    ),
    TextClaim(
        "tuning",
        r"stopped\s+(\d+) of (\d+) trials early: the trials\s+ran (\d+) epochs in all, against at most (\d+) "
        r"had[^%]*so pruning saved at most (\d+\.\d %) of the epochs",
        pruning,
        "tuning/*/n*/trials.csv state, epochs, max_epochs",
    ),
    TextClaim(
        "tuning",
        r"Tuned − paper: (-?\d\.\d{4})(?: ± (\d\.\d{4}))?(?:; the interval (lies above zero|lies below zero|"
        r"contains zero))?",
        tuned_minus_paper,
        "metrics.csv test_acc, tuned − paper per repeat",
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"The best of the (\d+) trials \((\d+) completed, (\d+) pruned\) reached\s+a validation accuracy of "
        r"(\d\.\d{4})(?: \(the paper's settings: (\d\.\d{4})\))?",
        best_trials,
        "trials.csv state, validation_acc, origin",
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"more than one point below the Bayes limit \((\d+\.\d) points\)",
        points_below_bayes,
        "truth.json bayes and the tuned model's metrics.csv test_acc",
        required=False,
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"still improving when their epoch limit stopped them \(([^()]*)\)",
        capped_trials,
        "trials.csv epochs, max_epochs, validation_acc of the completed trials",
        required=False,
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"majority-class rule on the same test rows \(([\d.]+(?: ± [\d.]+)?): the labels",
        chance,
        "the tuned model's metrics.csv majority_acc",
        required=False,
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"(?:it|the tuned MLP) is (-?[\d.]+(?: ± [\d.]+)?) above it",
        over_chance,
        "the tuned model's metrics.csv test_acc − majority_acc",
        required=False,
        section=N_HEADING,
    ),
    TextClaim(
        "tuning",
        r"the best trial's validation accuracy, (\d\.\d{4}), is the best of (\d+) tries",
        best_validation,
        "trials.csv validation_acc",
        required=False,
        section=N_HEADING,
    ),
    TextClaim("index", r"baseline never gets above (\d\.\d{4})", mock_max, "summary.csv test_acc_mean"),
    TextClaim(
        "index",
        rf"energy of the metered phases is {SCI} kWh",
        carbon_total("attributed_energy_kwh"),
        "carbon.csv attributed_energy_kwh",
    ),
    TextClaim(
        "index",
        rf"estimated emissions {SCI} kg",
        carbon_total("attributed_emissions_kg"),
        "carbon.csv attributed_emissions_kg",
    ),
]

#: Numbers in the prose that are no result: the method's own constants, quoted in words.
ALLOWED: list[str] = [
    # Calibration: what the page's definitions say of a probability of 0.5 and of 0.99.
    r"probability of 0\.99",
    r"near 0\.5 for one at chance",
    r"thresholded at 0\.5",
    r"always answers 0\.5 scores 0\.25",
    r"\(0\.693 at 0\.5\)",
    r"exceeds 0\.5",
    r"noise crossing 0\.5",
    r"wrong side of 0\.5",
    # Robustness: a value within ε of the bits' midpoint can be moved across it.
    r"within ε of 0\.5",
    # Scaling: the published training split, whose multiples the grid's rows are.
    r"published training split \(0\.6 · 2000 · n\)",
    # Models: Chebyshev's bound at 95 %, its formula in the prose (delta = 0.05).
    r"m ×\s+0\.05\)",
]
