"""Carbon accounting for every computation, with CodeCarbon's offline tracker.

Every compute job opens one ``carbon_meter`` around its whole computation and marks its
phases with ``meter.measure(stage)``; the meter writes one CSV per job, one row per phase,
and ``aggregate`` gathers the jobs' CSVs into the study's table.

Nothing here is a measurement unless a meter read the CPU (RAPL...): CodeCarbon estimates the
CPU's power from a TDP where it has no meter, and the RAM's always from a model. Each row keeps
CodeCarbon's readings as read, and records what is needed to charge each watt once (when the
phase ran, its CPU seconds and resident memory, the machine's CPUs and RAM power, the TDP
CodeCarbon found and whether that was a lookup); ``aggregate`` then charges every row its share
of the machine's power at each instant, with the TDP used stated per row
(kryptonite_n.compute.carbon_share).

CodeCarbon 3.3.2 needs about 1.3 s to get ready on an idle 2-core machine (2 s counting its
imports; about 6 s when two jobs start together), a lot beside the study's many short jobs.
Almost all of it is one call: to look the CPU's TDP up in its registry CodeCarbon reads the
CPU's model name with py-cpuinfo, which starts a Python process that forks a child to time
the clock, the child sleeping a full second while the parent spins on a core: about a CPU
second per job, which made accounting cost 31% of the quick run's wall time on 2 cores. No
setting skips it (RAPL or not, forced power or not). On Linux the model name is read from
/proc/cpuinfo instead (py-cpuinfo's own parser of it: the same name the kernel reads from
the CPU), and the rest is hidden:

* one ``OfflineEmissionsTracker`` per job (the machines have no network, so never the online
  one), in ``process`` tracking mode so that parallel jobs are each charged for their own
  process tree rather than for the whole machine;
* CodeCarbon's modules are imported in the job's main thread (so that no import can deadlock
  against the job's own imports); the tracker is then built and its hardware probed in a
  background thread, which imports nothing, while the job goes on. A job that calls
  ``start_tracker`` first thing (``jobs.job_log(..., carbon=...)`` does, before the job's heavy
  imports) hides the start-up behind them; otherwise it starts when the meter opens. The
  first phase waits for what is left, so that every phase is measured from its very start;
* phases are CodeCarbon tasks (``start_task``/``stop_task``) of that one tracker, which is
  stopped exactly once when the meter closes; the periodic scheduler is never started;
* CodeCarbon writes nothing itself: no output methods (no ``emissions.csv``), no API, no lock
  file (``allow_multiple_runs``), and it logs errors only.

Measurement never breaks the science: if CodeCarbon cannot be imported, started, or stopped,
the job's work goes on and all of its rows say ``measurement=unavailable``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from kryptonite_n.compute.carbon_share import (
    POWER_SOURCES,
    SHARE_COLUMNS,
    TDP_FLOOR_W,
    attribute,
    cpu_counters,
    phase_memory_mb,
    resident_mb,
    utc_iso,
)
from kryptonite_n.io import DataError, write_csv
from kryptonite_n.plan.paths import CARBON_PARTS

#: One job's row per phase. The energy, power and emissions columns are CodeCarbon's readings
#: as it gives them ("as read"); the rest is what aggregation needs to charge each watt once:
#: when the phase ran (UTC, ISO 8601) and on which host, the resident memory and CPU seconds of
#: the job's process tree, the machine's logical CPUs and its RAM power (CodeCarbon's model for
#: the machine's whole memory), the CPU that CodeCarbon found and the TDP it gave it.
COLUMNS = [
    "stage", "model", "n", "repeat", "duration_s", "energy_kwh", "cpu_energy_kwh",
    "ram_energy_kwh", "emissions_kg", "cpu_power_w", "ram_power_w", "country", "measurement",
    "codecarbon_version", "cpu_power_source", "tdp_w", "cpu_time_s", "machine_busy_s",
    "started_at", "ended_at", "host", "rss_mb", "machine_cpus", "machine_ram_power_w", "cpu_model",
    "tdp_generic",
]
#: What aggregation adds: the TDP used and why, each row's shares and the energy charged to it.
AGGREGATE_COLUMNS = [*COLUMNS, *[c for c in SHARE_COLUMNS if c not in COLUMNS]]
#: Phases, each named for what it holds: ``data`` making or reading a dataset, ``explore``
#: its exploration tables, ``split`` its train/validation/test splits; ``train`` and
#: ``inference`` are the model fits' own
#: (inference = predicting the test and hidden sets), ``score`` their accuracies on every split,
#: ``train_variants`` the activation variants of the network analysis, ``network_analysis``
#: their weight and gradient measures and attacks, ``decision_boundary`` the boundary grids.
#: ``tune`` is the hyperparameter search's: its jobs mark their trials ``train``, and aggregation
#: charges them to ``tune`` by where the job wrote its CSV (``job_stage``), apart from the fits.
STAGES = ("data", "explore", "split", "tune", "train", "inference", "score", "attack", "train_variants",
          "network_analysis", "decision_boundary", "scaling", "report")
ENERGY_COLUMNS = ["energy_kwh", "cpu_energy_kwh", "ram_energy_kwh", "emissions_kg", "cpu_power_w",
                  "ram_power_w", "machine_ram_power_w", "tdp_generic", "cpu_model"]
DISABLED = "disabled"
UNAVAILABLE = "unavailable"
#: How CodeCarbon measures the CPU, by the mode of the CPU object it set up.
CPU_METHODS = {
    "intel_rapl": "RAPL",
    "cpu_load": "CPU load estimate",
    "constant": "constant TDP",
    "intel_power_gadget": "Intel Power Gadget",
    "windows_emi": "Windows EMI",
}
#: Longest wait for the tracker to get ready; past it the job goes on unmeasured.
STARTUP_TIMEOUT_S = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CarbonSettings:
    enabled: bool = True
    country: str = "GBR"
    #: The CPU's TDP (W) where CodeCarbon's is implausible; None keeps CodeCarbon's (flagged).
    tdp_w: float | None = None
    tdp_floor_w: float = TDP_FLOOR_W

    @classmethod
    def of(cls, settings: CarbonSettings | dict | None) -> CarbonSettings:
        """Settings from the config's ``carbon`` section (keys other stages use are ignored)."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        known = {f.name for f in fields(cls)}
        chosen = cls(**{key: value for key, value in settings.items() if key in known})
        if not isinstance(chosen.enabled, bool):
            raise DataError(f"carbon.enabled must be true or false, got {chosen.enabled!r}")
        if not (isinstance(chosen.country, str) and len(chosen.country) == 3 and chosen.country.isupper()):
            raise DataError(f"carbon.country must be an ISO 3166-1 alpha-3 code, got {chosen.country!r}")
        for key in ("tdp_w", "tdp_floor_w"):
            value = getattr(chosen, key)
            if (value is not None or key == "tdp_floor_w") and not (
                    isinstance(value, int | float) and not isinstance(value, bool) and value > 0):
                raise DataError(f"carbon.{key} must be a number of watts above 0"
                                f"{' or null' if key == 'tdp_w' else ''}, got {value!r}")
        return chosen


def _import_for_probe() -> str:
    """Import what building the tracker and probing the hardware use; return CodeCarbon's version.

    Imported here, in the job's main thread, so that the probe thread imports nothing while
    the job imports its own modules (concurrent imports can deadlock on circular imports).
    """
    import importlib.readers  # the CPU power registry is read with importlib.resources
    import importlib.resources.readers  # noqa: F401

    import codecarbon
    import codecarbon.core.resource_tracker

    _read_cpu_model_from_proc()

    # CodeCarbon logs at INFO until a tracker sets its level: keep the job log to its errors.
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    return codecarbon.__version__


def _read_cpu_model_from_proc() -> None:
    """Make py-cpuinfo answer from /proc/cpuinfo (Linux), without its clock-timing subprocess.

    CodeCarbon asks py-cpuinfo only for the CPU's model name (``brand_raw``). Where
    /proc/cpuinfo does not name the CPU, py-cpuinfo keeps its own full probe.
    """
    import cpuinfo

    if not sys.platform.startswith("linux") or getattr(cpuinfo.get_cpu_info, "from_proc", False):
        return
    try:
        info = cpuinfo.cpuinfo._get_cpu_info_from_proc_cpuinfo()
    except Exception as error:  # a private parser: if it changes, fall back to the full probe
        log.debug("py-cpuinfo's /proc/cpuinfo parser failed: %s", error)
        return
    if info.get("brand_raw"):
        def from_proc() -> dict:
            return dict(info)

        from_proc.from_proc = True
        cpuinfo.get_cpu_info = from_proc


def _import_for_tasks() -> None:
    """Import what the first task imports (requests, pycountry...), while the probe runs."""
    import codecarbon.core.cloud
    import codecarbon.core.emissions
    import codecarbon.external.geography  # noqa: F401
    import pycountry  # noqa: F401


def offline_tracker(country: str) -> Any:
    """A quiet offline tracker that measures this process tree and writes nothing itself."""
    from codecarbon import OfflineEmissionsTracker

    return OfflineEmissionsTracker(
        country_iso_code=country,
        tracking_mode="process",
        output_methods=[],
        emissions_endpoint=None,
        log_level="error",
        allow_multiple_runs=True,
        project_name="kryptonite-n",
    )


def measurement_method(tracker: Any) -> str:
    """How ``tracker`` measures the CPU, read from the hardware objects CodeCarbon set up."""
    from codecarbon.external.hardware import CPU, AppleSiliconChip, Raspberry

    for hardware in tracker._hardware:
        if isinstance(hardware, CPU):
            return CPU_METHODS.get(hardware._mode, hardware._mode)
        if isinstance(hardware, AppleSiliconChip) and hardware.chip_part == "CPU":
            return "PowerMetrics"
        if isinstance(hardware, Raspberry) and hardware.chip_part == "CPU":
            return "Raspberry Pi PMIC"
    raise RuntimeError("CodeCarbon set up no CPU measurement")


def power_source(tracker: Any) -> tuple[str, float | None]:
    """``cpu_power_source`` (``rapl``, ``tdp_cpu_load``, ``tdp_constant``...) and the TDP used, if any."""
    from codecarbon.external.hardware import CPU

    for hardware in tracker._hardware:
        if isinstance(hardware, CPU):
            tdp = getattr(hardware, "_tdp", None)
            return POWER_SOURCES.get(hardware._mode, str(hardware._mode)), None if tdp is None else float(tdp)
    return "other", None


def _registry_tdp(model: str | None) -> float | None:
    """The TDP CodeCarbon's table gives ``model`` (None if absent): for a CPU missing from it
    CodeCarbon makes up 4 W per logical CPU and says so only in a warning."""
    from codecarbon.core import cpu
    from codecarbon.core.hardware_cache import get_cached_tdp

    if not model:
        return None
    try:
        return get_cached_tdp(cpu)._get_cpu_power_from_registry(model)
    except Exception as error:  # private API: an unknown answer, never a failed job
        log.debug("CodeCarbon's CPU table lookup failed: %s", error)
        return None


@dataclass(frozen=True)
class Hardware:
    """What CodeCarbon found: the CPU's name, whether its TDP is CodeCarbon's default for a CPU
    missing from its table (rather than the table's figure), and the machine's RAM power."""

    cpu_model: str | None = None
    tdp_generic: bool | None = None
    machine_ram_power_w: float | None = None


def hardware_of(tracker: Any) -> Hardware:
    """The CPU and the machine-wide RAM power, from the hardware objects CodeCarbon set up.

    The RAM power is CodeCarbon's own model (watts per DIMM, DIMMs guessed from the size)
    applied to the machine's whole memory, not to the process's: one figure for the machine,
    which aggregation shares among the jobs running at the same time.
    """
    from codecarbon.external.hardware import CPU
    from codecarbon.external.ram import RAM

    found: dict[str, Any] = {}
    for hardware in tracker._hardware:
        if isinstance(hardware, CPU):
            found["cpu_model"] = str(hardware._model) if hardware._model else None
            found["tdp_generic"] = bool(getattr(hardware, "_is_generic_tdp", False)) \
                or _registry_tdp(hardware._model) is None
        elif isinstance(hardware, RAM):
            force = getattr(hardware, "_force_ram_power", None)
            found["machine_ram_power_w"] = float(force if force is not None else
                                                 hardware._calculate_ram_power(hardware.machine_memory_GB))
    return Hardware(**found)


def _cpu_description(tracker: Any) -> str:
    from codecarbon.external.hardware import CPU

    for hardware in tracker._hardware:
        if isinstance(hardware, CPU) and hardware._mode in ("cpu_load", "constant"):
            generic = ", CodeCarbon's generic value" if hardware._is_generic_tdp else ""
            return f"{hardware._model!r} with TDP {hardware._tdp} W{generic}"
    return ""


def _installed_version() -> str:
    try:
        return importlib.metadata.version("codecarbon")
    except importlib.metadata.PackageNotFoundError:
        return ""


class _Tracker:
    """The job's one tracker: built and probed in the background, stopped exactly once."""

    def __init__(self, country: str):
        self.country = country
        self.tracker: Any = None
        self.method = UNAVAILABLE
        self.power_source: str | None = None
        self.tdp_w: float | None = None
        self.hardware = Hardware()
        self.version = _installed_version()
        self.failure: str | None = None
        self.tasks_started = 0
        self._stopped = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        # Where the accounting's own time goes, for the job log.
        self.timings = {"import_s": 0.0, "startup_s": float("nan"), "waited_s": 0.0}
        opened = time.perf_counter()
        try:
            self.version = _import_for_probe()
        except Exception as error:  # a broken install must not break the job
            self.fail(f"cannot import CodeCarbon ({error!r})")
            self._ready.set()
            return
        self._thread = threading.Thread(target=self._prepare, args=(country,),
                                        name="carbon-tracker-start", daemon=True)
        self._thread.start()
        try:
            _import_for_tasks()
        except Exception as error:
            self.fail(f"cannot import CodeCarbon ({error!r})")
        finally:
            self.timings["import_s"] = time.perf_counter() - opened

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            log.warning("carbon accounting unavailable for this job: %s", reason)

    def _prepare(self, country: str) -> None:
        started = time.perf_counter()
        try:
            self.tracker = offline_tracker(country)
            self.tracker.get_detected_hardware()  # the slow hardware probe
            self.method = measurement_method(self.tracker)
            self.power_source, self.tdp_w = power_source(self.tracker)
            self.hardware = hardware_of(self.tracker)
            log.info("carbon: CodeCarbon %s offline tracker, country %s, CPU measured by %s %s",
                     self.version, country, self.method, _cpu_description(self.tracker))
        except Exception as error:
            self.fail(f"tracker failed to start ({error!r})")
        finally:
            self.timings["startup_s"] = time.perf_counter() - started
            self._ready.set()

    def start_task(self, name: str) -> bool:
        waiting = time.perf_counter()
        if not self._ready.wait(STARTUP_TIMEOUT_S):
            self.fail(f"tracker not ready after {STARTUP_TIMEOUT_S:.0f} s")
        self.timings["waited_s"] += time.perf_counter() - waiting
        if self.failure is not None:
            return False
        try:
            self.tracker.start_task(name)
        except Exception as error:
            self.fail(f"start_task failed ({error!r})")
            return False
        self.tasks_started += 1
        return True

    def stop_task(self, name: str) -> Any:
        try:
            data = self.tracker.stop_task(name)
        except Exception as error:
            self.fail(f"stop_task failed ({error!r})")
            return None
        if data is None:
            self.fail(f"stop_task({name!r}) returned nothing")
        return data

    def stop(self) -> None:
        """Stop the tracker, once; wait for its start-up so that nothing is left running."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._thread.join(STARTUP_TIMEOUT_S)
            if self._thread.is_alive():
                self.fail("tracker start-up never finished; not stopped")
                return
        if self.tracker is None:
            return
        try:
            self.tracker.stop()
        except Exception as error:
            self.fail(f"stop failed ({error!r})")
            return
        # CodeCarbon's stop() swallows its own errors; only a finished stop leaves its final data.
        if self.tasks_started and getattr(self.tracker, "final_emissions_data", None) is None:
            self.fail("stop did not finish (CodeCarbon logged why)")


def _phase_columns(data: Any) -> dict[str, Any]:
    """One phase's row from CodeCarbon's task data; powers are the phase's mean power."""
    seconds = data.duration

    def watts(kwh: float) -> float:
        return kwh * 3.6e6 / seconds if seconds > 0 else float("nan")

    return {
        "energy_kwh": data.energy_consumed, "cpu_energy_kwh": data.cpu_energy,
        "ram_energy_kwh": data.ram_energy, "emissions_kg": data.emissions,
        "cpu_power_w": watts(data.cpu_energy), "ram_power_w": watts(data.ram_energy),
        "country": data.country_iso_code, "codecarbon_version": data.codecarbon_version,
    }


@dataclass
class Meter:
    """Records one row per measured phase of a job."""

    settings: CarbonSettings
    labels: dict
    rows: list[dict] = field(default_factory=list)
    tracker: _Tracker | None = None
    _active: bool = False

    @contextlib.contextmanager
    def measure(self, stage: str, **labels) -> Iterator[None]:
        """Measure one phase; phases run one after another, never nested."""
        if stage not in STAGES:
            raise ValueError(f"unknown carbon stage {stage!r}; expected one of {STAGES}")
        if self._active:
            raise RuntimeError(f"carbon phase {stage!r} opened inside another phase")
        row = {**dict.fromkeys(COLUMNS), **self.labels, **labels, "stage": stage,
               "country": self.settings.country,
               "measurement": DISABLED if self.tracker is None else UNAVAILABLE}
        task = f"{stage}-{len(self.rows)}"
        started = self.tracker is not None and self.tracker.start_task(task)
        self._active = True
        start = time.perf_counter()
        cpu_start, busy_start, _ = cpu_counters()
        rss_start = resident_mb()
        try:
            yield
        finally:
            self._active = False
        row["duration_s"] = time.perf_counter() - start
        cpu_end, busy_end, ended = cpu_counters()
        # The job's and the machine's CPU seconds over the phase, when it ran and the memory it
        # held: aggregation shares the machine's power out by them (kryptonite_n.compute.carbon_share).
        row["cpu_time_s"], row["machine_busy_s"] = cpu_end - cpu_start, busy_end - busy_start
        row["started_at"], row["ended_at"] = utc_iso(ended - row["duration_s"]), utc_iso(ended)
        row["rss_mb"] = phase_memory_mb(rss_start, resident_mb())
        row["host"], row["machine_cpus"] = socket.gethostname(), os.cpu_count()
        if started:
            data = self.tracker.stop_task(task)
            if data is not None:
                row.update(_phase_columns(data), measurement=self.tracker.method,
                           cpu_power_source=self.tracker.power_source, tdp_w=self.tracker.tdp_w,
                           **vars(self.tracker.hardware))
        self.rows.append(row)

    def finish(self) -> None:
        """After the tracker stopped: a tracker that failed anywhere vouches for no row."""
        if self.tracker is None:
            return
        if self.tracker.failure is not None:
            for row in self.rows:
                row.update(dict.fromkeys(ENERGY_COLUMNS), measurement=UNAVAILABLE, cpu_power_source=None,
                           tdp_w=None,
                           country=self.settings.country, codecarbon_version=self.tracker.version)
            return
        energy = sum(row["energy_kwh"] for row in self.rows)
        log.info("carbon: %d phase(s), %.3g kWh, %.3g kg CO2eq; importing CodeCarbon took %.2f s, "
                 "its start-up %.2f s in the background, of which the job waited %.2f s",
                 len(self.rows), energy, sum(row["emissions_kg"] for row in self.rows),
                 *self.tracker.timings.values())


#: The meter of the job running in this process (``jobs.job_log`` opens it), if any.
_job_meter: Meter | None = None


@contextlib.contextmanager
def carbon_meter(csv_path: Path | str, settings: CarbonSettings | dict | None = None,
                 **labels) -> Iterator[Meter]:
    """Measure a job with one tracker; on success write its rows to ``csv_path`` (atomically).

    While it is open, ``phase`` measures into it. Open it as early as possible in the job: the
    tracker gets ready while the job works, and the first phase waits for what is left.
    """
    global _job_meter
    settings = CarbonSettings.of(settings)
    tracker = _Tracker(settings.country) if settings.enabled else None
    meter = Meter(settings, {"model": "", "n": None, "repeat": None, **labels}, tracker=tracker)
    previous, _job_meter = _job_meter, meter
    try:
        yield meter
    finally:
        _job_meter = previous
        if tracker is not None:
            tracker.stop()
    meter.finish()
    write_csv(csv_path, pd.DataFrame(meter.rows, columns=COLUMNS))


@contextlib.contextmanager
def phase(stage: str, **labels) -> Iterator[None]:
    """Measure one phase of the running job; outside a metered job, do nothing.

    Library code marks its phases with this and never handles carbon settings: the job
    wrapper (``jobs.job_log``) owns the meter, so accounting choices never reach the science.
    """
    if _job_meter is None:
        yield
        return
    with _job_meter.measure(stage, **labels):
        yield


#: Recording columns that a meter older than the time-sharing one did not write.
TIMING_COLUMNS = ["started_at", "ended_at", "host", "rss_mb", "machine_cpus", "machine_ram_power_w",
                  "cpu_model", "tdp_generic"]


def read_carbon(path: Path | str) -> pd.DataFrame:
    """Read one job's carbon CSV, checking it has the meter's columns and stages."""
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"{path}: not a readable carbon CSV ({error})") from error
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        again = " (written by an older meter: rerun the job)" if set(missing) <= set(TIMING_COLUMNS) else ""
        raise DataError(f"{path}: missing carbon columns {missing}{again}")
    unknown = sorted(set(table["stage"]) - set(STAGES))
    if unknown:
        raise DataError(f"{path}: unknown carbon stages {unknown}; expected {list(STAGES)}")
    return table[COLUMNS]


def job_stage(path: Path | str) -> str | None:
    """The stage every row of a job's CSV is charged to whatever its phases say, if any.

    A tuning search's trials are model fits (its phases say ``train``), but the search is its
    own stage: its jobs write under ``results/carbon/tune/`` (paths.CARBON_TUNE).
    """
    parts = Path(path).parts
    below = [parts[i + 1] for i in range(len(parts) - 1) if parts[i] == Path(CARBON_PARTS).name]
    return "tune" if below and below[-1] == "tune" else None


def grid_intensity(country: str) -> float:
    """kg CO2eq per kWh of ``country``'s grid, from CodeCarbon's own offline table."""
    from codecarbon.core.emissions import Emissions
    from codecarbon.core.units import Energy
    from codecarbon.external.geography import GeoMetadata
    from codecarbon.input import DataSource

    source = DataSource()
    # CodeCarbon would fall back to the world average, silently but for a log line.
    if country not in source.get_global_energy_mix_data():
        raise DataError(f"carbon.country={country!r}: CodeCarbon has no energy mix for this country")
    return float(Emissions(source).get_country_emissions(Energy.from_energy(1.0),
                                                         GeoMetadata(country_iso_code=country)))


def aggregate(csv_paths: list[Path | str], out: Path | str, country: str | None = None,
              tdp_w: float | None = None, tdp_floor_w: float = TDP_FLOOR_W) -> None:
    """Concatenate per-job carbon CSVs into one table, in the order given, and charge each row.

    With ``country``, emissions are those of the energy on that country's grid: jobs record
    energy, and the grid is chosen here, so a new country reruns only this step. Likewise the
    TDP: where CodeCarbon's is implausible (under ``tdp_floor_w``, or its default for a CPU it
    does not know) the rows say so and use ``tdp_w`` if given (carbon_share.tdp_choice). The
    charged columns share the machine's CPU and RAM power among the rows running at the same
    time (carbon_share.attribute); the columns as read are CodeCarbon's, unchanged.
    """
    frames = []
    for path in csv_paths:
        frame = read_carbon(path)
        if (stage := job_stage(path)) is not None:
            frame["stage"] = stage
        if not frame.empty:
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    for column in ("n", "repeat"):
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    table["model"] = table["model"].astype("string").fillna("")
    intensity = None
    if country is not None:
        intensity = grid_intensity(country)
        table["country"] = country
        table["emissions_kg"] = pd.to_numeric(table["energy_kwh"]) * intensity
    write_csv(out, attribute(table, tdp_w, tdp_floor_w, intensity)[AGGREGATE_COLUMNS])
