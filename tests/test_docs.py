"""The examples in the docs are real: every complete .ind example parses and checks."""

import re
from pathlib import Path

import pytest

from indicator_dsl.api import check_text
from indicator_dsl.parser import parse

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _examples():
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    blocks = [body for kind, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S) if not kind]
    for i, block in enumerate(blocks):
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


# ------------------------------------------------ the Chinese reference (language.zh.md)

ZH = DOCS / "language.zh.md"
_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
_RESULT = re.compile(r"^结果：(.+)$", re.M)


def _zh_examples():
    """(set, facts or None, expected or None) for every ```ind block of the page: a block
    followed by a ```yaml block and a 「结果：」 line is scored and compared."""
    text = ZH.read_text(encoding="utf-8")
    blocks = list(_BLOCK.finditer(text))
    for i, block in enumerate(blocks):
        if block.group(1) != "ind":
            continue
        facts = expected = None
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if following is not None and following.group(1) == "yaml":
            facts = following.group(2)
            result = _RESULT.search(text, following.end())
            nxt = blocks[i + 2].start() if i + 2 < len(blocks) else len(text)
            if result is not None and result.start() < nxt:
                expected = dict(part.split(" = ") for part in re.split("[，,]", result.group(1)))
        yield pytest.param(block.group(2), facts, expected, id=f"zh-{i}")


@pytest.mark.parametrize("text,facts,expected", list(_zh_examples()))
def test_chinese_reference_examples_check_and_score(text, facts, expected):
    from decimal import Decimal

    from indicator_dsl import loads_facts, loads_set

    checked = check_text(text, "example.ind")
    assert not checked.errors, [d.render() for d in checked.errors]
    assert parse(text, "example.ind").spelling == "zh"
    if facts is None:
        return
    assert expected, "a facts block is followed by its 「结果：」 line"
    ev = loads_set(text, "example.ind").evaluate(loads_facts(facts, "facts.yaml", ".yaml"))
    assert ev.ok, [d.render() for d in ev.errors]
    scores = ev.by_code()
    for key, value in expected.items():
        got = ev.total if key.strip() == "总分" else scores[key.strip()].score
        assert got == Decimal(value.strip()), (key, got, value)


def test_the_chinese_reference_covers_every_keyword():
    from indicator_dsl.keywords import KEYWORDS

    text = ZH.read_text(encoding="utf-8")
    missing = [k.english for k in KEYWORDS if k.chinese and not any(c in text for c in k.chinese)]
    assert not missing, missing
