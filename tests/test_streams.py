"""Every random stream comes from ``kryptonite_n.streams`` by name, and no two names share one."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import numpy as np
import pytest

from kryptonite_n import streams

SOURCE = Path(__file__).resolve().parents[1] / "src" / "kryptonite_n"
#: Keys a stream may take, each over values that real runs use (seeds, n, repeats, ...).
GRID = {"seed": [0, 7, 9, 12, 42, 2024], "n": [3, 6, 9, 12, 15, 18, 24, 90], "repeat": [0, 1, 2, 9],
        "method": [0, 1, 2], "worker": [0, 1, 2], "block": [0, 1, 5], "rows": [1000, 18000, 36000]}


def keys_of(name: str) -> list[dict[str, int]]:
    fields = [part for part in streams.STREAMS[name] if isinstance(part, str)]
    grid = itertools.product(*(GRID[field] for field in fields))
    return [dict(zip(fields, values, strict=True)) for values in grid]


def test_no_two_streams_share_an_entropy():
    owner: dict[tuple[int, ...], str] = {}
    shared = set()
    for name in streams.STREAMS:
        for key in keys_of(name):
            entropy = tuple(streams.entropy(name, **key))
            if owner.setdefault(entropy, name) != name:
                shared.add((owner[entropy], name))
    assert not shared, f"streams drawing the same numbers for some key: {sorted(shared)}"


def test_the_check_sees_a_shared_stream(monkeypatch):
    monkeypatch.setitem(streams.STREAMS, "copy_of_split", ("seed", "n", "repeat", 1))
    with pytest.raises(AssertionError, match="copy_of_split"):
        test_no_two_streams_share_an_entropy()


def library_seeding() -> list[str]:
    """Every place in the library, outside ``streams``, that seeds NumPy's generators itself."""
    found = []
    for file in sorted(SOURCE.rglob("*.py")):
        if file == SOURCE / "streams.py":
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("SeedSequence", "default_rng", "RandomState")
                    and "random" in ast.unparse(node.func.value)):
                found.append(f"{file.relative_to(SOURCE)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_every_consumer_takes_its_stream_by_name():
    assert not library_seeding(), "seeded outside kryptonite_n.streams:\n" + "\n".join(library_seeding())


def test_a_stream_is_its_entropy():
    drawn = streams.rng("split", seed=7, n=9, repeat=1).random(4)
    assert np.array_equal(drawn, np.random.default_rng(np.random.SeedSequence([7, 9, 1, 1])).random(4))
    assert streams.seed("attack", seed=7, n=9, repeat=1) == int(
        np.random.SeedSequence([7, 9, 1, 5]).generate_state(1)[0])


def test_a_stream_takes_exactly_its_keys():
    with pytest.raises(TypeError, match="'split' takes"):
        streams.rng("split", seed=7, n=9)
    with pytest.raises(TypeError, match="'generator' takes"):
        streams.rng("generator", seed=7, n=9, repeat=0)
