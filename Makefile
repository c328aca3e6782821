# Every target builds .venv itself: on a fresh clone `make demo` or `make test` is all it takes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench device-wheels clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/slbench demo

test: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/benchmarks -q

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks --benchmark-enable --benchmark-only -q

# The two pure-Python dependencies a GPU machine without package access lacks, as wheels of the
# versions installed here, for tests/benchmarks/device_check.sh to install offline there.
device-wheels: $(STAMP)
	rm -rf .whl
	$(BIN)/python -m pip download --quiet --no-deps -d .whl $$($(BIN)/python -c 'from importlib.metadata import version; print(" ".join(f"{n}=={version(n)}" for n in ("torch-fidelity", "lpips")))')

clean:
	rm -rf $(VENV) .pytest_cache
