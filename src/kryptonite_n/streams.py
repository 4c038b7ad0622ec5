"""Every random stream of the study, by name: where ``config.seed`` (or a stream's own root)
becomes the draws of one consumer.

A stream is a template of its ``SeedSequence`` entropy: named fields filled by the consumer's
key (the seed, n, repeat, ...) and constant tags that tell the streams apart. Two consumers
never share a stream: ``tests/test_streams.py`` draws every template over a grid of keys and
finds no entropy made by two names. The templates keep the entropy each consumer has always
used, so a stream's numbers do not change when the code that draws from it moves; the two
streams that once shared the network's tag (the polynomial model's training and the attacked
points) have tags of their own.
"""

from __future__ import annotations

import numpy as np

#: name -> entropy template: a str is a key the consumer passes, an int a constant tag.
STREAMS: dict[str, tuple[str | int, ...]] = {
    # The dataset: feature layout, labelled and hidden rows (compute.data.generate).
    "generator": ("seed", "n"),
    # A repeat's train/validation/test roles (compute.data.make_split).
    "split": ("seed", "n", "repeat", 1),
    # A repeat's network training: initialisation, shuffles, dropout (compute.nets.training).
    "network_training": ("seed", "n", "repeat", 2),
    # The mock paper's baseline: scikit-learn's random_state (compute.models.mock_baseline).
    "mock_baseline": ("seed", "n", "repeat", 3),
    # The polynomial model's minibatch order (compute.polynomial).
    "polynomial_training": ("seed", "n", "repeat", 4),
    # The attacks of a model's repeat, and of the analysed network's (compute.robustness).
    "attack": ("seed", "n", "repeat", 5),
    "network_attack": ("seed", "n", "repeat", 6),
    # The test rows attacked, the same for every model of an (n, repeat) (compute.attacks).
    "attack_points": ("seed", "n", "repeat", 7),
    # A noise attack's draws, from the attack's own seed (compute.attacks).
    "noise_attack": ("seed", 3, "method"),
    # The GF(2) parity search of a repeat, and the one that sizes the polynomial's degrees.
    "parity_search": ("seed", "n", "repeat", 0x6F2),
    "support_search": ("seed", "n", "repeat", 0x6F2, 2),
    # The search's TPE sampler of one worker (compute.tuning).
    "tuning_sampler": ("seed", "n", "worker", 17),
    # The scaling stage's rows, drawn in blocks (compute.scaling.draw).
    "scaling_train": ("seed", "n", 0x5CA1, "repeat", "block"),
    "scaling_validation": ("seed", "n", 0x7A11, "repeat", "block"),
    "scaling_test": ("seed", "n", 0x7E57, "block"),
    # The published data's cross-fitted reference: fixed, so the reference is the data's own.
    "cross_fit": (0xC0F1, "n", "rows"),
    # The exploration's PCA subsample (compute.explore).
    "pca_sample": ("seed",),
    # The Data page's XOR slice: its subsample, and the parity search when shapes fail.
    "xor_slice_sample": ("n", 0x5A3),
    "xor_slice_search": ("n", 0x511CE),
    # The classic baselines: each one's row subsample and its estimator's seed (or the CNN's
    # initialisation and minibatch order) (compute.models.<name>).
    "svm_rbf": ("seed", "n", "repeat", 8),
    "random_forest": ("seed", "n", "repeat", 9),
    "knn": ("seed", "n", "repeat", 10),
    "gradient_boosting": ("seed", "n", "repeat", 11),
    "cnn": ("seed", "n", "repeat", 12),
}


def entropy(name: str, **key: int) -> list[int]:
    """The ``SeedSequence`` entropy of stream ``name`` for ``key`` (every field of its template)."""
    template = STREAMS[name]
    fields = {part for part in template if isinstance(part, str)}
    if set(key) != fields:
        raise TypeError(f"stream {name!r} takes {sorted(fields)}, got {sorted(key)}")
    return [int(key[part]) if isinstance(part, str) else part for part in template]


def rng(name: str, **key: int) -> np.random.Generator:
    """A generator of stream ``name`` for ``key``."""
    return np.random.default_rng(np.random.SeedSequence(entropy(name, **key)))


def seed(name: str, **key: int) -> int:
    """One 32-bit seed of stream ``name`` for ``key``, for a library that takes its own seed
    (scikit-learn's ``random_state``, Optuna's sampler, an attack's derived streams)."""
    return int(np.random.SeedSequence(entropy(name, **key)).generate_state(1)[0])
