"""One home per contract: the model registry, the schema, the config reference, the pins."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kryptonite_n.plan.config import SCHEMA_PATH, _resolve, config_reference, load_schema, prepare_config
from kryptonite_n.plan.models import MODELS, model_rank, spec, specs
from kryptonite_n.plan.paths import FIT_TABLE

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sklearn", "altair", "jinja2", "art")


def test_the_schema_has_a_block_for_exactly_the_registered_models():
    schema = load_schema()
    assert list(schema["properties"]["models"]["properties"]) == list(MODELS)


def test_every_spec_is_named_after_its_module_and_says_what_it_is():
    for model in MODELS:
        declared = spec(model)
        assert declared.name == model and declared.label and declared.description
        assert declared.decision in ("differentiable", "threshold", "opaque")
        for table in declared.tables:
            assert FIT_TABLE.format(model=model, n=9, repeat=0, table=table).endswith(f"/{table}.csv")
        assert declared.resources.at(45)["mem_mb"] >= declared.resources.at(9)["mem_mb"] > 0
    assert [model_rank(m) for m in MODELS] == list(range(len(MODELS)))
    assert model_rank("no_such_model") == len(MODELS)


def test_attacked_models_default_to_the_attackable_specs_and_others_are_refused():
    config = prepare_config({"dimensions": [9]})
    assert config["attacks"]["models"] == [s.name for s in specs() if s.attackable and not s.classic_baseline]
    # A classic baseline is attacked when named.
    assert prepare_config({"dimensions": [9], "attacks": {"models": ["cnn"]}})["attacks"]["models"] == ["cnn"]
    opaque = [s.name for s in specs() if not s.attackable]
    assert opaque, "the registry should hold a model that cannot be attacked (the mock baseline)"
    with pytest.raises(ValueError, match=rf"attacks\.models.*{opaque[0]}"):
        prepare_config({"dimensions": [9], "attacks": {"models": [opaque[0]]}})
    with pytest.raises(ValueError, match=r"attacks\.models.*'svm'"):
        prepare_config({"dimensions": [9], "attacks": {"models": ["svm"]}})


def test_reading_every_spec_imports_no_ml_or_plotting_stack():
    code = ("import sys; from kryptonite_n.plan.models import specs;"
            " from kryptonite_n.plan.config import prepare_config;"
            " specs(); prepare_config({'dimensions': [9]});"
            f" print([m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _properties(schema: dict, root: dict, prefix: str = ""):
    for name, sub in _resolve(schema, root).get("properties", {}).items():
        resolved = _resolve(sub, root)
        yield f"{prefix}{name}", resolved
        if name != "by_n":
            yield from _properties(resolved, root, f"{prefix}{name}.")


def test_every_schema_property_is_described():
    schema = load_schema()
    undescribed = [key for key, sub in _properties(schema, schema) if not sub.get("description")]
    assert undescribed == []


def test_the_config_reference_is_the_schema_rendered():
    assert (REPO / "config" / "README.md").read_text() == config_reference(SCHEMA_PATH), \
        "config/README.md is stale: run `make config-docs`"


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


@pytest.mark.parametrize("env", sorted(p.name for p in (REPO / "envs").glob("*.yaml")))
def test_conda_environments_pin_what_the_lock_pins(env):
    pins = _lock()
    spec_ = yaml.safe_load((REPO / "envs" / env).read_text())
    pip = next(d["pip"] for d in spec_["dependencies"] if isinstance(d, dict))
    assert pip, f"{env} pins nothing"
    for requirement in pip:
        name, version = requirement.split("==")
        locked = pins.get(re.sub(r"[-_.]+", "-", name).lower())
        assert locked == version, f"{env}: {requirement}, but the lock has {locked}"
    assert (REPO / "envs" / env.replace(".yaml", ".post-deploy.sh")).exists(), \
        f"{env} needs a post-deploy script that installs the library"


def test_pyproject_declares_every_third_party_package_the_library_imports():
    import tomllib

    declared = {re.split(r"[<>=!~ ]", d)[0].lower()
                for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    module_of = {"sklearn": "scikit-learn", "yaml": "pyyaml", "art": "adversarial-robustness-toolbox",
                 "vl_convert": "vl-convert-python", "material": "mkdocs-material", "cpuinfo": "py-cpuinfo"}
    imported = set()
    for path in (REPO / "src").rglob("*.py"):
        for match in re.finditer(r"^\s*(?:from (\w+)[\w.]* import |import (\w+))", path.read_text(),
                                 re.MULTILINE):
            imported.add(match.group(1) or match.group(2))
    stdlib = set(sys.stdlib_module_names) | {"kryptonite_n", "__future__"}
    third_party = {module_of.get(m, m).replace("_", "-") for m in imported - stdlib}
    assert third_party <= declared, third_party - declared


def test_a_model_is_named_at_most_twice_outside_its_own_module():
    """Everything else about a model is read from its spec: outside its spec and implementation
    (and the schema, configs and tests) its name is in at most two real dependencies."""
    shared = [path for folder in ("src", "workflow", "scripts", "docs/templates")
              for path in (REPO / folder).rglob("*")
              if path.is_file() and (path.suffix in (".py", ".smk", ".j2") or path.name == "Snakefile")]
    assert len(shared) > 50
    for model in MODELS:
        own = {REPO / "src" / "kryptonite_n" / "compute" / "models" / f"{model}.py",
               REPO / "src" / "kryptonite_n" / "plan" / "models.py"}
        named = [f"{path.relative_to(REPO)}:{number}"
                 for path in shared if path not in own
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 for _ in re.finditer(rf"(?<!\w){model}(?!\w)", line)]
        assert len(named) <= 2, f"{model} is named in {named}"


def test_a_spec_promising_probabilities_is_held_to_it():
    """The fit driver refuses a predictor without probability(), or one whose values leave [0, 1]."""
    import numpy as np

    from kryptonite_n.compute.models.driver import probabilities_of

    class LabelsOnly:
        def predict(self, X):
            return np.zeros(len(X), dtype=np.int64)

    class OutOfRange(LabelsOnly):
        def probability(self, X):
            return np.full(len(X), 1.5)

    X = np.zeros((4, 9))
    with pytest.raises(TypeError, match="knn's spec says it has probabilities"):
        probabilities_of(LabelsOnly(), X, "knn")
    with pytest.raises(ValueError, match=r"knn: probability\(\) must give one value in \[0, 1\]"):
        probabilities_of(OutOfRange(), X, "knn")
    assert {s.name for s in specs() if s.probabilities} >= {"mlp", "knn", "cnn"}
    assert not spec("svm_rbf").probabilities and not spec("xor_oracle").probabilities
