"""Carbon accounting: real offline measurements, one stop per tracker, failures that never break
the job, a run without any network, and the aggregation into the study's table."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import unavailable

from kryptonite_n.compute import carbon
from kryptonite_n.compute.carbon import (
    AGGREGATE_COLUMNS,
    COLUMNS,
    CPU_METHODS,
    aggregate,
    carbon_meter,
    grid_intensity,
    phase,
    read_carbon,
)
from kryptonite_n.compute.jobs import job_log
from kryptonite_n.io import DataError

MEASURED = set(CPU_METHODS.values()) | {"PowerMetrics", "Raspberry Pi PMIC"}
REAL_TRACKER = carbon.offline_tracker


def _work(seconds: float = 0.3) -> float:
    """Real CPU work for a phase to measure."""
    rng = np.random.default_rng(0)
    total, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        matrix = rng.normal(size=(200, 200))
        total += float(np.linalg.norm(matrix @ matrix))
    return total


class Spy:
    """Builds real offline trackers and counts the calls the meter makes on them."""

    def __init__(self, fail: str | None = None):
        self.fail = fail
        self.trackers: list = []
        self.calls: dict[str, int] = {"start_task": 0, "stop_task": 0, "stop": 0}

    def __call__(self, country: str):
        if self.fail == "init":
            raise RuntimeError("tracker cannot be built")
        tracker = REAL_TRACKER(country)
        for name in self.calls:
            setattr(tracker, name, self._counted(name, getattr(tracker, name)))
        self.trackers.append(tracker)
        return tracker

    def _counted(self, name: str, method):
        def call(*args, **kwargs):
            self.calls[name] += 1
            if self.fail == name:
                raise RuntimeError(f"{name} broke")
            return method(*args, **kwargs)

        return call


@pytest.fixture(autouse=True)
def no_started_tracker(monkeypatch):
    """No test inherits the meter of a job another test left open."""
    monkeypatch.setattr(carbon, "_job_meter", None)


@pytest.fixture
def spy(monkeypatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(carbon, "offline_tracker", spy)
    return spy


def test_each_phase_is_measured_offline_by_one_process_tracker(spy, tmp_path, monkeypatch):
    from codecarbon import OfflineEmissionsTracker, __version__

    monkeypatch.chdir(tmp_path)
    with carbon_meter("carbon/job.csv", {"enabled": True, "country": "GBR"}, model="mlp", n=9) as meter:
        with meter.measure("train"):
            _work()
        with meter.measure("inference", repeat=1):
            _work(0.05)
    rows = pd.read_csv("carbon/job.csv")
    assert list(rows.columns) == COLUMNS
    assert rows["stage"].tolist() == ["train", "inference"]
    assert rows["model"].tolist() == ["mlp", "mlp"] and rows["n"].tolist() == [9, 9]
    assert rows["repeat"].isna().tolist() == [True, False]
    assert set(rows["measurement"]) <= MEASURED
    if not Path("/sys/class/powercap/intel-rapl").exists():
        assert "RAPL" not in set(rows["measurement"])
    assert (rows["energy_kwh"] > 0).all() and (rows["emissions_kg"] > 0).all()
    parts = rows["cpu_energy_kwh"] + rows["ram_energy_kwh"]
    assert np.allclose(rows["energy_kwh"], parts, rtol=1e-6)  # no GPU on the test machines
    assert rows["duration_s"].iloc[0] >= 0.3
    assert rows["ram_power_w"].iloc[0] > 0
    assert (rows["country"] == "GBR").all() and (rows["codecarbon_version"] == __version__).all()
    # One offline tracker, tracking this process tree, stopped once; nothing written by it.
    (tracker,) = spy.trackers
    assert isinstance(tracker, OfflineEmissionsTracker) and tracker._tracking_mode == "process"
    assert spy.calls == {"start_task": 2, "stop_task": 2, "stop": 1}
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["carbon", "carbon/job.csv"]


def test_the_job_wrapper_owns_the_meter_and_library_phases_measure_into_it(spy, tmp_path):
    with job_log(tmp_path / "job.log", carbon={"enabled": True, "country": "GBR"},
                 carbon_csv=tmp_path / "job.csv", model="mlp", n=9):
        _work(0.05)  # the job's own imports and loading, while CodeCarbon starts up
        with phase("train"):
            _work(0.05)
        with phase("inference"):
            _work(0.02)
    assert len(spy.trackers) == 1 and spy.calls == {"start_task": 2, "stop_task": 2, "stop": 1}
    rows = pd.read_csv(tmp_path / "job.csv")
    assert rows["stage"].tolist() == ["train", "inference"]
    assert rows["measurement"].isin(MEASURED).all() and (rows["energy_kwh"] > 0).all()
    assert rows["model"].tolist() == ["mlp", "mlp"] and rows["n"].tolist() == [9, 9]


def test_phases_outside_a_metered_job_measure_nothing(spy, tmp_path):
    with job_log(tmp_path / "job.log"), phase("train"):
        _work(0.01)
    assert spy.trackers == [] and list(tmp_path.iterdir()) == [tmp_path / "job.log"]


def test_disabled_accounting_in_a_job_records_phases_unmeasured(spy, tmp_path):
    with job_log(tmp_path / "job.log", carbon={"enabled": False, "country": "GBR"},
                 carbon_csv=tmp_path / "job.csv", n=9), phase("data"):
        _work(0.01)
    assert spy.trackers == []
    rows = pd.read_csv(tmp_path / "job.csv")
    assert rows["measurement"].tolist() == ["disabled"] and rows["energy_kwh"].isna().all()


def test_a_job_that_fails_on_bad_input_writes_no_carbon_csv(spy, tmp_path):
    with pytest.raises(SystemExit), job_log(tmp_path / "job.log", carbon={"enabled": True},
                                            carbon_csv=tmp_path / "job.csv"), phase("data"):
        raise DataError("bad.npy: broken")
    assert not (tmp_path / "job.csv").exists() and spy.calls["stop"] == 1


def test_tracker_is_stopped_once_when_the_job_fails(spy, tmp_path):
    with pytest.raises(ZeroDivisionError), carbon_meter(tmp_path / "job.csv", None, n=9) as meter, \
            meter.measure("train"):
        _ = 1 / 0
    assert spy.calls["stop"] == 1
    assert not (tmp_path / "job.csv").exists()


@pytest.mark.parametrize("fail", ["import", "init", "start_task", "stop_task", "stop"])
def test_a_failing_tracker_never_breaks_the_job(fail, monkeypatch, tmp_path):
    spy = Spy(fail=fail)
    monkeypatch.setattr(carbon, "offline_tracker", spy)
    if fail == "import":
        monkeypatch.setitem(sys.modules, "codecarbon", None)
    done = []
    with carbon_meter(tmp_path / "job.csv", {"country": "GBR"}, model="xor_oracle", n=12) as meter:
        with meter.measure("train"):
            done.append(_work(0.01))
        with meter.measure("inference"):
            done.append("predicted")
    assert len(done) == 2
    rows = pd.read_csv(tmp_path / "job.csv")
    assert rows["stage"].tolist() == ["train", "inference"]
    assert (rows["measurement"] == "unavailable").all()
    assert rows["energy_kwh"].isna().all() and rows["emissions_kg"].isna().all()
    assert (rows["duration_s"] > 0).all() and (rows["country"] == "GBR").all()
    built = fail not in ("import", "init")
    assert spy.calls["stop"] == (1 if built else 0)


def test_disabled_accounting_builds_no_tracker(spy, tmp_path):
    with carbon_meter(tmp_path / "job.csv", {"enabled": False, "country": "FRA"}, n=15) as meter, \
            meter.measure("data"):
        _work(0.01)
    rows = pd.read_csv(tmp_path / "job.csv")
    assert rows["measurement"].tolist() == ["disabled"] and rows["country"].tolist() == ["FRA"]
    assert rows["energy_kwh"].isna().all() and rows["duration_s"].iloc[0] > 0
    assert spy.trackers == [] and spy.calls["stop"] == 0


@pytest.mark.parametrize(("settings", "message"), [
    ({"enabled": "false"}, "carbon.enabled must be true or false"),
    ({"country": "gb"}, "carbon.country must be an ISO 3166-1 alpha-3 code"),
])
def test_bad_settings_are_refused_before_any_work(settings, message, tmp_path):
    with pytest.raises(DataError, match=message), carbon_meter(tmp_path / "job.csv", settings):
        pass
    assert not (tmp_path / "job.csv").exists()


def test_phases_are_known_stages_and_do_not_nest(tmp_path):
    with carbon_meter(tmp_path / "job.csv", {"enabled": False}) as meter:
        with pytest.raises(ValueError, match="unknown carbon stage"), meter.measure("training"):
            pass
        with meter.measure("train"), pytest.raises(RuntimeError, match="inside another"), \
                meter.measure("inference"):
            pass


def _unshare_problem() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare -n` is not permitted here (needs root): {probe.stderr.strip()}"
    return None


OFFLINE_JOB = textwrap.dedent("""
    import socket, sys
    from kryptonite_n.compute.carbon import carbon_meter

    interfaces = [name for _, name in socket.if_nameindex()]
    assert interfaces == ["lo"], f"network namespace still has {interfaces}"
    try:
        socket.create_connection(("1.1.1.1", 443), timeout=2)
        raise SystemExit("network reachable")
    except OSError:
        pass
    with carbon_meter(sys.argv[1], {"country": "GBR"}, model="mlp", n=9) as meter:
        with meter.measure("train"):
            sum(i * i for i in range(3_000_000))
""")


def test_a_job_is_measured_without_any_network(tmp_path):
    problem = _unshare_problem()
    if problem:
        unavailable(f"the offline-carbon test needs a network namespace: {problem}")
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_JOB, "carbon/job.csv"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
    )
    assert result.returncode == 0, result.stderr
    (row,) = pd.read_csv(tmp_path / "carbon" / "job.csv").to_dict("records")
    assert row["measurement"] in MEASURED, result.stderr
    assert row["energy_kwh"] > 0 and row["emissions_kg"] > 0 and row["country"] == "GBR"
    # CodeCarbon wrote nothing of its own: no emissions.csv, no lock file.
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert written == ["carbon", "carbon/job.csv", "tmp"]


def _job(path: Path, stage: str, **labels) -> Path:
    with carbon_meter(path, {"enabled": False}, **labels) as meter, meter.measure(stage):
        pass
    return path


def test_aggregate_keeps_every_job_row_in_order(tmp_path):
    files = [
        _job(tmp_path / "data" / "n9.csv", "data", n=9),
        _job(tmp_path / "fit" / "mlp" / "n9.csv", "train", model="mlp", n=9),
        tmp_path / "empty.csv",
        _job(tmp_path / "attack" / "mlp" / "n9.csv", "attack", model="mlp", n=9, repeat=0),
    ]
    pd.DataFrame(columns=COLUMNS).to_csv(files[2], index=False)
    measured = tmp_path / "measured.csv"
    row = {**dict.fromkeys(COLUMNS), "stage": "inference", "model": "mlp", "n": 9, "duration_s": 0.5,
           "energy_kwh": 2e-6, "cpu_energy_kwh": 5e-7, "ram_energy_kwh": 1.5e-6, "emissions_kg": 4e-7,
           "country": "GBR", "measurement": "CPU load estimate", "codecarbon_version": "3.3.2"}
    pd.DataFrame([row], columns=COLUMNS).to_csv(measured, index=False)
    aggregate([*files, measured], tmp_path / "carbon.csv")
    table = read_carbon(tmp_path / "carbon.csv")
    assert table["stage"].tolist() == ["data", "train", "attack", "inference"]
    assert table["model"].fillna("").tolist() == ["", "mlp", "mlp", "mlp"]
    assert table["n"].tolist() == [9, 9, 9, 9]
    assert table["repeat"].isna().tolist() == [True, True, False, True]
    assert table["measurement"].tolist() == ["disabled"] * 3 + ["CPU load estimate"]
    sums = table.groupby(["stage", "model"], dropna=False)["energy_kwh"].sum(min_count=1)
    assert math.isclose(sums[("inference", "mlp")], 2e-6)
    # n and repeat are written as integers even where a column has gaps (no "9.0").
    raw = pd.read_csv(tmp_path / "carbon.csv", dtype=str, keep_default_na=False)
    assert raw["n"].tolist() == ["9"] * 4
    assert raw["repeat"].tolist() == ["", "", "0", ""]


def test_aggregate_prices_the_measured_energy_on_the_chosen_grid(tmp_path):
    row = {**dict.fromkeys(COLUMNS), "stage": "train", "model": "mlp", "n": 9, "duration_s": 1.0,
           "energy_kwh": 2e-3, "emissions_kg": 1.0, "country": "GBR", "measurement": "RAPL"}
    pd.DataFrame([row]).to_csv(tmp_path / "job.csv", index=False)
    for country in ("GBR", "FRA"):
        aggregate([tmp_path / "job.csv"], tmp_path / f"{country}.csv", country=country)
    gbr, fra = (pd.read_csv(tmp_path / f"{c}.csv").iloc[0] for c in ("GBR", "FRA"))
    assert gbr["country"] == "GBR" and fra["country"] == "FRA"
    assert gbr["emissions_kg"] == pytest.approx(2e-3 * grid_intensity("GBR"))
    assert fra["emissions_kg"] == pytest.approx(2e-3 * grid_intensity("FRA"))
    # France's grid is mostly nuclear: far less CO2 per kWh than Britain's.
    assert 0 < fra["emissions_kg"] < gbr["emissions_kg"] / 2


def test_an_unknown_country_is_refused_by_name(tmp_path):
    with pytest.raises(DataError, match=r"carbon\.country='XXX'"):
        grid_intensity("XXX")


def test_aggregate_of_no_jobs_is_an_empty_table(tmp_path):
    aggregate([], tmp_path / "carbon.csv")
    assert list(pd.read_csv(tmp_path / "carbon.csv").columns) == AGGREGATE_COLUMNS


def test_a_bad_job_csv_is_named(tmp_path):
    bad = tmp_path / "fit" / "mlp" / "n9.csv"
    bad.parent.mkdir(parents=True)
    pd.DataFrame({"stage": ["train"], "energy_kwh": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match=rf"{bad}: missing carbon columns"):
        aggregate([bad], tmp_path / "carbon.csv")
    _job(bad, "train")
    frame = pd.read_csv(bad)
    frame.loc[0, "stage"] = "training"
    frame.to_csv(bad, index=False)
    with pytest.raises(DataError, match="unknown carbon stages"):
        aggregate([bad], tmp_path / "carbon.csv")
    assert not (tmp_path / "carbon.csv").exists()


@pytest.mark.workflow
def test_quick_run_measures_every_compute_job(quick_run):
    """results/carbon.csv holds every job's rows: datasets, each fit's training and inference,
    and whatever other stages gathered; every measured row used energy."""
    from conftest import REPO

    from kryptonite_n.plan.config import model_dimensions, prepare_config
    from kryptonite_n.plan.tuning import TUNABLE

    config = prepare_config(yaml.safe_load((REPO / "config" / "quick.yaml").read_text()))
    results = quick_run.directory / "results"
    table = read_carbon(results / "carbon.csv")
    table["model"] = table["model"].fillna("")
    stages = set(zip(table["stage"], table["model"], table["n"], strict=True))
    for n in config["dimensions"]:
        assert {("data", "", n), ("explore", "", n), ("split", "", n)} <= stages
    variants = {(stage, model) for stage, model, _ in stages if stage == "train_variants"}
    assert variants and all(model.startswith("mlp_") for _, model in variants)
    for model in config["models"]:
        for n in model_dimensions(config, model):
            metrics_json = results / "models" / model / f"n{n}" / "repeat0" / "metrics.json"
            metrics = json.loads(metrics_json.read_text())
            # A tuned fit taken over from the paper-settings fit trained nothing: its energy is
            # that fit's, charged once, to the model that trained.
            trained = model
            if metrics["details"].get("reused_from") == "paper":
                trained = {tuned: searched for searched, tuned in TUNABLE.items()}[model]
                assert ("train", model, n) not in stages, (model, n)
            phases = {(stage, trained, n) for stage in ("train", "inference", "score")}
            assert phases <= stages, (model, n)
    # Every per-job CSV is in it, row for row, except the report's (which reads carbon.csv).
    jobs = [path for path in (results / "carbon").rglob("*.csv")
            if not path.relative_to(results / "carbon").parts[0].startswith("report")]
    assert len(table) == sum(len(read_carbon(path)) for path in jobs)
    measured = table[table["measurement"] != "disabled"]
    assert set(measured["measurement"]) <= MEASURED
    assert (measured["energy_kwh"] > 0).all() and (measured["emissions_kg"] > 0).all()
    # The search is its own stage; the tuned model's fits are fits.
    for n in model_dimensions(config, "mlp_tuned"):
        assert ("tune", "mlp_tuned", n) in stages
    # Each watt charged once: at no instant do the running rows' charges exceed the machine's.
    charged = pd.read_csv(results / "carbon.csv")
    assert charged["started_at"].notna().all() and charged["ended_at"].notna().all()
    assert charged.loc[charged["energy_kwh"].notna(), "attributed_energy_kwh"].notna().all()
    from kryptonite_n.compute.carbon_share import power_at_instants

    pieces = power_at_instants(charged)
    assert (pieces["ram_w"] <= pieces["machine_ram_w"] * (1 + 1e-9)).all()
    assert (pieces["cpu_w"] <= pieces["tdp_w"] * (1 + 1e-9)).all()


def test_the_cpu_model_comes_from_proc_without_a_probe_process(monkeypatch):
    """py-cpuinfo's full probe spins a core for a second in a subprocess; /proc/cpuinfo names the CPU."""
    import cpuinfo

    proc = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in proc.read_text().splitlines()
             if line.startswith("model name")] if proc.exists() else []
    if not names:
        pytest.skip("no CPU model name in /proc/cpuinfo here: py-cpuinfo keeps its full probe")
    monkeypatch.setattr(cpuinfo, "get_cpu_info", cpuinfo.get_cpu_info)  # undone after the test
    carbon._read_cpu_model_from_proc()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a probe process was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert cpuinfo.get_cpu_info()["brand_raw"] == names[0]


# --------------------------------------------------------------------------- each watt once


class StubTracker:
    """A tracker whose readings are known: each task reports the figures it was given.

    Its hardware is CodeCarbon's own objects (a CPU estimated from a TDP, RAM with a forced
    power), so the meter reads them exactly as it reads a real tracker's.
    """

    READING: ClassVar[dict] = {"duration": 2.0, "energy_consumed": 3.0e-5, "cpu_energy": 1.0e-5,
                               "ram_energy": 2.0e-5, "emissions": 6.0e-6, "country_iso_code": "GBR",
                               "codecarbon_version": "stub"}

    def __init__(self, country: str):
        from codecarbon.external.hardware import CPU
        from codecarbon.external.ram import RAM

        cpu = CPU("", "cpu_load", "Stub CPU 9000 (not in any table)", 65, tracking_mode="process")
        self._hardware = [cpu, RAM(tracking_mode="process", force_ram_power=30)]
        self.final_emissions_data = None

    def get_detected_hardware(self) -> dict:
        return {}

    def start_task(self, name: str) -> None:
        pass

    def stop_task(self, name: str):
        return type("TaskData", (), dict(self.READING))()

    def stop(self) -> None:
        self.final_emissions_data = object()


def test_rows_hold_the_trackers_readings_as_given(monkeypatch, tmp_path):
    """The stub's readings, literally: a factor anywhere between reading and row is caught."""
    monkeypatch.setattr(carbon, "offline_tracker", StubTracker)
    with carbon_meter(tmp_path / "job.csv", {"country": "GBR"}, model="mlp", n=9) as meter, \
            meter.measure("train"):
        _work(0.05)
    (row,) = read_carbon(tmp_path / "job.csv").to_dict("records")
    assert row["measurement"] == "CPU load estimate" and row["cpu_power_source"] == "tdp_cpu_load"
    assert (row["energy_kwh"], row["cpu_energy_kwh"], row["ram_energy_kwh"], row["emissions_kg"]) == \
        (3.0e-5, 1.0e-5, 2.0e-5, 6.0e-6)
    # Mean powers over the reading's 2 s: 1e-5 kWh = 36 J -> 18 W; 2e-5 kWh -> 36 W.
    assert row["cpu_power_w"] == pytest.approx(18.0) and row["ram_power_w"] == pytest.approx(36.0)
    assert row["tdp_w"] == 65 and row["cpu_model"] == "Stub CPU 9000 (not in any table)"
    assert row["tdp_generic"] is True or row["tdp_generic"] == "True"  # not in CodeCarbon's table
    assert row["machine_ram_power_w"] == 30
    # Charged alone on the machine: all of its RAM power, and the TDP x its CPU rate.
    aggregate([tmp_path / "job.csv"], tmp_path / "carbon.csv")
    (charged,) = pd.read_csv(tmp_path / "carbon.csv").to_dict("records")
    assert charged["tdp_check"] == "unknown_cpu" and charged["tdp_source"] == "codecarbon"
    assert charged["tdp_used_w"] == 65
    # (The times are written to the microsecond, hence the tolerance on a phase of ~0.1 s.)
    assert charged["attributed_ram_energy_kwh"] == pytest.approx(30 * row["duration_s"] / 3.6e6, rel=1e-4)
    cpus = row["machine_cpus"]
    rate = min(row["cpu_time_s"] / row["duration_s"], cpus)
    assert charged["attributed_cpu_energy_kwh"] == pytest.approx(65 * rate / cpus * row["duration_s"] / 3.6e6,
                                                                 rel=1e-4)
    assert charged["ram_share"] == pytest.approx(1.0, rel=1e-4)
    # Priced at the emissions per kWh as read (6e-6 / 3e-5 = 0.2 kg per kWh).
    assert charged["attributed_emissions_kg"] == pytest.approx(0.2 * charged["attributed_energy_kwh"])


def _row(stage: str, start: float, end: float, *, rss: float, cpu_s: float, **extra) -> dict:
    iso = [pd.Timestamp(t, unit="s", tz="UTC").isoformat() for t in (start, end)]
    return {**dict.fromkeys(COLUMNS), "stage": stage, "model": "", "duration_s": end - start,
            "energy_kwh": 1e-6, "cpu_energy_kwh": 5e-7, "ram_energy_kwh": 5e-7, "emissions_kg": 2e-7,
            "measurement": "CPU load estimate", "cpu_power_source": "tdp_cpu_load", "tdp_w": 100,
            "tdp_generic": False, "started_at": iso[0], "ended_at": iso[1], "host": "h", "rss_mb": rss,
            "cpu_time_s": cpu_s, "machine_cpus": 2, "machine_ram_power_w": 20, **extra}


def test_power_is_shared_among_the_rows_running_at_the_same_time():
    """A: 0-10 s, 300 MB, one CPU busy; B: 5-15 s, 100 MB, both CPUs; C: 12-20 s, 50 MB, half a
    CPU. A 20 W RAM, a 100 W TDP, 2 logical CPUs. Each row is charged one constant power."""
    from kryptonite_n.compute.carbon_share import attribute, power_at_instants

    table = attribute(pd.DataFrame([_row("train", 1e9, 1e9 + 10, rss=300, cpu_s=10),
                                    _row("attack", 1e9 + 5, 1e9 + 15, rss=100, cpu_s=20),
                                    _row("score", 1e9 + 12, 1e9 + 20, rss=50, cpu_s=4)]))
    watts = table[["attributed_ram_energy_kwh", "attributed_cpu_energy_kwh"]].mul(3.6e6) \
        .div(table["duration_s"], axis=0)
    # RAM: A and B fill 5-10 s by memory (15 W and 5 W); C then fills 12-15 s beside B's 5 W.
    assert watts["attributed_ram_energy_kwh"].tolist() == pytest.approx([15.0, 5.0, 15.0])
    # CPU: A's own estimate is 50 W, B's 100 W: 150 W in 5-10 s, cut to the TDP in proportion;
    # C's own 25 W fits beside B's.
    assert watts["attributed_cpu_energy_kwh"].tolist() == pytest.approx([100 / 3, 200 / 3, 25.0])
    assert table["ram_share"].tolist() == pytest.approx([0.75, 0.25, 0.75])
    assert table["cpu_share"].tolist() == pytest.approx([1 / 3, 2 / 3, 0.25])
    pieces = power_at_instants(table)
    assert pieces["seconds"].tolist() == pytest.approx([5.0, 5.0, 2.0, 3.0, 5.0])
    assert pieces["rows"].tolist() == [1, 2, 1, 2, 1]
    assert pieces["ram_w"].tolist() == pytest.approx([15.0, 20.0, 5.0, 20.0, 15.0])
    assert pieces["cpu_w"].tolist() == pytest.approx([100 / 3, 100.0, 200 / 3, 200 / 3 + 25, 25.0])
    # Rows of another host share nothing with these: alone, each is charged all 20 W.
    other = attribute(pd.DataFrame([_row("train", 1e9, 1e9 + 10, rss=300, cpu_s=10),
                                    _row("attack", 1e9 + 5, 1e9 + 15, rss=100, cpu_s=20, host="g")]))
    assert (other["attributed_ram_energy_kwh"] * 3.6e6).tolist() == pytest.approx([200.0, 200.0])


@pytest.mark.parametrize(("tdp_w", "expected"), [
    (None, [("unknown_cpu", "codecarbon", 8.0), ("below_floor", "codecarbon", 9.0),
            ("ok", "codecarbon", 65.0), ("", "", None)]),
    (120, [("unknown_cpu", "carbon.tdp_w", 120.0), ("below_floor", "carbon.tdp_w", 120.0),
           ("ok", "codecarbon", 65.0), ("", "", None)]),
])
def test_an_implausible_tdp_is_flagged_and_replaced_by_the_configured_one(tdp_w, expected):
    from kryptonite_n.compute.carbon_share import tdp_choice

    table = pd.DataFrame({"cpu_power_source": ["tdp_cpu_load", "tdp_cpu_load", "tdp_constant", "rapl"],
                          "tdp_w": [8.0, 9.0, 65.0, None], "tdp_generic": [True, False, False, None]})
    chosen = tdp_choice(table, tdp_w, floor_w=15)
    got = [(c, s, None if math.isnan(w) else w) for c, s, w in chosen.itertuples(index=False)]
    assert got == expected


def test_bad_tdp_settings_are_refused_by_name(tmp_path):
    for settings, message in [({"tdp_w": 0}, "carbon.tdp_w must be a number of watts above 0 or null"),
                              ({"tdp_floor_w": "15"}, "carbon.tdp_floor_w must be a number of watts")]:
        with pytest.raises(DataError, match=message), carbon_meter(tmp_path / "job.csv", settings):
            pass


def test_the_search_is_its_own_stage(tmp_path):
    """A tuning worker's trials say ``train``; in carbon.csv they are the ``tune`` stage."""
    worker = tmp_path / "results" / "carbon" / "tune" / "mlp" / "n9" / "worker0.csv"
    fit = tmp_path / "results" / "carbon" / "fit" / "mlp_tuned" / "n9.csv"
    for path in (worker, fit):
        _job(path, "train", model="mlp_tuned", n=9)
    aggregate([worker, fit], tmp_path / "carbon.csv")
    assert pd.read_csv(tmp_path / "carbon.csv")["stage"].tolist() == ["tune", "train"]


OVERLAPPING_JOB = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from kryptonite_n.compute.carbon import carbon_meter

    out, before, wait_for, signal = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    with carbon_meter(out, {"country": "GBR"}, model="mlp", n=9) as meter:
        started = time.time()
        while before.name != "-" and not before.exists() and time.time() - started < 60:
            time.sleep(0.01)
        with meter.measure("train"):
            signal.touch()
            started = time.time()
            while not wait_for.exists() and time.time() - started < 60:
                sum(i * i for i in range(20_000))
            time.sleep(0.2)
""")


def test_two_overlapping_jobs_are_charged_the_machines_ram_once(tmp_path):
    """Two real jobs whose phases overlap in time: the RAM energy charged is the machine's RAM
    power over the time either ran, once, whatever CodeCarbon charged each as read."""
    from kryptonite_n.compute.carbon_share import power_at_instants

    def start(name: str, before: str, wait_for: str) -> subprocess.Popen:
        files = [tmp_path / f"{name}.csv", tmp_path / before, tmp_path / wait_for, tmp_path / f"{name}.in"]
        return subprocess.Popen([sys.executable, "-c", OVERLAPPING_JOB, *map(str, files)], cwd=tmp_path)

    # B's phase starts once A's has; A measures until B has started, B until A has ended: the
    # phases overlap, neither holds the other.
    first = start("a", "-", "b.in")
    second = start("b", "a.in", "a.csv")
    assert first.wait(120) == 0 and second.wait(120) == 0
    aggregate([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "carbon.csv", country="GBR")
    table = pd.read_csv(tmp_path / "carbon.csv")
    times = table[["started_at", "ended_at"]].apply(pd.to_datetime, format="ISO8601")
    assert times["started_at"][0] < times["started_at"][1] < times["ended_at"][0] < times["ended_at"][1]
    union = (times["ended_at"][1] - times["started_at"][0]).total_seconds()
    machine_ram = table["machine_ram_power_w"].iloc[0]
    assert machine_ram > 0 and table["machine_ram_power_w"].nunique() == 1
    # While both ran, their RAM power adds up to the machine's, once; never more at any instant.
    pieces = power_at_instants(table)
    assert pieces["rows"].tolist() == [1, 2, 1]
    assert pieces["ram_w"][1] == pytest.approx(machine_ram, rel=1e-9)
    assert (pieces["ram_w"] <= pieces["machine_ram_w"] * (1 + 1e-9)).all()
    assert (pieces["cpu_w"] <= pieces["tdp_w"] * (1 + 1e-9)).all()
    assert table["attributed_ram_energy_kwh"].sum() * 3.6e6 <= machine_ram * union * (1 + 1e-9)
