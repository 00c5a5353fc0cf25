"""Missing facts: `eval` lists every missing fact of every leaf at once, in Chinese, with
its label and where to write it; `--draft` still gives the 评分表, those leaves marked
待补充 — never a 0 — and the totals shown as incomplete."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest

from indicator_dsl import load_set, loads_facts, loads_set
from indicator_dsl.missing import PENDING, draft, find_pending, other_diagnostics
from indicator_dsl.render import FORMATS

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
WUCHANG = ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"

CARD = """set "卡片"
total 10
fact actual: count "实际人数"
fact target: count in [1, 1000] "计划人数"
fact rate: percent "执行率"
G "组" weight 10 {
  let share "完成率" = ratio(actual, target)
  C1 weight 5: share >= 1 -> full; per 10% below -> -1; floor 0
  C2 weight 3: share >= 90% -> full; else -> 0
  C3 weight 2: rate >= 95% -> full; else -> 0
}
"""


@pytest.fixture(scope="module")
def seed():
    return load_set(SEED)


# ------------------------------------------------------------ every missing fact at once


def test_every_missing_fact_of_every_leaf_is_found(seed):
    facts = loads_facts("indicators:\n  C114:\n    visited: 3\n  C112:\n    held:\n", "p.yaml")
    evaluation = seed.evaluate(facts)
    pending = find_pending(seed, facts, evaluation)
    by_code = {p.code: p for p in pending}
    assert len(pending) == 32
    assert [m.need.name for m in by_code["C114"].missing] == ["expected"]
    # The blank entry is listed with its place; the absent one with where it goes.
    held, planned = by_code["C112"].missing
    assert held.blank is not None and held.blank.line == 5
    assert planned.blank is None and planned.place == "C112"
    assert [m.place for m in by_code["B13"].missing] == [None, None]
    assert "请填写在文件顶层（全项目共用）的 spent:" in by_code["B13"].missing[0].message_cn()
    # The evaluator's one-per-leaf errors are replaced, not repeated.
    assert not [d for d in other_diagnostics(evaluation, pending) if d.is_error]


def test_a_bad_value_is_still_reported_beside_the_missing_facts():
    scorer = loads_set(CARD, "card.ind")
    facts = loads_facts("indicators:\n  C3:\n    rate: many\n", "p.yaml")
    evaluation = scorer.evaluate(facts)
    pending = find_pending(scorer, facts, evaluation)
    assert {p.code for p in pending} == {"C1", "C2"}
    left = [d for d in other_diagnostics(evaluation, pending) if d.is_error]
    assert len(left) == 1 and "rate" in left[0].message and left[0].line == 3
    # In a draft C3 stays an error (无法评分), not 待补充.
    assert draft(evaluation, pending).by_code()["C3"].status == "error"


def test_eval_lists_all_missing_facts_in_chinese_and_exits_1(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("indicators:\n  C1:\n    rate: 96%\n", encoding="utf-8")
    card = tmp_path / "card.ind"
    card.write_text(CARD, encoding="utf-8")
    out = cli("--lang", "zh", "eval", card, path)
    assert out.returncode == 1
    err = out.stderr
    assert "缺少 5 项事实，3 项指标无法评分" in err
    assert "实际人数（actual，整数）：填写在indicators → G → actual:" in err
    assert "执行率（rate，百分比）：填写在indicators → C3 → rate:" in err
    assert "indicator-eval facts" in err and "--draft" in err
    assert "is missing" not in err and "Traceback" not in err


def test_the_missing_list_follows_the_language(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("indicators:\n  C1:\n    rate: 96%\n", encoding="utf-8")
    card = tmp_path / "card.ind"
    card.write_text(CARD, encoding="utf-8")
    out = cli("--lang", "en", "eval", card, path)
    assert out.returncode == 1
    assert "5 facts are missing; 3 indicators cannot be scored" in out.stderr
    assert "(actual, count): add it at indicators: G: actual" in out.stderr
    assert "缺少" not in out.stderr and "Traceback" not in out.stderr


def test_blank_template_entries_count_as_missing_not_as_bad_facts(cli, tmp_path):
    card = tmp_path / "card.ind"
    card.write_text(CARD, encoding="utf-8")
    template = cli("facts", card).stdout
    path = tmp_path / "p.yaml"
    path.write_text(template, encoding="utf-8")
    out = cli("--lang", "zh", "eval", card, path)
    assert out.returncode == 1  # an indicator could not be scored, not a broken file
    assert "已列出但未填写（p.yaml:" in out.stderr


# ------------------------------------------------------------ drafts


def _draft(scorer, text):
    facts = loads_facts(text, "p.yaml")
    evaluation = scorer.evaluate(facts)
    return draft(evaluation, find_pending(scorer, facts, evaluation))


def test_a_draft_marks_waiting_leaves_and_groups_never_zero():
    scorer = loads_set(CARD, "card.ind")
    ev = _draft(scorer, "indicators:\n  C3:\n    rate: 96%\n")
    by_code = ev.by_code()
    assert by_code["C3"].status == "scored" and by_code["C3"].score == 2
    for code in ("C1", "C2", "G"):
        assert by_code[code].status == PENDING and by_code[code].score is None
    assert by_code["C1"].explanation == "待补充：缺少“实际人数”、“计划人数”"
    assert ev.total is None and ev.grade is None
    notes = [d.message_cn for d in ev.diagnostics if d.code == "draft"]
    assert notes == ["本表为草稿：2项指标（共8分）待补充，总分待定；已评分的1项末级指标合计2分"]


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html", "xlsx", "docx"])
def test_every_report_format_shows_the_draft(fmt):
    scorer = loads_set(CARD, "card.ind")
    ev = _draft(scorer, "indicators:\n  C3:\n    rate: 96%\n")
    out = FORMATS[fmt](ev)
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(out))
        texts = [str(c.value) for ws in book for row in ws.iter_rows() for c in row
                 if c.value is not None]
        assert texts.count("待补充") >= 3  # two leaves and the total
    elif fmt == "docx":
        import docx

        document = docx.Document(io.BytesIO(out))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        assert "待补充" in cells and "0" not in [c for c in cells if c == "0"]
    elif fmt == "json":
        doc = json.loads(out)
        statuses = {i["code"]: i["status"] for i in doc["indicators"]}
        assert statuses["C1"] == "pending" and doc["total"] is None
        assert any("C1缺少事实“实际人数”" in (e.get("message_cn") or "") for e in doc["errors"])
    else:
        assert "待补充" in out and "本表为草稿" in out if fmt != "table" else "待补充" in out
        if fmt == "table":
            assert "总分：待补充 / 10" in out


def test_eval_draft_writes_the_report_and_still_exits_1(cli, tmp_path):
    card = tmp_path / "card.ind"
    card.write_text(CARD, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text("indicators:\n  C3:\n    rate: 96%\n", encoding="utf-8")
    out = cli("eval", card, path, "--draft", "-o", tmp_path / "draft.md")
    assert out.returncode == 1
    text = (tmp_path / "draft.md").read_text(encoding="utf-8")
    assert "**待补充** / 10" in text and "待补充：缺少“实际人数”、“计划人数”" in text
    assert "wrote the draft" in out.stderr
    # Without --draft nothing is written.
    out = cli("eval", card, path, "-o", tmp_path / "none.md")
    assert out.returncode == 1 and not (tmp_path / "none.md").exists()


def test_complete_facts_are_untouched_by_the_draft_flag(cli):
    out = cli("eval", SEED, SEED.with_suffix(".facts.yaml"), "--draft", "--format", "json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["total"] == 96.4
    assert "待补充" not in out.stdout
