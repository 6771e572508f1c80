# Two commands for a newcomer: `make demo` and `make test`. Both create .venv if it is missing.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json

# Put the venv first so dbt, dagster, ruff and sqlfluff resolve without activating it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: install demo test test-fast lint ui app browser java clean

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
	cd dbt_project && WAREHOUSE_DUCKDB_PATH=$$(mktemp -d)/lint.duckdb sqlfluff lint models --processes 2

# Three processes on the machine's two cores: the end-to-end files spend about a third of their
# time waiting (dbt and Spark starting, SQLite and DuckDB commits, servers), and a third process
# fills it (pytest 1,037 s with two, 890 s with three, the same day). A test file stays in one
# process, so module fixtures such as a built warehouse are made once. Files are handed out in
# the order tests/conftest.py gives them (longest first): xdist would otherwise reorder them by
# their number of tests, which starts the few long end-to-end files last.
PYTEST_PARALLEL := -n 3 --dist loadfile --no-loadscope-reorder

# The tests' scratch files (pytest's temporary folders, Dagster's test instances, DuckDB files)
# go to memory when /dev/shm has room: the end-to-end files write thousands of SQLite and DuckDB
# commits, and on this machine's disk that was a seventh of their time. The folder is emptied
# before and after each run (a session writes about 1.5 GB). `make test TEST_SCRATCH=` keeps
# the system's temporary folder.
TEST_SCRATCH ?= $(shell d=/dev/shm; [ -d $$d ] && [ -w $$d ] && \
  [ "$$(df --output=avail -k $$d 2>/dev/null | tail -1)" -gt 6000000 ] 2>/dev/null && \
  echo $$d/linkage-tests-$$(id -u))
PYTEST := $(if $(TEST_SCRATCH),TMPDIR=$(TEST_SCRATCH)/tmp )$(PYTHON) -m pytest \
  $(if $(TEST_SCRATCH),--basetemp=$(TEST_SCRATCH)/pytest)
SCRATCH_START := $(if $(TEST_SCRATCH),rm -rf $(TEST_SCRATCH) && mkdir -p $(TEST_SCRATCH)/tmp,true)
SCRATCH_END := $(if $(TEST_SCRATCH),rm -rf $(TEST_SCRATCH),true)
# pytest with these arguments in a fresh scratch folder, emptied afterwards whatever the outcome.
pytest_in_scratch = $(SCRATCH_START) && { $(PYTEST) $(PYTEST_PARALLEL) $(1); status=$$?; \
  $(SCRATCH_END); exit $$status; }

# The web app's browser tests drive Debian's Chromium through its chromedriver (no browser is
# downloaded at run time): installed here when running as root (CI), else named in one line.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install -y chromium chromium-driver"; exit 1; \
	  fi; \
	fi

# The Spark engine's tests run local Spark, which needs a Java runtime (17 or later): Debian's
# default-jre-headless, installed here when running as root (CI), else named in one line.
java:
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else \
	    echo "The Spark tests need a Java runtime: sudo apt-get install -y default-jre-headless"; exit 1; \
	  fi; \
	fi

test: lint browser java $(DAGSTER_CONFIG)
	dagster definitions validate -w workspace.yaml
	$(call pytest_in_scratch,--durations=15)

# The quick loop while developing: no lint, no end-to-end runs of the whole graph.
test-fast: $(MANIFEST) $(DAGSTER_CONFIG)
	$(call pytest_in_scratch,-m "not integration")

ui: $(MANIFEST) $(DAGSTER_CONFIG)
	dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The review and reporting web app on http://127.0.0.1:$(APP_PORT) (waitress); accounts with
# `.venv/bin/python -m webapp createuser NAME --role reviewer|analyst`.
APP_HOST ?= 127.0.0.1
APP_PORT ?= 8000

app: $(INSTALLED)
	$(PYTHON) -m webapp serve --host $(APP_HOST) --port $(APP_PORT)

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs
