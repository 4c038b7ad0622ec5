"""Atomic file writing and the project's error type for bad input."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class DataError(ValueError):
    """Bad input: the message names the file (or key) and the problem."""


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only on success.

    A job killed half-way therefore never leaves a truncated file under the final name. The
    file gets the permissions of any new file (0666 less the umask), not mkstemp's private
    0600: a group sharing a cluster's results folder must be able to read it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(path: Path | str, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n")


def read_json(path: Path | str) -> Any:
    """Read one JSON file; raise DataError naming it if it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise DataError(f"{path}: file not found") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not readable JSON ({error})") from error


def read_npy(path: Path | str) -> np.ndarray:
    """Read one .npy file (no pickles); raise DataError naming it if it is missing or damaged."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as error:  # numpy raises several types for a damaged file
        raise DataError(f"{path}: not a readable .npy file ({error})") from error


def read_vector(path: Path | str, rows: int, what: str) -> np.ndarray:
    """A saved vector of ``rows`` values; ``what`` names them in the error."""
    values = read_npy(path)
    if values.shape != (rows,):
        raise DataError(f"{path}: expected {rows} {what}, found shape {values.shape}")
    return values


def read_probabilities(path: Path | str, rows: int, what: str) -> np.ndarray:
    """A saved vector of ``rows`` probabilities (``what``: which rows), each in [0, 1], as float64."""
    values = read_vector(path, rows, f"probabilities ({what})")
    if not np.all((values >= 0) & (values <= 1)):
        raise DataError(f"{path}: probabilities must lie in [0, 1]")
    return values.astype(np.float64)


def read_table(path: Path | str, required: Sequence[str] = (), sep: str = ",") -> pd.DataFrame:
    """Read one CSV (or TSV); raise DataError if it is missing, unreadable or lacks a column."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=list(required))
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable table ({error})") from error
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; "
                        f"found {', '.join(map(str, frame.columns)) or 'none'}")
    return frame


def write_csv(path: Path | str, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


def write_npy(path: Path | str, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def write_npz(path: Path | str, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)


def concat_csv(csv_paths: Iterable[Path | str], out: Path | str, columns: Sequence[str]) -> None:
    """Concatenate tables of the same ``columns`` into one, in the order given."""
    frames = [pd.read_csv(path) for path in csv_paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))
    write_csv(out, table[list(columns)])
