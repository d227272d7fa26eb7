# Developer entry points; each is one command you can also type yourself.
# `make test` is the README's `uv run pytest` (lint, types, import contracts, tests, coverage).
.PHONY: test lint typecheck bench docs

test:
	uv run pytest

lint:
	uv run ruff check src tests bench
	uv run ruff format --check src tests bench
	uv run lint-imports

typecheck:
	uv run mypy

bench:
	uv run scs bench

docs:
	uv run scs docs
