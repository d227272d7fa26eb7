"""Static quality gates run as part of the one test command: ruff, mypy, import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "src", "tests", "bench", "examples"),
        ("ruff", "format", "--check", "src", "tests", "bench", "examples"),
        ("mypy",),
        ("lint-imports",),
    ],
    ids=["ruff-lint", "ruff-format", "mypy", "import-linter"],
)
def test_static_check_passes(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


#: DESIGN.md: modules stay under ~400 lines; this is the hard stop that makes "~" mean something.
MAX_MODULE_LINES = 450
SRC = ROOT / "src" / "shared_context"


def test_no_module_is_too_long() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"split these modules (over {MAX_MODULE_LINES} lines): {too_long}"


def _omitted_modules(monkeypatch: pytest.MonkeyPatch, pg_url: str | None) -> set[str]:
    import coverage
    from coverage.files import GlobMatcher

    if pg_url is None:
        monkeypatch.delenv("SCS_TEST_POSTGRES_URL", raising=False)
    else:
        monkeypatch.setenv("SCS_TEST_POSTGRES_URL", pg_url)
    patterns = coverage.Coverage(config_file=str(ROOT / "pyproject.toml")).get_option("report:omit")
    assert isinstance(patterns, list)
    matcher = GlobMatcher(patterns, "omit")
    return {str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if matcher.match(str(path))}


def test_coverage_omits_only_postgres_code_and_only_without_postgres(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    postgres_only = {
        str(path.relative_to(SRC)) for path in (SRC / "storage" / "postgres").rglob("*.py")
    } | {
        "events/pg_notify.py",  # LISTEN/NOTIFY bridge
        "storage/transfer.py",  # SQLite → PostgreSQL copy
        "cli/migrate.py",  # the command running that copy
    }
    assert _omitted_modules(monkeypatch, None) == postgres_only
    assert _omitted_modules(monkeypatch, "postgresql://postgres@127.0.0.1:5432/test") == set()


def test_makefile_has_the_developer_targets() -> None:
    text = (ROOT / "Makefile").read_text()
    for target in ("test", "lint", "typecheck", "bench", "docs"):
        assert f"\n{target}:\n" in text, f"Makefile has no {target} target"
