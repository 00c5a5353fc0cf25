"""What changed between two versions of a table: ``indicator-eval diff OLD NEW``.

Indicators are matched by code. For each the diff reports added and removed
indicators, and changed weights, names, standards and rules (compared in their
canonical form, so re-formatting alone is no change). Given a folder of facts
files, it scores every project with both versions and shows how totals, grades
and leaf scores move.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import List, Optional

import attrs

from .checker import CheckedIndicator
from .errors import Bilingual, cn_of
from .formatter import format_rule
from .numbers import plain

FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


@attrs.define
class Change:
    code: str
    kind: str  # added, removed, weight, name, rule, standard, explain, moved
    old: Optional[str] = None
    new: Optional[str] = None

    def render(self, lang: str = "en") -> str:
        code, old, new = self.code, self.old, self.new
        if lang == "zh":
            code, old, new = cn_of(code), cn_of(old), cn_of(new)
        if self.kind == "added":
            return f"+ {code} {new}"
        if self.kind == "removed":
            return f"- {code} {old}"
        kind = _KINDS_CN.get(self.kind, self.kind) if lang == "zh" else self.kind
        return f"~ {code} {kind}{'：' if lang == 'zh' else ': '}{old}  →  {new}"


_KINDS_CN = {"weight": "分值", "name": "名称", "rule": "评分规则", "standard": "评分标准",
             "explain": "指标解释", "moved": "上级指标", "total": "总分", "grades": "等级"}


def _describe(node: CheckedIndicator) -> str:
    kind = "group" if not node.is_leaf else "leaf"
    kind_cn = "上级指标" if not node.is_leaf else "末级指标"
    return Bilingual(f"\"{node.name or ''}\" ({kind}, weight {plain(node.weight)})",
                     f"“{node.name or ''}”（{kind_cn}，分值 {plain(node.weight)}）")


def _rule_text(node: CheckedIndicator) -> Optional[str]:
    if node.rule is not None:
        return format_rule(node.rule, "", width=10 ** 6)
    if node.points:
        return " | ".join(f"{p.label} {plain(p.weight)}: {format_rule(p.rule, '', 10 ** 6)}"
                          for p in node.points)
    return None


def structure_changes(old, new) -> List[Change]:
    """Changes between two IndicatorSets, in the new set's order."""
    old_nodes = {n.code: n for n in old.checked.walk()}
    new_nodes = {n.code: n for n in new.checked.walk()}
    changes: List[Change] = []
    for code, node in new_nodes.items():
        before = old_nodes.get(code)
        if before is None:
            changes.append(Change(code, "added", new=_describe(node)))
            continue
        if before.weight != node.weight:
            changes.append(Change(code, "weight", plain(before.weight), plain(node.weight)))
        if before.name != node.name:
            changes.append(Change(code, "name", before.name, node.name))
        old_parent = before.parent.code if before.parent else _TOP
        new_parent = node.parent.code if node.parent else _TOP
        if old_parent != new_parent:
            changes.append(Change(code, "moved", old_parent, new_parent))
        for field in ("standard", "explain"):
            a, b = getattr(before.node, field), getattr(node.node, field)
            if a != b:
                changes.append(Change(code, field, a, b))
        if node.is_leaf or before.is_leaf:
            a, b = _rule_text(before), _rule_text(node)
            if a != b:
                changes.append(Change(code, "rule", a, b))
    for code, node in old_nodes.items():
        if code not in new_nodes:
            changes.append(Change(code, "removed", old=_describe(node)))
    if old.checked.total != new.checked.total:
        changes.append(Change(_SET, "total", plain(old.checked.total),
                              plain(new.checked.total)))
    old_grades = [(g.label, g.lower) for g in old.checked.grades]
    new_grades = [(g.label, g.lower) for g in new.checked.grades]
    if old_grades != new_grades:
        show = lambda gs: ", ".join(f"{l} >= {plain(b)}" if b is not None else l for l, b in gs)
        changes.append(Change(_SET, "grades", show(old_grades), show(new_grades)))
    return changes


def facts_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in FACTS_SUFFIXES
                  and not p.name.endswith(".cases.yaml"))


_TOP = Bilingual("(top)", "（一级指标）")
_SET = Bilingual("(set)", "（指标体系）")


def score_changes(old, new, folder: Path, lang: str = "en") -> List[str]:
    """One block per project: total and grade before and after, and the leaves that moved."""
    from .errors import IndicatorError
    from .facts import load_facts

    lines: List[str] = []
    for path in facts_files(folder):
        try:
            facts = load_facts(path)
        except IndicatorError as exc:
            first = exc.diagnostics[0]
            lines.append(f"{path}：无法读取：{first.message_cn or first.message}" if lang == "zh"
                         else f"{path}: cannot be read: {first.message}")
            continue
        a, b = old.evaluate(facts), new.evaluate(facts)
        name = facts.project.get("name")
        title = f"{path}" + ((f"（{name.value}）" if lang == "zh" else f" ({name.value})")
                             if name is not None else "")
        total = f"{_show(a.total)} → {_show(b.total)}"
        grade = f"{a.grade or '—'} → {b.grade or '—'}"
        delta = ""
        if a.total is not None and b.total is not None:
            d = b.total - a.total
            delta = f"{'+' if d >= 0 else ''}{plain(d)}"
            delta = f"（{delta}）" if lang == "zh" else f" ({delta})"
        lines.append(f"{title}：总分 {total}{delta}，等级 {grade}" if lang == "zh" else
                     f"{title}: total {total}{delta}, grade {grade}")
        before = a.by_code()
        for leaf in b.leaves():
            old_leaf = before.get(leaf.code)
            old_score = old_leaf.score if old_leaf is not None else None
            if old_leaf is None or old_score != leaf.score or old_leaf.status != leaf.status:
                lines.append(f"    {leaf.code}: {_status(old_leaf, lang)} → "
                             f"{_status(leaf, lang)}")
        for code, old_leaf in before.items():
            if old_leaf.is_leaf and code not in b.by_code():
                removed = "（已删除）" if lang == "zh" else "(removed)"
                lines.append(f"    {code}: {_status(old_leaf, lang)} → {removed}")
        for d in a.errors + b.errors:
            lines.append(f"    ! {d.message_cn or d.message}" if lang == "zh" else
                         f"    ! {d.message}")
    return lines


def _show(value: Optional[Decimal]) -> str:
    return "—" if value is None else plain(value)


def _status(result, lang: str = "en") -> str:
    if result is None:
        return "（新增）" if lang == "zh" else "(new)"
    if result.status == "scored":
        return plain(result.score)
    if lang == "zh":
        return "不适用" if result.status == "not_applicable" else "无法评分"
    return "n/a" if result.status == "not_applicable" else "error"
