"""The abstract syntax tree of a ``.ind`` file.

Every node is a frozen attrs class. Each carries a :class:`Span` that records
where it was written; the span takes no part in equality or hashing, so two
trees that say the same thing compare equal wherever they were written (the
formatter's round-trip property relies on it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional, Tuple, Union

import attrs


@attrs.frozen
class Span:
    """A region of a source file: 1-based lines and columns, 0-based offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _span():
    return attrs.field(default=None, eq=False, hash=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- expressions


@attrs.frozen
class Number:
    value: Decimal
    is_percent: bool = False
    span: Optional[Span] = _span()


@attrs.frozen
class String:
    value: str
    span: Optional[Span] = _span()


@attrs.frozen
class Boolean:
    value: bool
    span: Optional[Span] = _span()


@attrs.frozen
class Name:
    name: str
    span: Optional[Span] = _span()


@attrs.frozen
class Full:
    """``full``: the weight of the indicator (or point) being scored."""

    span: Optional[Span] = _span()


@attrs.frozen
class WeightRef:
    """``weight``: the same value as ``full``, read as "the weight"."""

    span: Optional[Span] = _span()


@attrs.frozen
class Unary:
    op: str  # "-" or "+"
    operand: "Expr"
    span: Optional[Span] = _span()


@attrs.frozen
class Binary:
    op: str  # + - * / of
    left: "Expr"
    right: "Expr"
    span: Optional[Span] = _span()


@attrs.frozen
class Compare:
    op: str  # >= <= == != > <
    left: "Expr"
    right: "Expr"
    span: Optional[Span] = _span()


@attrs.frozen
class Logical:
    op: str  # "and" / "or"
    left: "Expr"
    right: "Expr"
    span: Optional[Span] = _span()


@attrs.frozen
class Not:
    operand: "Expr"
    span: Optional[Span] = _span()


@attrs.frozen
class Call:
    func: str
    args: Tuple["Expr", ...]
    span: Optional[Span] = _span()


@attrs.frozen
class Interval:
    low: "Expr"
    high: "Expr"
    low_closed: bool
    high_closed: bool
    span: Optional[Span] = _span()


@attrs.frozen
class InInterval:
    subject: "Expr"
    interval: Interval
    span: Optional[Span] = _span()


Expr = Union[Number, String, Boolean, Name, Full, WeightRef, Unary, Binary, Compare,
             Logical, Not, Call, InInterval]

# -------------------------------------------------------------------- clauses


@attrs.frozen
class NotApplicable:
    """``na`` as an outcome: the indicator is not applicable; its parent re-scales."""

    span: Optional[Span] = _span()


Outcome = Union[Expr, NotApplicable]


@attrs.frozen
class Guarded:
    """``condition -> outcome``: the first guard that holds decides the score."""

    condition: Expr
    outcome: Outcome
    span: Optional[Span] = _span()


@attrs.frozen
class Otherwise:
    """``else -> outcome``."""

    outcome: Outcome
    span: Optional[Span] = _span()


@attrs.frozen
class Result:
    """A bare expression: the score when no earlier guard held."""

    value: Expr
    span: Optional[Span] = _span()


NA_RESCALE = "rescale"
NA_SHARE = "share equally"

STEP_WHOLE = "whole"
STEP_STARTED = "started"
STEP_PRO_RATA = "pro rata"


@attrs.frozen
class Step:
    """``[subject] per 5% below [ref] -> delta [from base]``.

    Without a written subject, the subject and the default reference come from the
    guard before the clause that says where full marks start (``ratio(a, t) >= 1``
    gives subject ``ratio(a, t)`` and reference ``1``). ``around`` counts signed
    steps on either side of the reference (「每高（低）0.1个百分点加（减）…」).
    """

    mode: str  # STEP_WHOLE, STEP_STARTED or STEP_PRO_RATA
    size: Expr
    direction: str  # "below", "above", "off" or "around"
    reference: Optional[Expr]
    delta: Expr
    base: Optional[Expr]
    subject: Optional[Expr] = None
    span: Optional[Span] = _span()


@attrs.frozen
class Each:
    """``each count -> delta [from base]``: one delta per counted item."""

    count: Expr
    delta: Expr
    base: Optional[Expr]
    span: Optional[Span] = _span()


@attrs.frozen
class Floor:
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Cap:
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class DeductAtMost:
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Flag:
    """``flag over if cond`` (over-achievement, 偏离度) or ``flag "message" if cond``."""

    message: Optional[str]  # None for the over-achievement flag
    condition: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Let:
    name: str
    label: Optional[str]
    value: Expr
    span: Optional[Span] = _span()


@attrs.frozen
class Expect:
    """``expect nondecreasing in actual``: a promise that ``indicator-eval props`` checks."""

    property: str  # "nondecreasing", "nonincreasing" or "continuous"
    name: str
    span: Optional[Span] = _span()


@attrs.frozen
class Published:
    """``published``: the score the facts file gives as the report's (``published: 5.5``),
    for the indicators a partial table (节选) does not spell out."""

    span: Optional[Span] = _span()


Clause = Union[Guarded, Otherwise, Result, Step, Each, Floor, Cap, DeductAtMost, Flag, Let,
               Expect, Published]


@attrs.frozen
class Rule:
    clauses: Tuple[Clause, ...]
    span: Optional[Span] = _span()


# --------------------------------------------------------------- declarations

FACT_TYPES = ("number", "percent", "count", "bool", "text", "money", "level")


@attrs.frozen
class FactType:
    kind: str  # one of FACT_TYPES
    unit: Optional[str] = None  # money only
    levels: Tuple[str, ...] = ()  # level only
    span: Optional[Span] = _span()


@attrs.frozen
class FactDecl:
    names: Tuple[str, ...]
    type: FactType
    domain: Optional[Interval]
    label: Optional[str]
    span: Optional[Span] = _span()


@attrs.frozen
class Require:
    """``require done + undone == total "…"``: facts that must agree, checked before scoring."""

    condition: Expr
    message: Optional[str]
    span: Optional[Span] = _span()


@attrs.frozen
class RuleDef:
    name: str
    params: Tuple[str, ...]
    rule: Rule
    span: Optional[Span] = _span()


@attrs.frozen
class Point:
    """One sub-point (要点) of a leaf; the leaf scores the sum of its points."""

    label: str
    is_share: bool  # ``share 1/3`` (of the leaf's weight) or ``weight 7`` (points)
    weight: Expr
    rule: Rule
    span: Optional[Span] = _span()


@attrs.frozen
class Indicator:
    """A group (with children) or a leaf (with a rule or points)."""

    code: str
    name: Optional[str]
    weight: Number
    bonus: bool = False
    explain: Optional[str] = None
    standard: Optional[str] = None
    notes: Tuple[str, ...] = ()
    facts: Tuple[FactDecl, ...] = ()
    lets: Tuple[Let, ...] = ()
    rule: Optional[Rule] = None
    points: Tuple[Point, ...] = ()
    children: Tuple["Indicator", ...] = ()
    na_policy: Optional[str] = None  # NA_RESCALE (default) or NA_SHARE, for a group
    requires: Tuple[Require, ...] = ()
    # In a set that extends another: ("after" | "before", CODE) for a new top-level node.
    placement: Optional[Tuple[str, str]] = None
    span: Optional[Span] = _span()

    @property
    def is_leaf(self) -> bool:
        return not self.children


@attrs.frozen
class Grade:
    label: str
    lower: Optional[Decimal]  # None: the catch-all last grade
    span: Optional[Span] = _span()


@attrs.frozen
class Rounding:
    target: str  # "leaves", "groups" or "total"
    step: Decimal
    span: Optional[Span] = _span()


@attrs.frozen
class Header:
    name: Optional[str] = None
    region: Optional[str] = None
    year_from: Optional[int] = None
    year_to: Optional[int] = None
    source: Optional[str] = None
    total: Optional[Decimal] = None
    grades: Tuple[Grade, ...] = ()
    rounding: Tuple[Rounding, ...] = ()
    na_policy: Optional[str] = None  # for the top level, as a group's `when na:`
    # Where each header statement was written ("total", "grades" …), for messages.
    spans: dict = attrs.field(factory=dict, eq=False, hash=False, repr=False)


# ------------------------------------------------------------------- modules


@attrs.frozen
class Import:
    """``import "lib.ind" as lib`` (alias) or ``from "lib.ind" import a, b`` (names)."""

    path: str
    alias: Optional[str] = None
    names: Tuple[str, ...] = ()
    span: Optional[Span] = _span()


@attrs.frozen
class Extends:
    path: str
    span: Optional[Span] = _span()


@attrs.frozen
class Override:
    """``override CODE …``: replace the parts of an inherited indicator that are given."""

    code: str
    weight: Optional[Number] = None
    name: Optional[str] = None
    explain: Optional[str] = None
    standard: Optional[str] = None
    notes: Tuple[str, ...] = ()
    facts: Tuple[FactDecl, ...] = ()
    lets: Tuple[Let, ...] = ()
    rule: Optional[Rule] = None
    points: Tuple[Point, ...] = ()
    children: Tuple["Indicator", ...] = ()
    na_policy: Optional[str] = None
    requires: Tuple[Require, ...] = ()
    span: Optional[Span] = _span()


@attrs.frozen
class Remove:
    codes: Tuple[str, ...]
    span: Optional[Span] = _span()


@attrs.frozen
class Under:
    """``under CODE { … }``: add indicators to an inherited group."""

    code: str
    children: Tuple["Indicator", ...]
    facts: Tuple[FactDecl, ...] = ()
    lets: Tuple[Let, ...] = ()
    span: Optional[Span] = _span()


Edit = Union[Override, Remove, Under]


@attrs.frozen
class SetFile:
    """A whole ``.ind`` file."""

    header: Header
    facts: Tuple[FactDecl, ...] = ()
    lets: Tuple[Let, ...] = ()
    rule_defs: Tuple[RuleDef, ...] = ()
    indicators: Tuple[Indicator, ...] = ()
    imports: Tuple[Import, ...] = ()
    extends: Optional[Extends] = None
    edits: Tuple[Edit, ...] = ()
    requires: Tuple[Require, ...] = ()
    path: str = attrs.field(default="<string>", eq=False)
    # The keywords the file is written in, "en" or "zh": what `fmt` keeps.
    spelling: str = attrs.field(default="en", eq=False)
    # Lines set aside after syntax errors (parsing went on without them): the checks that
    # those lines could have changed are not reported.
    dropped_lines: Tuple[int, ...] = attrs.field(default=(), eq=False)


def walk(node):
    """Every AST node inside ``node`` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = []
        for field in attrs.fields(type(current)):
            if field.name == "span":
                continue
            value = getattr(current, field.name)
            if isinstance(value, tuple):
                children.extend(v for v in value if attrs.has(type(v)))
            elif attrs.has(type(value)):
                children.append(value)
        stack.extend(reversed(children))


def span_contains(span: Optional[Span], line: int, column: int) -> bool:
    """Whether the 1-based ``line``/``column`` lies in ``span`` (its end included, so a
    cursor just after a word is still on it)."""
    if span is None:
        return False
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def nodes_at(root, line: int, column: int, file: Optional[str] = None) -> list:
    """The nodes under a position, outermost first (the last is the innermost), for an
    editor's hover, completion and go-to-definition. ``file`` keeps only nodes written in
    that file (a linked tree holds nodes of several)."""
    found = [node for node in walk(root)
             if span_contains(getattr(node, "span", None), line, column)
             and (file is None or node.span.file == file)]
    found.sort(key=lambda node: (node.span.line, node.span.column, -node.span.end_line,
                                 -node.span.end_column))
    return found
