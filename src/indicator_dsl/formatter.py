"""AST → canonical ``.ind`` text. ``parse(format_set(x)) == x`` for every tree."""

from __future__ import annotations

from decimal import Decimal
from typing import List

from . import nodes as n
from .numbers import plain

INDENT = "  "

# Binding strength, loosest first; a child looser than its parent gets brackets.
_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "in": 4, "+": 5, "-": 5, "of": 6,
               "*": 7, "/": 7, "unary": 8, "atom": 9}


def _prec(expr) -> int:
    if isinstance(expr, n.Logical):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, n.Not):
        return _PRECEDENCE["not"]
    if isinstance(expr, (n.Compare, n.InInterval)):
        return _PRECEDENCE["compare"]
    if isinstance(expr, n.Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, n.Unary):
        return _PRECEDENCE["unary"]
    if isinstance(expr, n.Number) and expr.value < 0:
        return _PRECEDENCE["unary"]
    return _PRECEDENCE["atom"]


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\t", "\\t") + '"'


def number(value: Decimal, is_percent: bool = False) -> str:
    if is_percent:
        return plain(value * 100) + "%"
    return plain(value)


def format_expr(expr) -> str:
    if isinstance(expr, n.Number):
        return number(expr.value, expr.is_percent)
    if isinstance(expr, n.String):
        return quote(expr.value)
    if isinstance(expr, n.Boolean):
        return "true" if expr.value else "false"
    if isinstance(expr, n.Name):
        return expr.name
    if isinstance(expr, n.Full):
        return "full"
    if isinstance(expr, n.WeightRef):
        return "weight"
    if isinstance(expr, n.NotApplicable):
        return "na"
    if isinstance(expr, n.Unary):
        inner = _wrap(expr.operand, _PRECEDENCE["unary"], right=True)
        if expr.op == "-" and isinstance(expr.operand, n.Number):
            inner = f"({format_expr(expr.operand)})"  # keep -(5) distinct from the literal -5
        return f"{expr.op}{inner}"
    if isinstance(expr, n.Binary):
        p = _PRECEDENCE[expr.op]
        if expr.op == "of":
            # `of` does not chain: both sides must bind tighter.
            return f"{_wrap(expr.left, p, right=True)} of {_wrap(expr.right, p, right=True)}"
        return f"{_wrap(expr.left, p)} {expr.op} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Compare):
        p = _PRECEDENCE["compare"]
        return f"{_wrap(expr.left, p, right=True)} {expr.op} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Logical):
        p = _PRECEDENCE[expr.op]
        return f"{_wrap(expr.left, p)} {expr.op} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Not):
        return f"not {_wrap(expr.operand, _PRECEDENCE['not'])}"
    if isinstance(expr, n.InInterval):
        p = _PRECEDENCE["compare"]
        return f"{_wrap(expr.subject, p, right=True)} in {format_interval(expr.interval)}"
    if isinstance(expr, n.Call):
        return f"{expr.func}({', '.join(format_expr(a) for a in expr.args)})"
    raise TypeError(f"cannot format {expr!r}")


def format_interval(interval: n.Interval) -> str:
    return ("[" if interval.low_closed else "(") + format_expr(interval.low) + ", " + \
        format_expr(interval.high) + ("]" if interval.high_closed else ")")


def _wrap(expr, parent: int, right: bool = False) -> str:
    text = format_expr(expr)
    p = _prec(expr)
    if p < parent or (right and p == parent):
        return f"({text})"
    return text


def format_clause(clause) -> str:
    if isinstance(clause, n.Guarded):
        return f"{format_expr(clause.condition)} -> {format_expr(clause.outcome)}"
    if isinstance(clause, n.Otherwise):
        return f"else -> {format_expr(clause.outcome)}"
    if isinstance(clause, n.Result):
        return format_expr(clause.value)
    if isinstance(clause, n.Step):
        head = {n.STEP_WHOLE: "per", n.STEP_STARTED: "per started",
                n.STEP_PRO_RATA: "pro rata"}[clause.mode]
        ref = f" {format_expr(clause.reference)}" if clause.reference is not None else ""
        base = f" from {format_expr(clause.base)}" if clause.base is not None else ""
        return (f"{head} {format_expr(clause.size)} {clause.direction}{ref} -> "
                f"{format_expr(clause.delta)}{base}")
    if isinstance(clause, n.Each):
        base = f" from {format_expr(clause.base)}" if clause.base is not None else ""
        return f"each {format_expr(clause.count)} -> {format_expr(clause.delta)}{base}"
    if isinstance(clause, n.Floor):
        return f"floor {format_expr(clause.value)}"
    if isinstance(clause, n.Cap):
        return f"cap {format_expr(clause.value)}"
    if isinstance(clause, n.DeductAtMost):
        return f"deduct at most {format_expr(clause.value)}"
    if isinstance(clause, n.Flag):
        what = "over" if clause.message is None else quote(clause.message)
        return f"flag {what} if {format_expr(clause.condition)}"
    if isinstance(clause, n.Let):
        label = f" {quote(clause.label)}" if clause.label else ""
        return f"let {clause.name}{label} = {format_expr(clause.value)}"
    raise TypeError(f"cannot format {clause!r}")


def format_rule(rule: n.Rule, indent: str = "", width: int = 100) -> str:
    """One line when it fits, else one clause per line (each ending in ';')."""
    parts = [format_clause(c) for c in rule.clauses]
    line = "; ".join(parts)
    if len(line) + len(indent) <= width:
        return line
    return (";\n" + indent).join(parts)


def _label(label: str) -> str:
    import re

    return label if re.fullmatch(r"(?!\d)[\w①-⑳]+", label) and label not in KEYWORDS \
        else quote(label)


KEYWORDS = {"set", "region", "year", "source", "total", "grades", "round", "fact", "let",
             "rule", "weight", "bonus", "explain", "standard", "note", "score", "point",
             "share", "else", "per", "whole", "started", "pro", "rata", "below", "above", "off",
             "each", "from", "floor", "cap", "deduct", "at", "most", "flag", "over", "if", "na",
             "and", "or", "not", "in", "of", "true", "false", "full", "to", "leaves", "groups",
             "number", "percent", "count", "bool", "text", "money", "level"}


def format_fact(decl: n.FactDecl) -> str:
    t = decl.type
    if t.kind == "money":
        type_text = f"money({t.unit})" if t.unit else "money"
    elif t.kind == "level":
        type_text = "level(" + ", ".join(quote(v) for v in t.levels) + ")"
    else:
        type_text = t.kind
    domain = f" in {format_interval(decl.domain)}" if decl.domain is not None else ""
    label = f" {quote(decl.label)}" if decl.label else ""
    return f"fact {', '.join(decl.names)}: {type_text}{domain}{label}"


def format_let(let: n.Let) -> str:
    return format_clause(let)


def format_indicator(node: n.Indicator, depth: int = 0) -> List[str]:
    pad = INDENT * depth
    name = f" {quote(node.name)}" if node.name else ""
    weight = number(node.weight.value * 100, False) + "%" if node.weight.is_percent else \
        plain(node.weight.value)
    head = f"{pad}{node.code}{name} weight {weight}{' bonus' if node.bonus else ''}"
    simple = node.rule is not None and not (node.explain or node.standard or node.notes or
                                            node.facts or node.lets or node.points or
                                            node.children)
    if simple:
        rule_indent = " " * (len(head) + 2)
        return [f"{head}: {format_rule(node.rule, rule_indent)}"]
    inner = INDENT * (depth + 1)
    lines = [f"{head} {{"]
    if node.explain is not None:
        lines.append(f"{inner}explain {quote(node.explain)}")
    if node.standard is not None:
        lines.append(f"{inner}standard {quote(node.standard)}")
    for note in node.notes:
        lines.append(f"{inner}note {quote(note)}")
    for decl in node.facts:
        lines.append(f"{inner}{format_fact(decl)}")
    for let in node.lets:
        lines.append(f"{inner}{format_let(let)}")
    if node.rule is not None:
        lines.append(f"{inner}score: {format_rule(node.rule, inner + '       ')}")
    for point in node.points:
        kind = "share" if point.is_share else "weight"
        head_p = f"{inner}point {_label(point.label)} {kind} {format_expr(point.weight)}: "
        lines.append(head_p + format_rule(point.rule, " " * len(head_p)))
    for child in node.children:
        lines.extend(format_indicator(child, depth + 1))
    lines.append(f"{pad}}}")
    return lines


def format_set(setfile: n.SetFile) -> str:
    h = setfile.header
    lines: List[str] = []
    if h.name is not None:
        lines.append(f"set {quote(h.name)}")
    if h.region is not None:
        lines.append(f"region {quote(h.region)}")
    if h.year_from is not None:
        lines.append(f"year {h.year_from}" + (f" to {h.year_to}" if h.year_to != h.year_from
                                              else ""))
    if h.source is not None:
        lines.append(f"source {quote(h.source)}")
    if h.total is not None:
        lines.append(f"total {plain(h.total)}")
    if h.grades:
        parts = [(_label(g.label) + (f" >= {plain(g.lower)}" if g.lower is not None else ""))
                 for g in h.grades]
        lines.append("grades " + ", ".join(parts))
    for r in h.rounding:
        lines.append(f"round {r.target} to {plain(r.step)}")
    blocks = []
    if lines:
        blocks.append(lines)
    if setfile.facts:
        blocks.append([format_fact(d) for d in setfile.facts])
    if setfile.lets:
        blocks.append([format_let(let) for let in setfile.lets])
    for rule_def in setfile.rule_defs:
        head = f"rule {rule_def.name}({', '.join(rule_def.params)}): "
        blocks.append([head + format_rule(rule_def.rule, " " * len(head))])
    for node in setfile.indicators:
        blocks.append(format_indicator(node))
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"
