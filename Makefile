# Two commands on a fresh clone: `make report` (the full study and its site) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CORES ?= all

.PHONY: install system-deps report quick-report test lint clean test-cluster config-docs mutants

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(INSTALLED)

# Debian packages: graphviz draws the rule graph, chromium runs the browser test.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "warning: install$$missing with apt-get (needs root) for the rule graph and browser test"; fi; \
	fi

report: install system-deps
	$(BIN)/snakemake --cores $(CORES)

quick-report: install system-deps
	$(BIN)/snakemake --cores $(CORES) --configfile config/quick.yaml

lint: install
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

test: install system-deps lint
	$(BIN)/python -m pytest -ra

# The quick study on a real single-node SLURM cluster started on this machine (needs root:
# installs slurm-wlm and munge), through profiles/slurm; its numbers must equal a local run's.
test-cluster: install
	bash .ci/test-cluster.sh

# Mutation testing, not part of `make test` (tens of minutes): mutmut, pinned with the packages it
# adds, mutates the modules [tool.mutmut] in pyproject.toml names and runs their unit tests on
# each mutant; docs/testing.md has the score and the survivors judged equivalent. MUTANT_CHILDREN
# bounds the parallel test runs; `mutants/` is mutmut's working copy (`mutmut browse` reads it).
MUTMUT_PINS := mutmut==3.8.1 libcst==1.9.0 textual==8.2.8 setproctitle==1.3.8 coverage==7.17.5 \
	linkify-it-py==2.2.0 mdit-py-plugins==0.7.0
MUTANT_CHILDREN ?= 2
mutants: install
	$(BIN)/python -m pip install --quiet $(MUTMUT_PINS)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTANT_CHILDREN)
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	dead = s['killed'] + s['timeout']; print(f\"mutation score {dead}/{s['total'] - s['skipped']} = \
	{100 * dead / (s['total'] - s['skipped']):.1f} % ({s})\")"

# config/README.md lists every configuration key; it is made from the schema (a test checks it).
config-docs: | $(INSTALLED)
	$(BIN)/python -m kryptonite_n.plan.config > config/README.md

clean:
	rm -rf results logs site .snakemake docs/generated mutants
