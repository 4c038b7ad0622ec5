"""Every output writer is atomic: a failure half-way leaves nothing under the final name.

Each writer is driven with its serialiser patched to write part of the file and then fail (as a
killed job or a full disk would). Whatever path the serialiser was handed must then be gone, and
so must the target: a writer that writes in place instead of through ``io.atomic_path`` leaves
its half file at the target and fails here. A writer that stops using the patched serialiser
(and so is no longer driven to fail) fails too, because the expected failure never comes.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from kryptonite_n import io
from kryptonite_n.plan.config import prepare_config
from kryptonite_n.report import pages, site
from kryptonite_n.report.figures import Drawing, write_figure


class HalfWritten(RuntimeError):
    """The injected failure: raised after part of a file was written."""


class Injector:
    """Replaces serialisers so that their ``fail_at``-th call writes half a file and raises."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int = 1) -> None:
        self.monkeypatch = monkeypatch
        self.fail_at = fail_at
        self.calls = 0
        self.half_files: list[Path] = []

    def _half(self, target: object, original: Callable[[], object]) -> object:
        self.calls += 1
        if self.calls != self.fail_at:
            return original()
        if hasattr(target, "write"):  # an open handle: its file is the one being written
            target.write(b"\x93NUMPY half")
            target.flush()
            self.half_files.append(Path(target.name))
        else:
            Path(target).write_bytes(b"half a file")
            self.half_files.append(Path(target))
        raise HalfWritten("killed half-way")

    def patch_all(self) -> Injector:
        to_csv, save, savez = pd.DataFrame.to_csv, np.save, np.savez
        write_text, copyfile = Path.write_text, shutil.copyfile

        def csv(frame, path_or_buf=None, *args, **kwargs):
            if path_or_buf is None:  # to a string (a figure's inline data): not a file write
                return to_csv(frame, path_or_buf, *args, **kwargs)
            return self._half(path_or_buf, lambda: to_csv(frame, path_or_buf, *args, **kwargs))

        def text(path, data, *args, **kwargs):
            return self._half(path, lambda: write_text(path, data, *args, **kwargs))

        self.monkeypatch.setattr(pd.DataFrame, "to_csv", csv)
        self.monkeypatch.setattr(np, "save", lambda f, *a, **k: self._half(f, lambda: save(f, *a, **k)))
        self.monkeypatch.setattr(np, "savez", lambda f, *a, **k: self._half(f, lambda: savez(f, *a, **k)))
        self.monkeypatch.setattr(Path, "write_text", text)
        self.monkeypatch.setattr(
            shutil, "copyfile", lambda s, d, *a, **k: self._half(d, lambda: copyfile(s, d, *a, **k))
        )
        return self


def leftovers(folder: Path) -> list[Path]:
    """Temporary files ``atomic_path`` would have left behind."""
    return sorted(p for p in folder.rglob(".*.tmp"))


def drive(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write: Callable[[], None],
    targets: list[Path],
    fail_at: int = 1,
) -> Injector:
    """Run ``write`` with its ``fail_at``-th serialiser call failing half-way; check nothing is left."""
    injector = Injector(monkeypatch, fail_at).patch_all()
    with pytest.raises(HalfWritten):
        write()
    monkeypatch.undo()
    assert injector.half_files, "the writer never reached a serialiser"
    for half in injector.half_files:
        assert half not in targets, f"{half}: written in place, not through a temporary file"
        assert not half.exists(), f"{half}: a half-written temporary file was left behind"
    for target in targets:
        assert not target.exists(), f"{target}: a half-written file is left at the target path"
    assert leftovers(tmp_path) == []
    return injector


FRAME = pd.DataFrame({"model": ["mlp", "xor_oracle"], "n": [9, 12], "test_acc": [0.95, 0.97]})

#: Every public writer of kryptonite_n.io, and a call that writes ``target`` with it.
IO_WRITERS: dict[str, Callable[[Path, Path], None]] = {
    "write_csv": lambda tmp, target: io.write_csv(target, FRAME),
    "write_json": lambda tmp, target: io.write_json(target, {"accuracy": np.float64(0.95), "rows": [1, 2]}),
    "write_npy": lambda tmp, target: io.write_npy(target, np.arange(10)),
    "write_npz": lambda tmp, target: io.write_npz(target, {"w": np.ones((3, 3)), "b": np.zeros(3)}),
    "concat_csv": lambda tmp, target: io.concat_csv(
        [tmp / "part.csv", tmp / "part.csv"], target, list(FRAME.columns)
    ),
}


def test_every_io_writer_is_listed_here():
    """A writer added to kryptonite_n.io must be driven below too."""
    public = {
        name
        for name, value in vars(io).items()
        if inspect.isfunction(value)
        and value.__module__ == io.__name__
        and (name.startswith("write_") or name == "concat_csv")
    }
    assert public == set(IO_WRITERS)


@pytest.mark.parametrize("writer", sorted(IO_WRITERS))
def test_an_io_writer_killed_half_way_leaves_nothing(monkeypatch, tmp_path, writer):
    FRAME.to_csv(tmp_path / "part.csv", index=False)
    target = tmp_path / "out" / f"{writer}.out"
    drive(monkeypatch, tmp_path, lambda: IO_WRITERS[writer](tmp_path, target), [target])
    # And without the failure the same call writes a complete file.
    IO_WRITERS[writer](tmp_path, target)
    assert target.stat().st_size > 20 and leftovers(tmp_path) == []


def test_an_existing_file_survives_a_failed_rewrite(monkeypatch, tmp_path):
    target = tmp_path / "table.csv"
    io.write_csv(target, FRAME)
    before = target.read_bytes()
    injector = Injector(monkeypatch).patch_all()
    with pytest.raises(HalfWritten):
        io.write_csv(target, FRAME.iloc[:1])
    monkeypatch.undo()
    assert injector.half_files and target.read_bytes() == before and leftovers(tmp_path) == []


def drawing() -> Drawing:
    chart = alt.Chart(FRAME).mark_point().encode(x="n:Q", y="test_acc:Q")
    return Drawing(chart=chart, data=FRAME, description="two points")


@pytest.mark.parametrize("fail_at", [1, 2, 3], ids=["script", "svg", "csv"])
def test_a_figure_killed_half_way_leaves_none_of_its_files_behind(monkeypatch, tmp_path, fail_at):
    names = {kind: tmp_path / "figures" / f"demo.{kind}" for kind in ("js", "svg", "csv")}
    order = [names["js"], names["svg"], names["csv"]]
    drive(
        monkeypatch, tmp_path, lambda: write_figure(drawing(), "demo", *order), order[fail_at - 1 :], fail_at
    )
    for done in order[: fail_at - 1]:  # files finished before the failure are whole
        assert done.stat().st_size > 20


def test_pages_killed_half_way_leave_no_page_at_its_path(monkeypatch, tmp_path):
    outputs = {page: tmp_path / "docs" / f"{page}.md" for page in pages.PAGES} | {
        "config": tmp_path / "c.yaml"
    }
    config = prepare_config({"dimensions": [9]})

    def render() -> None:
        pages.render_pages(
            REPO / "docs" / "templates", {"figures": []}, outputs, config, logs_dir=tmp_path / "logs"
        )

    # Call 1 writes the configuration; call 2 the first page.
    drive(monkeypatch, tmp_path, render, [outputs[page] for page in pages.PAGES], fail_at=2)
    assert outputs["config"].read_text().startswith("dimensions:")
    drive(monkeypatch, tmp_path / "again", render, [], fail_at=1)


def test_the_sites_assets_and_rule_graph_are_written_atomically(monkeypatch, tmp_path):
    (tmp_path / "embed.js").write_text("// embed\n" * 10)
    outputs = {"bundle": tmp_path / "docs" / "bundle.js", "embed": tmp_path / "docs" / "embed.js"}
    monkeypatch.setattr(site, "vega_bundle", lambda: "/* bundle */\n" * 10)
    drive(
        monkeypatch,
        tmp_path,
        lambda: site.prepare_assets({"embed": tmp_path / "embed.js"}, outputs),
        list(outputs.values()),
    )
    monkeypatch.setattr(site, "vega_bundle", lambda: "/* bundle */\n" * 10)
    drive(
        monkeypatch,
        tmp_path,
        lambda: site.prepare_assets({"embed": tmp_path / "embed.js"}, outputs),
        [outputs["embed"]],
        fail_at=2,
    )
    assert outputs["bundle"].read_text().startswith("/* bundle */")
    dot = 'digraph snakemake_dag {\n 0[label = "fit"];\n 1[label = "report"];\n 0 -> 1\n}\n'
    graph = {"dot": tmp_path / "graph" / "rules.dot", "svg": tmp_path / "graph" / "rules.svg"}
    for fail_at in (1, 2):
        monkeypatch.setattr(site, "rule_graph_dot", lambda *args: dot)
        monkeypatch.setattr(site, "dot_to_svg", lambda text: "<svg>" + "x" * 50 + "</svg>")
        drive(
            monkeypatch,
            tmp_path,
            lambda: site.draw_rule_graph(["snakemake"], tmp_path / "c.yaml", graph["dot"], graph["svg"]),
            [graph["dot"], graph["svg"]][fail_at - 1 :],
            fail_at,
        )


def test_a_failed_site_build_leaves_no_site(monkeypatch, tmp_path):
    """The site is a folder: MkDocs builds beside it and the folder replaces the old one whole."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Index\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: test\n")
    outputs = {"site": tmp_path / "site", "config": tmp_path / "mkdocs-run.yml"}

    def half_build(config_file):
        import yaml

        building = Path(yaml.safe_load(Path(config_file).read_text())["site_dir"])
        building.mkdir(parents=True)
        (building / "index.html").write_text("<html>half")
        raise HalfWritten("mkdocs killed half-way")

    monkeypatch.setattr(site, "mkdocs_build", half_build)
    with pytest.raises(HalfWritten):
        site.build_site(tmp_path / "mkdocs.yml", docs, [docs / "index.md"], outputs)
    assert not outputs["site"].exists() and not outputs["config"].exists()


def test_every_writer_writes_what_it_was_given(tmp_path):
    """Round trips: the content, not only the atomicity (mutation testing found these unchecked)."""
    io.write_json(tmp_path / "a.json", {"path": tmp_path / "x", "acc": np.float64(0.95), "w": np.arange(2)})
    text = (tmp_path / "a.json").read_text()
    assert text.startswith('{\n  "acc": 0.95,') and text.endswith("}\n")  # indented by 2, keys sorted
    assert io.read_json(tmp_path / "a.json") == {"acc": 0.95, "path": str(tmp_path / "x"), "w": [0, 1]}
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        io.write_json(tmp_path / "b.json", {"x": object()})
    assert not (tmp_path / "b.json").exists()
    io.write_csv(tmp_path / "a.csv", pd.DataFrame({"x": [0.123456789012345, 1.5e-20], "n": [1, 2]}))
    assert (tmp_path / "a.csv").read_text() == "x,n\n0.123456789,1\n1.5e-20,2\n"  # ten significant digits
    io.write_npy(tmp_path / "a.npy", np.arange(3))
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2]
    with pytest.raises(ValueError):  # no pickles: a reader must not run code from a result file
        io.write_npy(tmp_path / "b.npy", np.array([{}], dtype=object))
    io.write_npz(tmp_path / "a.npz", {"w": np.ones(2), "b": np.zeros(1)})
    with np.load(tmp_path / "a.npz") as arrays:
        assert sorted(arrays) == ["b", "w"] and arrays["w"].tolist() == [1.0, 1.0]
    io.concat_csv([], tmp_path / "empty.csv", ["model", "n"])
    assert (tmp_path / "empty.csv").read_text() == "model,n\n"
    FRAME.to_csv(tmp_path / "part.csv", index=False)
    io.concat_csv([tmp_path / "part.csv"] * 2, tmp_path / "two.csv", ["n", "model"])
    assert pd.read_csv(tmp_path / "two.csv").to_dict("list") == {"n": [9, 12, 9, 12],
                                                                "model": ["mlp", "xor_oracle"] * 2}
    assert leftovers(tmp_path) == []
