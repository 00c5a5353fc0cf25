"""Missing facts: every fact an incomplete project still needs, and draft score tables.

The evaluator stops a leaf at the first fact it cannot read, so its errors name one
fact per leaf. This stage post-processes an :class:`~indicator_dsl.evaluator.Evaluation`:
for every leaf that could not be scored it lists **all** the facts the leaf reads that
the project does not give (absent, or listed but left blank), with their Chinese
labels and the place a facts file gives them (from :func:`fact_needs`, the one list
of the facts a set reads). :func:`draft` turns the evaluation into a draft 评分表 in
which those leaves, and the groups and total above them, are marked 待补充 — a status
of their own, never a score of 0.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import attrs

from .errors import ERROR, WARNING, Diagnostic
from .evaluator import FAILED, SCORED, Evaluation
from .facts import Facts, FactValue, Where
from .numbers import plain
from .requirements import FactNeed, needs_by_leaf, place_for

PENDING = "pending"  # a leaf (or group, or the total) that waits for facts: 待补充
PENDING_CN = "待补充"

KIND_CN = {"number": "数值", "percent": "百分比", "count": "整数", "money": "金额",
           "bool": "是/否", "level": "等级", "text": "文本", "any": "数值"}


@attrs.frozen
class MissingFact:
    """One fact a leaf needs and the project does not give."""

    leaf: str
    need: FactNeed
    place: Optional[str]  # the code whose facts hold it, or None: project-wide
    blank: Optional[Where] = None  # where it is listed without a value, if it is

    @property
    def label(self) -> str:
        return self.need.label or self.need.name

    def place_cn(self, form: str = "yaml") -> str:
        """Where to write it, in the words of the facts file's form: ``yaml`` (also JSON
        and TOML), ``table`` (the one-project spreadsheet) or ``columns`` (one row per
        project)."""
        name = self.need.name
        if form == "columns":
            head = self.label if self.place is None else f"{self.place} {self.label}"
            return f"“{head}”列"
        if form == "table":
            code = "（项目）" if self.place is None else self.place
            return f"指标编码为“{code}”、事实名为“{name}”的一行的填写值"
        if self.place is None:
            return f"文件顶层（全项目共用）的 {name}:"
        return f"indicators → {self.place} → {name}:"

    def message_cn(self, form: str = "yaml") -> str:
        text = f"{self.leaf}缺少事实“{self.label}”（{self.need.name}，{describe(self.need)}）"
        if self.blank is not None:
            text += f"：已列出但未填写（{_where_text(self.blank)}）"
        return text + f"，请填写在{self.place_cn(form)}"


@attrs.frozen
class PendingLeaf:
    """A leaf that cannot be scored until its missing facts are given."""

    code: str
    name: Optional[str]
    weight: Decimal
    missing: Tuple[MissingFact, ...]


# How describe() words a fact's type, in each language.
_TYPE_WORDS = {
    "zh": {"unit": "（{}）", "levels": "：", "list": "，可填多个", "range": "，范围{}"},
    "en": {"unit": " ({})", "levels": ": ", "list": ", one or more", "range": " in {}"},
}


def describe(need: FactNeed, lang: str = "zh") -> str:
    """「金额（元），范围(0, 10000000000]」 (``lang="en"``: "money (元) in (0, 10000000000]"):
    a fact's type as an evaluator fills it in."""
    words = _TYPE_WORDS["en" if lang == "en" else "zh"]
    kind = need.kind if lang == "en" else KIND_CN.get(need.kind, need.kind)
    if need.kind == "money":
        kind += words["unit"].format(need.unit or "元")
    if need.kind == "level" and need.levels:
        kind += words["levels"] + "/".join(need.levels)
    if need.is_list:
        kind += words["list"]
    if need.domain is not None:
        from .numbers import percent

        fmt = percent if need.kind == "percent" else plain
        kind += words["range"].format(need.domain.show(fmt))
    return kind


def lookup(facts: Facts, chain: Tuple[str, ...], name: str) -> Optional[FactValue]:
    """The value a leaf reads for ``name``: its own facts, its ancestors', the project's
    (the order the evaluator reads them in)."""
    for code in chain:
        table = facts.indicators.get(code)
        if table is not None and name in table:
            return table[name]
    return facts.project.get(name)


def find_pending(scorer, facts: Facts, evaluation: Evaluation) -> List[PendingLeaf]:
    """Every leaf that could not be scored and lacks facts, with all its missing facts."""
    by_leaf = needs_by_leaf(scorer.fact_needs())
    checked = scorer.checked
    out = []
    for result in evaluation.indicators:
        if not result.is_leaf or result.status != FAILED:
            continue
        chain = checked.by_code[result.code].chain
        missing = []
        for need in by_leaf.get(result.code, ()):
            found = lookup(facts, chain, need.name)
            if found is not None and found.value is not None:
                continue
            missing.append(MissingFact(result.code, need, place_for(need, result.code),
                                       found.where if found is not None else None))
        if missing:
            out.append(PendingLeaf(result.code, result.name, result.weight, tuple(missing)))
    return out


def other_diagnostics(evaluation: Evaluation, pending: List[PendingLeaf]) -> List[Diagnostic]:
    """The evaluation's diagnostics without the errors that a missing fact caused (those
    are worded by :func:`missing_text`, all of a leaf's at once)."""
    covered = set()
    by_code = evaluation.by_code()
    for leaf in pending:
        error = by_code[leaf.code].error
        if error is not None and _caused_by_missing(error, leaf):
            covered.add(id(error))
    return [d for d in evaluation.diagnostics if id(d) not in covered]


def _caused_by_missing(error: Diagnostic, leaf: PendingLeaf) -> bool:
    # A fact that is absent fails at the rule that reads it (a place in the set); one
    # that is listed blank fails at its place in the facts. A bad value elsewhere in
    # the facts is a problem of its own and stays listed.
    if error.code != "facts":
        return True
    return any(m.blank is not None and m.blank.file == error.file and
               m.blank.line == error.line and m.blank.column == error.column
               for m in leaf.missing)


def form_of(path: str) -> str:
    return "table" if Path(path).suffix.lower() in (".xlsx", ".csv") else "yaml"


# The wording of missing_text(), in each language.
_LIST_WORDS = {
    "zh": {"head": "{path}: 缺少 {count} 项事实，{leaves} 项指标无法评分：",
           "leaf": "  {title}（{weight}分）",
           "fact": "    - {label}（{name}，{type}）：填写在{place}{blank}",
           "blank": "；已列出但未填写（{where}）",
           "hint": "  提示：`indicator-eval facts {set} -o 事实模板.yaml` 生成列出全部事实的填写"
                   "模板；加 --draft 可先生成标注“待补充”的评分表草稿"},
    "en": {"head": "{path}: {count} {facts_are} missing; {leaves} {indicators} cannot be "
                   "scored:",
           "leaf": "  {title} ({weight} points)",
           "fact": "    - {label} ({name}, {type}): add it at {place}{blank}",
           "blank": "; listed but left blank ({where})",
           "hint": "  hint: `indicator-eval facts {set} -o facts-template.yaml` writes a "
                   "template listing every fact; --draft writes a draft score table with "
                   "these indicators marked 待补充"},
}


def missing_text(pending: List[PendingLeaf], facts_path: str, set_path: str = None,
                 lang: str = "zh") -> str:
    """The list an evaluator reads in the terminal: every missing fact at once, in
    Chinese (``lang="en"``: in English)."""
    words = _LIST_WORDS["en" if lang == "en" else "zh"]
    form = form_of(facts_path)
    count = sum(len(p.missing) for p in pending)
    lines = [words["head"].format(
        path=facts_path, count=count, leaves=len(pending),
        facts_are="fact is" if count == 1 else "facts are",
        indicators="indicator" if len(pending) == 1 else "indicators")]
    for leaf in pending:
        title = f"{leaf.code} {leaf.name}" if leaf.name else leaf.code
        lines.append(words["leaf"].format(title=title, weight=plain(leaf.weight)))
        for m in leaf.missing:
            blank = words["blank"].format(where=_where_text(m.blank)) if m.blank else ""
            place = _place_en(m) if lang == "en" else m.place_cn(form)
            lines.append(words["fact"].format(label=m.label, name=m.need.name,
                                              type=describe(m.need, lang), place=place,
                                              blank=blank))
    if set_path:
        lines.append(words["hint"].format(set=set_path))
    return "\n".join(lines)


def missing_diagnostics(pending: List[PendingLeaf], facts_path: str,
                        form: Optional[str] = None) -> List[Diagnostic]:
    """One error per missing fact, worded in Chinese for a report (and in English for
    the terminal), at the blank entry when there is one."""
    form = form or form_of(facts_path)
    out = []
    for leaf in pending:
        for m in leaf.missing:
            where = m.blank
            message = f"{m.leaf}: fact {m.need.name!r} is missing"
            out.append(Diagnostic(
                ERROR, message, file=where.file if where else facts_path,
                line=where.line if where else None, column=where.column if where else None,
                hint=f"add it at {_place_en(m)}", code="missing", message_cn=m.message_cn(form)))
    return out


def _place_en(m: MissingFact) -> str:
    return "the top of the facts (project-wide)" if m.place is None else \
        f"indicators: {m.place}: {m.need.name}"


def _where_text(where: Where) -> str:
    if where.line is not None:
        return f"{Path(where.file).name}:{where.line}:{where.column}"
    return where.file


def draft(evaluation: Evaluation, pending: List[PendingLeaf]) -> Evaluation:
    """A copy of ``evaluation`` as a draft 评分表: the leaves that wait for facts, and the
    groups above them, have status :data:`PENDING` and no score; the total is None, and
    a note says what is missing and how much the scored part adds up to."""
    waiting: Dict[str, PendingLeaf] = {p.code: p for p in pending}
    results = [attrs.evolve(r) for r in evaluation.indicators]
    for r in results:
        leaf = waiting.get(r.code)
        if leaf is None:
            continue
        r.status = PENDING
        r.score = r.unrounded = None
        r.error = None
        r.explanation = PENDING_CN + "：缺少" + "、".join(
            f"“{m.label}”" for m in leaf.missing)
    children: Dict[str, list] = {}
    for r in results:
        if r.parent is not None:
            children.setdefault(r.parent, []).append(r)
    for r in reversed(results):  # groups bottom-up
        if r.is_leaf or r.status != FAILED:
            continue
        kids = children.get(r.code, [])
        if any(c.status == FAILED for c in kids):
            continue
        r.status = PENDING
        r.score = r.unrounded = None
        codes = [c.code for c in kids if c.status == PENDING]
        r.explanation = f"{'、'.join(codes)}{PENDING_CN}，本组得分待定"
    scored = [r for r in results if r.is_leaf and r.status == SCORED]
    got = sum((r.score for r in scored), Decimal(0))
    open_points = sum((p.weight for p in pending), Decimal(0))
    note = Diagnostic(
        WARNING, f"draft: {len(pending)} indicators wait for facts", file=evaluation.facts_path,
        code="draft", message_cn=(
            f"本表为草稿：{len(pending)}项指标（共{plain(open_points)}分）{PENDING_CN}，总分待定；"
            f"已评分的{len(scored)}项末级指标合计{plain(got)}分"))
    diagnostics = other_diagnostics(evaluation, pending) + \
        missing_diagnostics(pending, evaluation.facts_path) + [note]
    return evaluation.replaced(indicators=results, diagnostics=diagnostics, total=None,
                               grade=None, unrounded_total=None)


def is_draft(evaluation: Evaluation) -> bool:
    return any(r.status == PENDING for r in evaluation.indicators)


__all__ = ["MissingFact", "PendingLeaf", "PENDING", "PENDING_CN", "describe", "draft",
           "find_pending", "is_draft", "lookup", "missing_diagnostics", "missing_text",
           "other_diagnostics"]
