"""Running one workflow job: its log file, its progress output, its clear failure message."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kryptonite_n.compute.carbon import carbon_meter
from kryptonite_n.io import DataError


def limit_threads(threads: int) -> None:
    """Make torch and the BLAS libraries use exactly the threads the job was given."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


@contextlib.contextmanager
def job_log(log_path: Path | str, threads: int = 1, *, carbon: Mapping[str, Any] | None = None,
            carbon_csv: Path | str | None = None, **labels: Any) -> Iterator[logging.Logger]:
    """Send the job's stderr and logging to its log file; report bad input in one line.

    A DataError (bad input) is written to the log and to the console, and the job exits
    with status 1, so Snakemake shows the message and removes the job's outputs.

    With ``carbon_csv`` the job is metered: ``carbon`` (the config's ``carbon`` section) says
    whether and where, ``labels`` (model, n) go on every row, and library code marks its
    phases with ``carbon.phase``. The tracker starts on entry, before the job imports its heavy
    modules, so that CodeCarbon's start-up overlaps them: import them inside the ``with`` block.
    The settings reach the job from the config, not as a rule parameter, so that changing
    them never reruns the science (see workflow/rules/carbon.smk).
    """
    limit_threads(threads)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    with open(log_path, "w", buffering=1) as log:
        sys.stderr = log
        logging.basicConfig(stream=log, level=logging.INFO, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            with contextlib.ExitStack() as stack:
                if carbon_csv is not None:
                    stack.enter_context(carbon_meter(carbon_csv, carbon, **labels))
                yield logging.getLogger("kryptonite_n")
        except DataError as error:
            print(f"error: {error}", file=log)
            print(f"kryptonite-n error: {error}", file=console)
            raise SystemExit(1) from None
        finally:
            sys.stderr = console
