"""The facts a set reads: for fact templates, forms, editors and "what is missing" lists.

Derived once from the compiled plans (every name a leaf's rules can read, with the
declaration that types it), so every consumer — the ``facts`` template, the web
form, the language server's hover, the list of missing facts — agrees on one list.

Where a facts file gives a fact's value (:attr:`FactNeed.places`) follows the shipped
sets' own facts files: a fact is one value per reading leaf, under that leaf's code
(seed 001's ``execution`` is declared once in group B32 for its type and levels, and
B321, B322 and B323 each give their own value) — unless the set computes a shared
``let`` from it, at the top of the set or in a group, and several leaves read it:
then the fact is one quantity of the whole project (or of that group), given once
(seed 001's ``budget`` and ``spent``, read by B13 and C1115 through the set-level
``execution_rate``). A fact a single leaf reads goes under that leaf.
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
    # Where a facts file gives the value: indicator codes (each reading leaf, or the one
    # group whose shared `let` reads it), or (None,) for the project-wide facts.
    places: Tuple[Optional[str], ...] = ()

    @property
    def shown_name(self) -> str:
        return self.label or self.name


def fact_needs(checked: CheckedSet, plans) -> List[FactNeed]:
    """Every fact the leaves read, in the order the tree first reads them. A name that
    leaves declare differently (type, label, range) is one need per declaration.

    ``plans`` maps leaf codes to compiled :class:`~indicator_dsl.compiler.LeafPlan`s.
    """
    order: List[tuple] = []
    found: Dict[tuple, dict] = {}
    shared_lets = _shared_lets(checked)
    for leaf in checked.leaves():
        plan = plans.get(leaf.code)
        if plan is None:
            continue
        for name, info, allow_list, span in plan.fact_slots:
            # One need per declaration: leaves may declare the same name differently
            # (a count in B2, a percentage in D1), and then they are different facts.
            key = (name, info.kind, info.label, info.unit, tuple(info.levels), info.domain)
            entry = found.get(key)
            if entry is None:
                entry = found[key] = {"info": info, "readers": [], "is_list": False,
                                      "declared_in": _declared_in(leaf, name),
                                      "shared": set()}
                order.append(key)
            if leaf.code not in entry["readers"]:
                entry["readers"].append(leaf.code)
            entry["is_list"] = entry["is_list"] or allow_list
            owner = _let_owner(span, shared_lets)
            if owner is not _NOT_SHARED:
                entry["shared"].add(owner)
    out = []
    for key in order:
        name = key[0]
        entry = found[key]
        info: FactInfo = entry["info"]
        readers = tuple(entry["readers"])
        out.append(FactNeed(name, info.label, info.kind, info.unit, tuple(info.levels),
                            info.domain, info.declared, entry["declared_in"], readers,
                            entry["is_list"], _places(checked, readers, entry["shared"])))
    return out


def needs_by_leaf(needs: List[FactNeed]) -> Dict[str, List[FactNeed]]:
    """The facts each leaf reads, in the set's order."""
    out: Dict[str, List[FactNeed]] = {}
    for need in needs:
        for code in need.readers:
            out.setdefault(code, []).append(need)
    return out


def place_for(need: FactNeed, leaf: str) -> Optional[str]:
    """Where a facts file gives ``need`` for ``leaf``: a code, or None for project-wide."""
    if len(need.places) == 1 and need.places[0] not in need.readers:
        return need.places[0]
    return leaf


_NOT_SHARED = object()


def _shared_lets(checked: CheckedSet) -> List[tuple]:
    """(file, start, end, owner) of every `let` at the top of the set (owner None) or in a
    group (owner: its code): values computed once for every leaf below them."""
    out = []
    scopes = []
    leaves = checked.leaves()
    if leaves:
        root = leaves[0].scope
        while root.parent is not None:
            root = root.parent
        scopes.append((root, None))
    scopes.extend((node.scope, node.code) for node in checked.walk() if not node.is_leaf)
    for scope, owner in scopes:
        for binding in scope.names.values():
            span = getattr(getattr(binding, "let", None), "span", None)
            if span is not None:
                out.append((span.file, span.start, span.end, owner))
    return out


def _let_owner(span, lets):
    if span is None:
        return _NOT_SHARED
    for file, start, end, owner in lets:
        if span.file == file and start <= span.start < end:
            return owner
    return _NOT_SHARED


def _places(checked: CheckedSet, readers: Tuple[str, ...], shared) -> Tuple[Optional[str], ...]:
    if len(readers) > 1 and len(shared) == 1:
        (owner,) = shared
        if owner is None:
            return (None,)
        if all(owner in checked.by_code[code].chain for code in readers):
            return (owner,)
    return readers


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
