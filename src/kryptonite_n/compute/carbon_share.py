"""Which part of the machine's CPU and RAM power is a job's own, and how that power was obtained.

CodeCarbon charges every job as if it ran alone: in ``process`` tracking mode it gives each job
a RAM power for its own memory (at least 10 W per job), so jobs running side by side are
charged for RAM the machine does not draw; with RAPL it reads the whole CPU package's energy
counter, and with a constant TDP half the TDP for the whole duration, so each job pays for all
of the package. Its TDP may also be a made-up default (4 W per logical CPU for a CPU missing
from its table). So each phase also records when it ran, its process's CPU seconds and resident
memory, the machine's busy CPU seconds over the phase (``cpu_counters``), its logical CPUs and
its RAM power, and aggregation (``attribute``):

* picks the TDP used, flagging an implausible one (``tdp_choice``, carbon.tdp_w/tdp_floor_w);
* charges every row one constant power, its share of the machine's RAM power (by resident
  memory) and of the TDP (by CPU time), such that at no instant do the rows running then add
  up to more than the machine's (``fill``), which ``power_at_instants`` checks on the table;
* charges a whole-package meter reading by ``cpu_time_s / machine_busy_s``.
"""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

#: CodeCarbon's CPU mode -> the ``cpu_power_source`` written to results/carbon.csv.
POWER_SOURCES = {
    "intel_rapl": "rapl",
    "cpu_load": "tdp_cpu_load",
    "constant": "tdp_constant",
    "intel_power_gadget": "intel_power_gadget",
    "windows_emi": "windows_emi",
    "apple_powermetrics": "powermetrics",
}
#: Sources that read a power meter; every other source is an estimate from the TDP.
MEASURED_SOURCES = ("rapl", "intel_power_gadget", "windows_emi", "powermetrics")
#: Sources whose CPU energy covers the whole package, whichever process ran: share them out.
WHOLE_PACKAGE_SOURCES = ("rapl", "tdp_constant", "intel_power_gadget", "windows_emi", "powermetrics")
#: CodeCarbon 3.3 charges at least this much RAM power per tracked process.
RAM_FLOOR_W = 10.0

#: Below this package TDP CodeCarbon's figure is taken as implausible (carbon.tdp_floor_w).
TDP_FLOOR_W = 15.0
#: ``tdp_check``: CodeCarbon's figure is plausible, is its default for a CPU missing from its
#: table (no figure of its own), or is below the floor.
TDP_OK, TDP_UNKNOWN, TDP_BELOW_FLOOR = "ok", "unknown_cpu", "below_floor"
#: ``tdp_source``: the TDP used is CodeCarbon's, or the config's ``carbon.tdp_w``.
TDP_FROM_CODECARBON, TDP_FROM_CONFIG = "codecarbon", "carbon.tdp_w"

SHARE_COLUMNS = ["cpu_time_s", "machine_busy_s", "tdp_check", "tdp_source", "tdp_used_w", "cpu_share",
                 "ram_share", "attributed_cpu_energy_kwh", "attributed_ram_energy_kwh",
                 "attributed_energy_kwh", "attributed_emissions_kg"]


def machine_busy_seconds(stat: Path = Path("/proc/stat")) -> float:
    """CPU seconds all cores spent not idle since boot (Linux), NaN where unknown."""
    try:
        fields = stat.read_text().splitlines()[0].split()
    except OSError:
        return float("nan")
    if fields[0] != "cpu":
        return float("nan")
    ticks = [int(v) for v in fields[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    # guest time is already counted in user time: only the first eight fields add up.
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds() -> float:
    """CPU seconds of this process and its finished, waited-for children (forked MLP workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def cpu_counters() -> tuple[float, float, float]:
    """(process CPU seconds, machine busy CPU seconds, wall clock) now."""
    return process_cpu_seconds(), machine_busy_seconds(), time.time()


def utc_iso(seconds: float) -> str:
    """A POSIX time as UTC ISO 8601 (microseconds), the form of ``started_at``/``ended_at``."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="microseconds")


def resident_mb() -> tuple[float, float]:
    """(resident memory of this process, peak resident memory of its waited-for children), MB.

    Cheap on purpose (no scan of the process table): the jobs' children are forked workers
    that have exited by the end of a phase, seen only through their peak. NaN where unknown.
    """
    try:
        import psutil

        own = psutil.Process().memory_info().rss / 2**20
    except Exception:  # a weight for sharing, never a reason to fail a job
        own = float("nan")
    try:
        import resource

        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    except (ImportError, OSError):
        children = float("nan")
    return own, children


def phase_memory_mb(start: tuple[float, float], end: tuple[float, float]) -> float:
    """A phase's resident memory: the process's, the larger at its start and end, plus the peak
    of a child that set a new peak during the phase (its forked workers)."""
    own = float(np.fmax(start[0], end[0]))
    grew = end[1] - start[1] if np.isfinite(end[1]) and np.isfinite(start[1]) and end[1] > start[1] else 0.0
    return own + (end[1] if grew > 0 else 0.0)


def tdp_choice(table: pd.DataFrame, tdp_w: float | None = None,
               floor_w: float = TDP_FLOOR_W) -> pd.DataFrame:
    """``tdp_check``, ``tdp_source`` and ``tdp_used_w`` of each row whose CPU power is a TDP estimate.

    CodeCarbon's figure is used unless it is implausible: its default for a CPU it does not
    know, or below ``floor_w``; then ``tdp_w`` (carbon.tdp_w) is used if set, else CodeCarbon's
    figure still, and the row says so. Rows whose CPU power was read from a meter use no TDP.
    """
    estimate = _source(table).str.startswith("tdp_")
    found = pd.to_numeric(table["tdp_w"], errors="coerce") if "tdp_w" in table \
        else pd.Series(np.nan, index=table.index)
    generic = _flag(table["tdp_generic"]) if "tdp_generic" in table else pd.Series(False, table.index)
    check = np.select([generic | found.isna(), found < floor_w], [TDP_UNKNOWN, TDP_BELOW_FLOOR], TDP_OK)
    use_config = (check != TDP_OK) & (tdp_w is not None)
    configured = np.nan if tdp_w is None else float(tdp_w)
    return pd.DataFrame({
        "tdp_check": np.where(estimate, check, ""),
        "tdp_source": np.where(estimate, np.where(use_config, TDP_FROM_CONFIG, TDP_FROM_CODECARBON), ""),
        "tdp_used_w": np.where(estimate, np.where(use_config, configured, found), np.nan),
    }, index=table.index)


def _source(table: pd.DataFrame) -> pd.Series:
    if "cpu_power_source" not in table:
        return pd.Series("", index=table.index)
    return table["cpu_power_source"].astype("string").fillna("").astype(str)


def _flag(values: pd.Series) -> pd.Series:
    return values.astype("string").str.lower().isin(["true", "1", "1.0"]).fillna(False).astype(bool)


def _seconds(values: pd.Series) -> np.ndarray:
    times = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    seconds = (times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.to_numpy(dtype=float, na_value=np.nan)


def timeline(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut time wherever a row starts or ends: the pieces' starts (POSIX s) and lengths (s), which
    rows run in each piece (pieces x rows; never a row without a valid time), and each row's host."""
    start, end = _seconds(table["started_at"]), _seconds(table["ended_at"])
    valid = np.isfinite(start) & np.isfinite(end) & (end >= start)
    bounds = np.unique(np.concatenate([start[valid], end[valid]]))
    lo, hi = bounds[:-1, None], bounds[1:, None]
    running = valid & (start <= lo) & (end >= hi)
    hosts = table["host"].astype("string").fillna("").to_numpy(dtype=str)
    return lo[:, 0], (hi - lo)[:, 0], running, hosts


def _numbers(table: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)


def _largest(values: np.ndarray, default: float = np.nan) -> float:
    return float(np.nanmax(values)) if np.isfinite(values).any() else default


def fill(weight: np.ndarray, running: np.ndarray, capacity: float,
         cap: np.ndarray | None = None) -> np.ndarray:
    """One constant power per row, as large as fits: no piece of time holds more than ``capacity``.

    Weighted max-min fair ("progressive filling"): every row's power grows in proportion to its
    ``weight`` until a piece of time it runs in is full, or it reaches its own ``cap`` (a
    multiple of its weight); then it stops and the others go on. ``running`` is pieces x rows.
    No row can then be charged more without some instant exceeding the machine's power.
    """
    from scipy import sparse  # few rows overlap at once: a sparse pieces x rows matrix

    weight = np.where(np.isfinite(weight) & (weight > 0), weight, 0.0)
    level = np.zeros(len(weight))
    limit = np.full(len(weight), np.inf) if cap is None else np.asarray(cap, dtype=float)
    done = (weight == 0) | ~running.any(axis=0) | (limit <= 0)
    on = sparse.csr_matrix(running.astype(float))
    while not done.all():
        used = on @ (level * weight)
        growth = on @ np.where(done, 0.0, weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            room = np.where(growth > 0, (capacity - used) / growth, np.inf)
        step = max(0.0, min(room.min(), (limit[~done] - level[~done]).min()))
        level[~done] += step
        full = (growth > 0) & (room - step <= 1e-12 * max(1.0, step))
        done |= (on.T @ full.astype(float) > 0) | (level >= limit * (1 - 1e-12))
    return level * weight


def _host_powers(part: pd.DataFrame, running: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The RAM and the TDP-estimated CPU power (W) charged to each row of one host, constant
    over the row's phase, so that at no instant do the rows running then exceed the machine's.

    RAM: the machine's figure, filled by resident memory. CPU: each row's own estimate (the TDP
    x its CPU rate / the logical CPUs) is its cap, filled by that estimate within the TDP.
    Rows that were not measured take their part too (they held memory and CPUs) but are
    charged nothing.
    """
    measured = part["energy_kwh"].notna().to_numpy()
    rss = _numbers(part, "rss_mb")
    fallback = np.nanmedian(rss[rss > 0]) if (rss > 0).any() else 1.0
    rss = np.where(np.isfinite(rss) & (rss > 0), rss, fallback)
    ram = fill(rss, running, _largest(_numbers(part, "machine_ram_power_w"), 0.0))
    cpus = max(_largest(_numbers(part, "machine_cpus"), 1.0), 1.0)
    tdp = _largest(_numbers(part, "tdp_used_w"), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.nan_to_num(np.clip(_numbers(part, "cpu_time_s") / _numbers(part, "duration_s"), 0.0, cpus))
    own = np.nan_to_num(_numbers(part, "tdp_used_w")) * rate / cpus
    cpu = fill(own, running, tdp, cap=np.ones(len(own)))
    return np.where(measured, ram, 0.0), np.where(measured, cpu, 0.0)


def attribute(table: pd.DataFrame, tdp_w: float | None = None, floor_w: float = TDP_FLOOR_W,
              intensity: float | None = None) -> pd.DataFrame:
    """Add the TDP used and the CPU and RAM energy and emissions charged to each row's job.

    Each watt is charged at most once, and this can be checked on the table itself: every row
    is charged one constant power over its phase (``started_at`` to ``ended_at``), and at any
    instant the rows running then (same ``host``) add up to at most the machine's power:

    * RAM: the machine's RAM power (one figure, ``machine_ram_power_w``) is shared among the
      rows running at the same time in proportion to their resident memory (``rss_mb``);
    * CPU, where the source is a TDP estimate: each row's estimate is the TDP used x its CPU
      rate (its CPU seconds over its duration) / the machine's logical CPUs, cut down in
      proportion wherever the rows running at once would add up to more than the TDP;
    * CPU, where a meter read the whole package (RAPL...): the reading x own CPU time / the
      machine's busy CPU time over the phase (at most 1).

    The sharing is max-min fair (``fill``): a row running alone is charged all of the machine's
    RAM power; when a phase overlaps a busier one it keeps the share it had at its most crowded
    instant, so some of the power drawn while jobs ran is charged to no row (never any twice).

    ``cpu_share`` and ``ram_share`` are a row's share of the CPU power (the TDP, or the package
    reading) and of the machine's RAM power. Emissions charged are the energy charged x
    ``intensity`` (kg CO2eq per kWh), or x the row's own emissions per kWh as read.
    """
    table = table.copy()
    for column in ("cpu_time_s", "machine_busy_s", "cpu_energy_kwh", "ram_energy_kwh", "energy_kwh",
                   "emissions_kg", "duration_s", "rss_mb", "machine_cpus", "machine_ram_power_w"):
        table[column] = pd.to_numeric(table[column], errors="coerce") if column in table else np.nan
    for column in ("started_at", "ended_at", "host"):
        if column not in table:
            table[column] = None
    table[["tdp_check", "tdp_source", "tdp_used_w"]] = tdp_choice(table, tdp_w, floor_w)
    _, _, running, hosts = timeline(table)
    ram_w, cpu_w = np.zeros(len(table)), np.zeros(len(table))
    for host in np.unique(hosts):
        mine = hosts == host
        ram_w[mine], cpu_w[mine] = _host_powers(table[mine], running[:, mine])
    source = _source(table)
    estimate = source.str.startswith("tdp_").to_numpy()
    whole = source.isin(WHOLE_PACKAGE_SOURCES).to_numpy()
    # Energy = the constant power x the row's own duration, so that energy / duration_s on the
    # table gives back the power charged. A row with no valid time is charged nothing.
    seconds = table["duration_s"].to_numpy(dtype=float)
    timed = np.isfinite(_seconds(table["ended_at"]) - _seconds(table["started_at"]))
    usable = table["energy_kwh"].notna().to_numpy() & timed & np.isfinite(seconds) & (seconds >= 0)
    package_share = (table["cpu_time_s"] / table["machine_busy_s"]).clip(lower=0.0, upper=1.0).to_numpy()
    as_read = table["cpu_energy_kwh"].to_numpy(dtype=float)
    cpu_kwh = np.where(estimate, cpu_w * seconds / 3.6e6, np.where(whole, as_read * package_share, as_read))
    ram_kwh = ram_w * seconds / 3.6e6
    cpu_kwh[~usable], ram_kwh[~usable] = np.nan, np.nan
    table["attributed_cpu_energy_kwh"] = cpu_kwh
    table["attributed_ram_energy_kwh"] = ram_kwh
    table["attributed_energy_kwh"] = cpu_kwh + ram_kwh
    with np.errstate(invalid="ignore", divide="ignore"):
        tdp = table["tdp_used_w"].to_numpy(dtype=float)
        table["cpu_share"] = np.where(estimate, np.where(usable, cpu_w / tdp, np.nan),
                                      np.where(whole, package_share, np.where(usable, 1.0, np.nan)))
        table["ram_share"] = np.where(usable, ram_w / table["machine_ram_power_w"].to_numpy(dtype=float),
                                      np.nan)
        per_kwh = intensity if intensity is not None \
            else (table["emissions_kg"] / table["energy_kwh"]).to_numpy()
    table["attributed_emissions_kg"] = table["attributed_energy_kwh"] * per_kwh
    return table


def power_at_instants(table: pd.DataFrame) -> pd.DataFrame:
    """What a charged table says each piece of time drew: the CPU and RAM power charged to the
    rows running then (each row's charged energy over ``duration_s``), beside the machine's
    (the TDP used, ``machine_ram_power_w``): the check that no watt is charged twice. One row per
    (host, piece): host, start (UTC), seconds, rows running, cpu_w, ram_w, tdp_w, machine_ram_w."""
    starts, lengths, running, hosts = timeline(table)
    seconds = _numbers(table, "duration_s")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = {part: np.nan_to_num(_numbers(table, f"attributed_{part}_energy_kwh") * 3.6e6 / seconds)
                for part in ("cpu", "ram")}
    pieces = []
    for host in np.unique(hosts):
        mine = hosts == host
        chosen = running[:, mine].any(axis=1)
        on = running[chosen][:, mine].astype(float)
        part = table[mine]
        pieces.append(pd.DataFrame({
            "host": host, "start": pd.to_datetime(starts[chosen], unit="s", utc=True),
            "seconds": lengths[chosen], "rows": on.sum(axis=1).astype(int),
            "cpu_w": on @ mean["cpu"][mine], "ram_w": on @ mean["ram"][mine],
            "tdp_w": _largest(_numbers(part, "tdp_used_w")),
            "machine_ram_w": _largest(_numbers(part, "machine_ram_power_w"))}))
    columns = ["host", "start", "seconds", "rows", "cpu_w", "ram_w", "tdp_w", "machine_ram_w"]
    return pd.concat(pieces, ignore_index=True)[columns] if pieces else pd.DataFrame(columns=columns)
