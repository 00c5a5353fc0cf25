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
from .formatter import format_rule
from .numbers import plain

FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


@attrs.define
class Change:
    code: str
    kind: str  # added, removed, weight, name, rule, standard, explain, moved
    old: Optional[str] = None
    new: Optional[str] = None

    def render(self) -> str:
        if self.kind == "added":
            return f"+ {self.code} {self.new}"
        if self.kind == "removed":
            return f"- {self.code} {self.old}"
        return f"~ {self.code} {self.kind}: {self.old}  →  {self.new}"


def _describe(node: CheckedIndicator) -> str:
    kind = "group" if not node.is_leaf else "leaf"
    return f"\"{node.name or ''}\" ({kind}, weight {plain(node.weight)})"


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
        old_parent = before.parent.code if before.parent else "(top)"
        new_parent = node.parent.code if node.parent else "(top)"
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
        changes.append(Change("(set)", "total", plain(old.checked.total),
                              plain(new.checked.total)))
    old_grades = [(g.label, g.lower) for g in old.checked.grades]
    new_grades = [(g.label, g.lower) for g in new.checked.grades]
    if old_grades != new_grades:
        show = lambda gs: ", ".join(f"{l} >= {plain(b)}" if b is not None else l for l, b in gs)
        changes.append(Change("(set)", "grades", show(old_grades), show(new_grades)))
    return changes


def facts_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in FACTS_SUFFIXES
                  and not p.name.endswith(".cases.yaml"))


def score_changes(old, new, folder: Path) -> List[str]:
    """One block per project: total and grade before and after, and the leaves that moved."""
    from .errors import IndicatorError
    from .facts import load_facts

    lines: List[str] = []
    for path in facts_files(folder):
        try:
            facts = load_facts(path)
        except IndicatorError as exc:
            lines.append(f"{path}: cannot be read: {exc.diagnostics[0].message}")
            continue
        a, b = old.evaluate(facts), new.evaluate(facts)
        name = facts.project.get("name")
        title = f"{path}" + (f" ({name.value})" if name is not None else "")
        total = f"{_show(a.total)} → {_show(b.total)}"
        grade = f"{a.grade or '—'} → {b.grade or '—'}"
        delta = ""
        if a.total is not None and b.total is not None:
            d = b.total - a.total
            delta = f" ({'+' if d >= 0 else ''}{plain(d)})"
        lines.append(f"{title}: total {total}{delta}, grade {grade}")
        before = a.by_code()
        for leaf in b.leaves():
            old_leaf = before.get(leaf.code)
            old_score = old_leaf.score if old_leaf is not None else None
            if old_leaf is None or old_score != leaf.score or old_leaf.status != leaf.status:
                lines.append(f"    {leaf.code}: {_status(old_leaf)} → {_status(leaf)}")
        for code, old_leaf in before.items():
            if old_leaf.is_leaf and code not in b.by_code():
                lines.append(f"    {code}: {_status(old_leaf)} → (removed)")
        for d in a.errors + b.errors:
            lines.append(f"    ! {d.message}")
    return lines


def _show(value: Optional[Decimal]) -> str:
    return "—" if value is None else plain(value)


def _status(result) -> str:
    if result is None:
        return "(new)"
    if result.status == "scored":
        return plain(result.score)
    return "n/a" if result.status == "not_applicable" else "error"
