# Two commands for a newcomer: `make demo` and `make test`. Both create .venv if it is missing.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json

# Put the venv first so dbt, dagster, ruff and sqlfluff resolve without activating it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: install demo test test-fast lint ui clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@touch $@

$(MANIFEST): $(INSTALLED) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && dbt parse --quiet

DAGSTER_CONFIG := $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_CONFIG):
	@mkdir -p $(DAGSTER_HOME)
	@printf 'telemetry:\n  enabled: false\n' > $@

demo: $(MANIFEST) $(DAGSTER_CONFIG)
	$(PYTHON) -m orchestration.demo $(DEMO_ARGS)

lint: $(MANIFEST)
	ruff check .
	ruff format --check .
	cd dbt_project && WAREHOUSE_DUCKDB_PATH=$$(mktemp -d)/lint.duckdb sqlfluff lint models

# Two processes (the machine has two cores); a test file stays in one process, so module
# fixtures such as a built warehouse are made once.
PYTEST_PARALLEL := -n 2 --dist loadfile

test: lint $(DAGSTER_CONFIG)
	dagster definitions validate -w workspace.yaml
	$(PYTHON) -m pytest $(PYTEST_PARALLEL) --durations=15

# The quick loop while developing: no lint, no end-to-end runs of the whole graph.
test-fast: $(MANIFEST) $(DAGSTER_CONFIG)
	$(PYTHON) -m pytest $(PYTEST_PARALLEL) -m "not integration"

ui: $(MANIFEST) $(DAGSTER_CONFIG)
	dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs
