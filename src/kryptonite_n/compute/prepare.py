"""One n's dataset, ready for the study: generated, or read and validated from the published
files (with the reference a published set is scored against, ``bayes.estimate_bayes``), then
written as the files every later job reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kryptonite_n.compute.bayes import estimate_bayes
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import GeneratorSettings, generate, read_published, write_dataset


def prepare_dataset(n: int, outputs: Mapping[str, Path | str], *, seed: int, data_dir: str | None,
                    generator: dict | None) -> None:
    """Generate the n dataset, or read and validate it from ``data_dir``, into ``outputs``.

    Reading validates every file before anything is written, so bad input leaves nothing.
    """
    with phase("data"):
        if data_dir:
            dataset = read_published(data_dir, n)
            dataset.truth = {"n": n, "source": str(data_dir), "informative": None,
                             "families": None, "flip_rate": None, "hidden_labels_file": None,
                             "bayes": estimate_bayes(dataset.X, dataset.y)}
        else:
            dataset = generate(n, seed, GeneratorSettings(**(generator or {})))
        write_dataset(dataset, outputs)
