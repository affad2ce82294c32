# The two commands of README.md: `make demo` (the bundled Holstein example) and `make test`.
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup docs clean

$(STAMP): pyproject.toml models/holstein/pyproject.toml models/kondo/pyproject.toml tools/setup_env.sh
	bash tools/setup_env.sh

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/holstein_quench.py --out demo-output

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build demo-output
