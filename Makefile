# RouteQL: two commands do everything on a fresh clone.
#   make demo   sets up .venv and routes examples/events.jsonl through rules/
#   make test   sets up .venv with the dev and bench extras and runs the whole suite
#   make bench  the benchmarks against hand-written Python and the peer engines -> bench/RESULTS.md
#   make fuzz   fuzz the parser, the decoders and the engine for FUZZ_SECONDS
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip --disable-pip-version-check -q
FUZZ_SECONDS ?= 60

.PHONY: demo test install dev bench fuzz clean

$(VENV)/.base:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.base pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base pyproject.toml
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $@

# atheris has wheels for CPython on Linux x86-64 only; elsewhere fuzzing falls back to Hypothesis
$(VENV)/.fuzz: $(VENV)/.dev
	$(PIP) install -e '.[dev,fuzz]' || echo "atheris is not available here: fuzzing with Hypothesis instead"
	touch $@

$(VENV)/.bench: $(VENV)/.base pyproject.toml
	$(PIP) install -e '.[dev,bench]'
	touch $(VENV)/.installed $(VENV)/.dev $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

demo: $(VENV)/.installed
	$(VENV)/bin/routeql route rules examples/events.jsonl --out out/demo

# the bench extra (the peer engines, pure Python) too: the quick pass checks they agree
test: $(VENV)/.bench
	$(PY) -m pytest -q

# the benchmark suite (minutes; run it on a quiet machine), then bench/RESULTS.md rewritten
bench: $(VENV)/.bench
	mkdir -p .benchmarks
	$(PY) -m pytest bench -q -p no:cacheprovider --benchmark-json=.benchmarks/routeql-bench.json
	$(PY) -m bench.report .benchmarks/routeql-bench.json bench/RESULTS.md

fuzz: $(VENV)/.fuzz
	$(PY) -m fuzz --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) out dist build .pytest_cache .hypothesis .benchmarks
