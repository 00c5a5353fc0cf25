"""The examples in the docs are real: every complete .ind example parses and checks."""

import re
from pathlib import Path

import pytest

from indicator_dsl.api import check_text
from indicator_dsl.parser import parse

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _examples():
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    for i, block in enumerate(re.findall(r"```\n(.*?)```", text, re.S)):
        if "…" in block or "weight" not in block or "extends" in block or "import" in block:
            continue  # fragments and examples that need other files
        yield pytest.param(block, id=f"language-{i}")


@pytest.mark.parametrize("block", list(_examples()))
def test_language_examples_parse(block):
    parse(block, "example.ind")


def test_intro_example_checks_clean():
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(# 东川区.*?)```", text, re.S).group(1)
    checked = check_text(block, "intro.ind")
    assert not checked.errors, [d.render() for d in checked.errors]
