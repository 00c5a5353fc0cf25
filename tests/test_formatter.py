"""Stage: formatting. Every shipped file survives fmt unchanged in meaning, and fmt is
idempotent; comments are kept (the generated-AST round trip is in test_properties)."""

from pathlib import Path

import pytest

from indicator_dsl.formatter import find_comments, format_text
from indicator_dsl.parser import parse

from conftest import ROOT, SHIPPED_SETS
SHIPPED = SHIPPED_SETS + sorted((ROOT / "examples").rglob("*.ind"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_file_round_trips(path):
    text = path.read_text(encoding="utf-8")
    formatted = format_text(text, str(path))
    assert parse(formatted, str(path)) == parse(text, str(path))
    assert format_text(formatted, str(path)) == formatted
    kept = [c for _, c, _ in find_comments(formatted).values()]
    for _, comment, _ in find_comments(text).values():
        assert comment in kept


def test_comment_marks_inside_texts_are_not_comments():
    text = 'X "编号#1" weight 1: 1  # 真注释\n'
    assert [c for _, c, _ in find_comments(text).values()] == ["# 真注释"]
    assert format_text(text) == text
