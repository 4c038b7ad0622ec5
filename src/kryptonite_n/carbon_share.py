"""Which part of the measured CPU power is a job's own, and how that power was obtained.

CodeCarbon's ``process`` tracking mode scales its CPU-load estimate by the process's share, but
with RAPL it reads the whole CPU package's energy counter, and with a constant TDP it charges
half the TDP for the whole duration: jobs running side by side are then each charged for all
of the package. So each phase also records its process tree's CPU seconds and the machine's
busy CPU seconds over the same interval (``cpu_counters``); aggregation charges each such row
its share, ``cpu_time_s / machine_busy_s`` (``attribute``).
"""

from __future__ import annotations

import os
import time
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

SHARE_COLUMNS = ["cpu_time_s", "machine_busy_s", "cpu_share", "attributed_energy_kwh",
                 "attributed_emissions_kg"]


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


def attribute(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``cpu_share`` and the energy and emissions charged to each row's own job.

    Rows whose CPU source covers the whole package get share = own CPU time / machine busy
    time over the phase (at most 1); other rows (a per-process estimate) keep share 1. RAM
    energy is charged whole: CodeCarbon already gives each process its own (floored) RAM power.
    """
    table = table.copy()
    for column in ("cpu_time_s", "machine_busy_s", "cpu_energy_kwh", "ram_energy_kwh", "energy_kwh",
                   "emissions_kg"):
        table[column] = pd.to_numeric(table[column], errors="coerce") if column in table else np.nan
    source = table["cpu_power_source"] if "cpu_power_source" in table else pd.Series("", index=table.index)
    share = (table["cpu_time_s"] / table["machine_busy_s"]).clip(lower=0.0, upper=1.0)
    whole = source.isin(WHOLE_PACKAGE_SOURCES)
    table["cpu_share"] = np.where(whole, share, 1.0)
    table.loc[whole & share.isna(), "cpu_share"] = np.nan
    attributed = table["cpu_energy_kwh"] * table["cpu_share"] + table["ram_energy_kwh"]
    table["attributed_energy_kwh"] = attributed
    ratio = attributed / table["energy_kwh"]
    table["attributed_emissions_kg"] = table["emissions_kg"] * ratio.where(table["energy_kwh"] > 0, 1.0)
    return table
