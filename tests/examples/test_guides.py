"""The integration guides show exactly the example files the test suite runs."""

from __future__ import annotations

import re
from pathlib import Path

from shared_context.services.guides import (
    EXAMPLES_DIR,
    FRAMEWORK_EXAMPLES,
    INTEGRATION_GUIDES,
    _framework_guide,
    example_source,
    guides_markdown,
)
from tests.examples.test_framework_examples import EXAMPLES, FRAMEWORKS

ROOT = Path(__file__).resolve().parents[2]
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_guided_example_is_run_by_the_suite() -> None:
    assert EXAMPLES_DIR == EXAMPLES
    assert {file for _, file, _ in FRAMEWORK_EXAMPLES.values()} == set(FRAMEWORKS.values())


def test_each_framework_guide_shows_its_example_file_verbatim() -> None:
    for name, (_, file, _) in FRAMEWORK_EXAMPLES.items():
        guide = INTEGRATION_GUIDES[name]
        assert guide["source"] == f"examples/{file}"
        shown = [
            step["code"] for step in guide["steps"] if step.get("language", "python") == "python"
        ]
        assert shown == [(EXAMPLES / file).read_text(encoding="utf-8")], name
        assert f"examples/{file}" in guide["steps"][1]["code"]  # the Run command


def test_markdown_guides_contain_only_run_code() -> None:
    examples = [path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")]
    blocks = PYTHON_BLOCK.findall("\n".join(guides_markdown()))
    assert len(blocks) == len(FRAMEWORK_EXAMPLES)
    for block in blocks:
        assert any(block.strip() in text for text in examples), block[:200]


def test_integrations_page_shows_only_excerpts_of_the_examples() -> None:
    page = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    examples = [path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")]
    blocks = PYTHON_BLOCK.findall(page)
    assert blocks, "docs/integrations.md shows no code from the examples"
    for block in blocks:
        assert any(block.strip() in text for text in examples), block[:200]
    for _, file, _ in FRAMEWORK_EXAMPLES.values():
        assert f"examples/{file}" in page


def test_without_the_checkout_a_guide_names_the_file_instead_of_showing_code() -> None:
    assert example_source("no_such_example.py") is None
    guide = _framework_guide("Nothing", "no_such_example.py", "none")
    assert guide["steps"][-1]["code"] == "# See examples/no_such_example.py in the repository."
