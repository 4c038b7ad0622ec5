"""Carbon accounting with CodeCarbon's offline tracker (interface; implementation pending).

Every compute job opens one ``carbon_meter`` around its whole computation and marks its
phases with ``meter.measure(stage)``; the meter writes one CSV per job, one row per phase.
Measurement never breaks the science: a failing tracker yields ``measurement=unavailable``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kryptonite_n.io import write_csv

COLUMNS = [
    "stage", "model", "n", "repeat", "duration_s", "energy_kwh", "cpu_energy_kwh",
    "ram_energy_kwh", "emissions_kg", "cpu_power_w", "ram_power_w", "country", "measurement",
    "codecarbon_version",
]
STAGES = ("data", "train", "inference", "attack", "report")


@dataclass(frozen=True)
class CarbonSettings:
    enabled: bool = True
    country: str = "GBR"


@dataclass
class Meter:
    """Records one row per measured phase of a job."""

    settings: CarbonSettings
    labels: dict
    rows: list[dict] = field(default_factory=list)

    @contextlib.contextmanager
    def measure(self, stage: str, **labels) -> Iterator[None]:
        if stage not in STAGES:
            raise ValueError(f"unknown carbon stage {stage!r}; expected one of {STAGES}")
        start = time.perf_counter()
        yield
        self.rows.append({
            **dict.fromkeys(COLUMNS), **self.labels, **labels, "stage": stage,
            "duration_s": time.perf_counter() - start, "country": self.settings.country,
            "measurement": "disabled",
        })


@contextlib.contextmanager
def carbon_meter(csv_path: Path | str, settings: CarbonSettings | dict | None = None,
                 **labels) -> Iterator[Meter]:
    """Measure a job; on success write its rows to ``csv_path`` (atomically)."""
    if isinstance(settings, dict):
        settings = CarbonSettings(**settings)
    meter = Meter(settings or CarbonSettings(), {"model": "", "n": None, "repeat": None, **labels})
    yield meter
    write_csv(csv_path, pd.DataFrame(meter.rows, columns=COLUMNS))


def aggregate(csv_paths: list[Path | str], out: Path | str) -> None:
    """Concatenate per-job carbon CSVs into one table."""
    frames = [pd.read_csv(path) for path in csv_paths]
    frames = [frame for frame in frames if not frame.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    write_csv(out, table[COLUMNS])
