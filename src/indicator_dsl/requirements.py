"""The facts a set reads: for fact templates, forms, editors and "what is missing" lists.

Derived once from the compiled plans (every name a leaf's rules can read, with the
declaration that types it), so every consumer — the ``facts`` template, the web
form, the language server's hover, the list of missing facts — agrees on one list.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import attrs

from .checker import CheckedSet, FactInfo
from .intervals import Interval


@attrs.frozen
class FactNeed:
    """One fact a set reads."""

    name: str
    label: Optional[str]  # the declared Chinese label, if any
    kind: str  # number, percent, count, money, bool, level, text
    unit: Optional[str]  # money only: 元, 万元 …
    levels: Tuple[str, ...]  # level only
    domain: Optional[Interval]  # the declared range, if any
    declared: bool  # False: used by a rule but never declared (taken as a number)
    # The indicator whose block declares the fact, or None when it is declared at the
    # top of the set (or not at all): where a facts file naturally places it.
    declared_in: Optional[str]
    readers: Tuple[str, ...]  # the leaves whose rules read it, in tree order
    is_list: bool = False  # passed to sum/mean/min/max, so a list is accepted

    @property
    def shown_name(self) -> str:
        return self.label or self.name


def fact_needs(checked: CheckedSet, plans) -> List[FactNeed]:
    """Every fact the leaves read, in the order the tree first reads them.

    ``plans`` maps leaf codes to compiled :class:`~indicator_dsl.compiler.LeafPlan`s.
    """
    order: List[str] = []
    found: Dict[str, dict] = {}
    for leaf in checked.leaves():
        plan = plans.get(leaf.code)
        if plan is None:
            continue
        for name, info, allow_list, _span in plan.fact_slots:
            entry = found.get(name)
            if entry is None:
                entry = found[name] = {"info": info, "readers": [], "is_list": False,
                                       "declared_in": _declared_in(leaf, name)}
                order.append(name)
            if leaf.code not in entry["readers"]:
                entry["readers"].append(leaf.code)
            entry["is_list"] = entry["is_list"] or allow_list
    out = []
    for name in order:
        entry = found[name]
        info: FactInfo = entry["info"]
        out.append(FactNeed(name, info.label, info.kind, info.unit, tuple(info.levels),
                            info.domain, info.declared, entry["declared_in"],
                            tuple(entry["readers"]), entry["is_list"]))
    return out


def leaf_fact_names(plan) -> List[str]:
    """The names one compiled leaf can read, in the order its rules first use them."""
    seen: List[str] = []
    for name, _info, _allow_list, _span in plan.fact_slots:
        if name not in seen:
            seen.append(name)
    return seen


def _declared_in(leaf, name: str) -> Optional[str]:
    """The code of the indicator whose block declares ``name`` for this leaf, if any."""
    scope = leaf.scope
    while scope is not None:
        if name in scope.names and isinstance(scope.names[name], FactInfo):
            return None if scope.owner == "set" else scope.owner
        scope = scope.parent
    return None
