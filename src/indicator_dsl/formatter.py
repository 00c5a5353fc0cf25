"""AST → canonical ``.ind`` text. ``parse(format_set(x)) == x`` for every tree.

Text comes out in English keywords or, with ``spelling="zh"``, in the Chinese ones
(权重, 满分, 每低于 5% -> 扣 0.1, 扣完为止 …); both parse back to the same tree. ``fmt``
keeps the spelling a file is written in unless asked to convert.
"""

from __future__ import annotations

import contextlib
import contextvars
from decimal import Decimal
from typing import List, Optional

from . import keywords as _keywords
from . import nodes as n
from .numbers import plain

INDENT = "  "

# Whether the text being written uses the Chinese keywords.
_ZH: contextvars.ContextVar = contextvars.ContextVar("indicator_dsl_zh", default=False)
_CHINESE = {k.english: k.chinese[0] for k in _keywords.KEYWORDS if k.chinese}
_CHINESE_FUNCTIONS = {f: spellings[0] for f, spellings in _keywords.FUNCTIONS.items()}
_CN_STEP_WORDS = {"below": "每低于", "above": "每高于", "off": "每偏离", "around": "每高（低）"}
_CN_MODE_WORDS = {n.STEP_STARTED: " 不足一档按一档", n.STEP_PRO_RATA: " 按比例"}


@contextlib.contextmanager
def spelled(spelling: str):
    """Format in ``spelling`` ("en" or "zh") inside the block."""
    token = _ZH.set(spelling == "zh")
    try:
        yield
    finally:
        _ZH.reset(token)


def kw(english: str) -> str:
    """A keyword in the spelling being written."""
    return _CHINESE.get(english, english) if _ZH.get() else english

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
        return kw("true") if expr.value else kw("false")
    if isinstance(expr, n.Name):
        return expr.name
    if isinstance(expr, n.Full):
        return kw("full")
    if isinstance(expr, n.WeightRef):
        return kw("weight")
    if isinstance(expr, n.NotApplicable):
        return kw("na")
    if isinstance(expr, n.Unary):
        inner = _wrap(expr.operand, _PRECEDENCE["unary"], right=True)
        if expr.op == "-" and isinstance(expr.operand, n.Number):
            inner = f"({format_expr(expr.operand)})"  # keep -(5) distinct from the literal -5
        return f"{expr.op}{inner}"
    if isinstance(expr, n.Binary):
        p = _PRECEDENCE[expr.op]
        if expr.op == "of" and _ZH.get() and isinstance(expr.right, (n.Full, n.WeightRef)):
            # 权重的60%, 扣权重的3%, 满分的（比率(a, t)）
            whole = "满分" if isinstance(expr.right, n.Full) else "权重"
            share = expr.left
            if isinstance(share, n.Number):
                sign = "扣" if share.value < 0 else ""
                return f"{sign}{whole}的{number(abs(share.value), share.is_percent)}"
            return f"{whole}的（{format_expr(share)}）"
        if expr.op == "of":
            # `of` does not chain: both sides must bind tighter.
            return f"{_wrap(expr.left, p, right=True)} of {_wrap(expr.right, p, right=True)}"
        return f"{_wrap(expr.left, p)} {expr.op} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Compare):
        p = _PRECEDENCE["compare"]
        return f"{_wrap(expr.left, p, right=True)} {expr.op} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Logical):
        p = _PRECEDENCE[expr.op]
        return f"{_wrap(expr.left, p)} {kw(expr.op)} {_wrap(expr.right, p, right=True)}"
    if isinstance(expr, n.Not):
        return f"{kw('not')} {_wrap(expr.operand, _PRECEDENCE['not'])}"
    if isinstance(expr, n.InInterval):
        p = _PRECEDENCE["compare"]
        return f"{_wrap(expr.subject, p, right=True)} {kw('in')} " \
               f"{format_interval(expr.interval)}"
    if isinstance(expr, n.Call):
        return f"{_function(expr.func)}({', '.join(format_expr(a) for a in expr.args)})"
    raise TypeError(f"cannot format {expr!r}")


def _function(name: str) -> str:
    return _CHINESE_FUNCTIONS.get(name, name) if _ZH.get() else name


def _delta(expr) -> str:
    """A step's or item's score change: `-0.1`, or in Chinese 「扣 0.1」 / 「加 0.1」."""
    if _ZH.get() and isinstance(expr, n.Number) and not expr.is_percent:
        return f"{'扣' if expr.value < 0 else '加'} {number(abs(expr.value))}"
    return format_expr(expr)


def _outcome(expr) -> str:
    if _ZH.get() and isinstance(expr, n.Number) and expr.value == 0 and not expr.is_percent \
            and not expr.value.is_signed():
        return "不得分"
    return format_expr(expr)


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
    zh = _ZH.get()
    if isinstance(clause, n.Guarded):
        return f"{format_expr(clause.condition)} -> {_outcome(clause.outcome)}"
    if isinstance(clause, n.Otherwise):
        return f"{kw('else')} -> {_outcome(clause.outcome)}"
    if isinstance(clause, n.Result):
        return format_expr(clause.value)
    if isinstance(clause, n.Step):
        subject = f"{_wrap(clause.subject, _PRECEDENCE['+'])} " if clause.subject is not None \
            else ""
        base = f" {kw('from')} {format_expr(clause.base)}" if clause.base is not None else ""
        if zh:
            ref = f"比 {_wrap(clause.reference, _PRECEDENCE['+'])} " \
                if clause.reference is not None else ""
            mode = _CN_MODE_WORDS.get(clause.mode, "")
            return (f"{subject}{ref}{_CN_STEP_WORDS[clause.direction]} "
                    f"{format_expr(clause.size)}{mode} -> {_delta(clause.delta)}{base}")
        head = {n.STEP_WHOLE: "per", n.STEP_STARTED: "per started",
                n.STEP_PRO_RATA: "pro rata"}[clause.mode]
        ref = f" {format_expr(clause.reference)}" if clause.reference is not None else ""
        return (f"{subject}{head} {format_expr(clause.size)} {clause.direction}{ref} -> "
                f"{format_expr(clause.delta)}{base}")
    if isinstance(clause, n.Each):
        base = f" {kw('from')} {format_expr(clause.base)}" if clause.base is not None else ""
        return f"{kw('each')} {format_expr(clause.count)} -> {_delta(clause.delta)}{base}"
    if isinstance(clause, n.Floor):
        if zh and isinstance(clause.value, n.Number) and clause.value.value == 0 and \
                not clause.value.is_percent and not clause.value.value.is_signed():
            return "扣完为止"
        return f"{kw('floor')} {format_expr(clause.value)}"
    if isinstance(clause, n.Cap):
        if zh and isinstance(clause.value, n.Full):
            return "加满为止"
        return f"{kw('cap')} {format_expr(clause.value)}"
    if isinstance(clause, n.DeductAtMost):
        return f"{kw('deduct at most')} {format_expr(clause.value)}"
    if isinstance(clause, n.Flag):
        what = kw("over") if clause.message is None else quote(clause.message)
        return f"{kw('flag')} {what} {kw('if')} {format_expr(clause.condition)}"
    if isinstance(clause, n.Let):
        label = f" {quote(clause.label)}" if clause.label is not None else ""
        return f"{kw('let')} {clause.name}{label} = {format_expr(clause.value)}"
    if isinstance(clause, n.Expect):
        return f"{kw('expect')} {kw(clause.property)} {'于' if zh else 'in'} {clause.name}"
    if isinstance(clause, n.Published):
        return "按公布得分" if zh else "published"
    raise TypeError(f"cannot format {clause!r}")


def format_require(require: n.Require) -> str:
    message = f" {quote(require.message)}" if require.message is not None else ""
    return f"{kw('require')} {format_expr(require.condition)}{message}"


def format_rule(rule: n.Rule, indent: str = "", width: int = 100) -> str:
    """One line when it fits, else one clause per line (each ending in ';')."""
    parts = [format_clause(c) for c in rule.clauses]
    line = "; ".join(parts)
    if _display_width(line + indent) <= width:
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
             "number", "percent", "count", "bool", "text", "money", "level", "import", "as",
             "extends", "override", "remove", "under", "name", "expect", "nondecreasing",
             "nonincreasing", "continuous", "decimals", "decimal"}


def format_fact(decl: n.FactDecl) -> str:
    t = decl.type
    if t.kind == "money":
        type_text = f"{kw('money')}({t.unit})" if t.unit else kw("money")
    elif t.kind == "level":
        type_text = kw("level") + "(" + ", ".join(quote(v) for v in t.levels) + ")"
    else:
        type_text = kw(t.kind)
    domain = f" {kw('in')} {format_interval(decl.domain)}" if decl.domain is not None else ""
    label = f" {quote(decl.label)}" if decl.label is not None else ""
    return f"{kw('fact')} {', '.join(decl.names)}: {type_text}{domain}{label}"


# --- the heads of statements, shared by format_set and fmt's layout


def indicator_head(node: n.Indicator, pad: str = "") -> str:
    name = f" {quote(node.name)}" if node.name is not None else ""
    head = f"{pad}{node.code}{name} {kw('weight')} {_weight_text(node.weight)}"
    if node.bonus:
        head += f" {kw('bonus')}"
    if node.placement is not None:
        side, code = node.placement
        head += (f" 排在 {code} {'之后' if side == 'after' else '之前'}" if _ZH.get()
                 else f" {side} {code}")
    return head


def point_head(point: n.Point, inner: str) -> str:
    kind = kw("share") if point.is_share else kw("weight")
    return f"{inner}{kw('point')} {_label(point.label)} {kind} {format_expr(point.weight)}: "


def rule_def_head(definition: n.RuleDef) -> str:
    return f"{kw('rule')} {definition.name}({', '.join(definition.params)}): "


def module_line(imp: n.Import) -> str:
    if imp.alias is not None:
        return f"{kw('import')} {quote(imp.path)} {kw('as')} {imp.alias}"
    return f"{kw('from')} {quote(imp.path)} {kw('import')} {', '.join(imp.names)}"


def extends_line(extends: n.Extends) -> str:
    return f"{kw('extends')} {quote(extends.path)}"


def when_na_line(policy: str) -> str:
    if _ZH.get():
        return f"不适用时: {'均摊' if policy == n.NA_SHARE else '折算'}"
    return f"when na: {policy}"


def rounding_line(r: n.Rounding) -> str:
    return f"{kw('round')} {kw(r.target)} {'到' if _ZH.get() else 'to'} {plain(r.step)}"


def score_head(inner: str) -> str:
    return f"{inner}{kw('score')}: "


def format_let(let: n.Let, indent: str = "") -> str:
    """A `let` on one line, or wrapped after its top-level operators or commas when it
    is longer than the line width (continuation lines align after the `=`)."""
    line = format_clause(let)
    if _display_width(indent + line) <= 100:
        return line
    label = f" {quote(let.label)}" if let.label is not None else ""
    head = f"{kw('let')} {let.name}{label} = "
    pad = " " * _display_width(indent + head)
    return head + _wrapped(let.value, pad)


def _wrapped(expr, pad: str) -> str:
    """An expression broken after top-level `+`/`-` or between a call's arguments."""
    if isinstance(expr, n.Binary) and expr.op in ("+", "-"):
        terms, ops = [], []
        node = expr
        while isinstance(node, n.Binary) and node.op in ("+", "-"):
            terms.append(node.right)
            ops.append(node.op)
            node = node.left
        terms.append(node)
        terms.reverse()
        ops.reverse()
        parts = [_wrap(terms[0], _PRECEDENCE["+"])]
        for op, term in zip(ops, terms[1:]):
            parts[-1] += f" {op}"
            parts.append(_wrap(term, _PRECEDENCE["+"], right=True))
        return f"\n{pad}".join(parts)
    if isinstance(expr, n.Call) and len(expr.args) > 1:
        inner = pad + " " * (len(expr.func) + 1)
        return f"{expr.func}(" + f",\n{inner}".join(format_expr(a) for a in expr.args) + ")"
    return format_expr(expr)


def format_indicator(node: n.Indicator, depth: int = 0) -> List[str]:
    pad = INDENT * depth
    head = indicator_head(node, pad)
    simple = node.rule is not None and not (node.explain or node.standard or node.notes or
                                            node.facts or node.lets or node.points or
                                            node.children or node.na_policy or node.requires)
    if simple:
        rule_indent = " " * (_display_width(head) + 2)
        return [f"{head}: {format_rule(node.rule, rule_indent)}"]
    lines = [f"{head} {{"] + _block_body(node, depth + 1)
    lines.append(f"{pad}}}")
    return lines


def _opening_lines(item, inner: str) -> List[str]:
    """`when na`, explain, standard and notes: the lines that open a block."""
    lines = []
    if getattr(item, "na_policy", None) is not None:
        lines.append(f"{inner}{when_na_line(item.na_policy)}")
    if item.explain is not None:
        lines.append(f"{inner}{kw('explain')} {quote(item.explain)}")
    if item.standard is not None:
        lines.append(f"{inner}{kw('standard')} {quote(item.standard)}")
    lines.extend(f"{inner}{kw('note')} {quote(note)}" for note in item.notes)
    return lines


def _block_body(item, depth: int) -> List[str]:
    """The lines inside an indicator's or an override's braces."""
    inner = INDENT * depth
    lines = _opening_lines(item, inner)
    lines.extend(f"{inner}{format_fact(decl)}" for decl in item.facts)
    lines.extend(f"{inner}{format_let(let, inner)}" for let in item.lets)
    lines.extend(f"{inner}{format_require(r)}" for r in getattr(item, "requires", ()))
    if item.rule is not None:
        head = score_head(inner)
        lines.append(head + format_rule(item.rule, " " * _display_width(head)))
    for point in item.points:
        head = point_head(point, inner)
        lines.append(head + format_rule(point.rule, " " * _display_width(head)))
    for child in item.children:
        lines.extend(format_indicator(child, depth))
    return lines


def _weight_text(weight: n.Number) -> str:
    return number(weight.value * 100, False) + "%" if weight.is_percent else plain(weight.value)


def format_edit(edit) -> List[str]:
    if isinstance(edit, n.Remove):
        return [f"{kw('remove')} {', '.join(edit.codes)}"]
    if isinstance(edit, n.Under):
        lines = [f"{kw('under')} {edit.code} {{"]
        lines.extend(f"{INDENT}{format_fact(d)}" for d in edit.facts)
        lines.extend(f"{INDENT}{format_let(x, INDENT)}" for x in edit.lets)
        for child in edit.children:
            lines.extend(format_indicator(child, 1))
        return lines + ["}"]
    others = ("name", "explain", "standard", "notes", "facts", "lets", "points", "children",
              "requires", "na_policy")
    only_weight = edit.weight is not None and edit.rule is None and all(
        getattr(edit, f) in (None, ()) for f in others)
    if only_weight:
        return [f"{kw('override')} {edit.code} {kw('weight')} {_weight_text(edit.weight)}"]
    only_rule = edit.rule is not None and edit.weight is None and all(
        getattr(edit, f) in (None, ()) for f in others)
    if only_rule:
        head = f"{kw('override')} {edit.code}: "
        return [head + format_rule(edit.rule, " " * _display_width(head))]
    lines = [f"{kw('override')} {edit.code} {{"]
    if edit.weight is not None:
        lines.append(f"{INDENT}{kw('weight')} {_weight_text(edit.weight)}")
    if edit.name is not None:
        lines.append(f"{INDENT}{kw('name')} {quote(edit.name)}")
    return lines + _block_body(edit, 1) + ["}"]


def format_set(setfile: n.SetFile, spelling: Optional[str] = None) -> str:
    """A whole tree as text, in ``spelling`` ("en" or "zh"; default: the spelling being
    written, English unless inside :func:`spelled`)."""
    if spelling is not None and (spelling == "zh") != _ZH.get():
        with spelled(spelling):
            return format_set(setfile)
    h = setfile.header
    lines: List[str] = []
    modules: List[str] = []
    if setfile.extends is not None:
        modules.append(extends_line(setfile.extends))
    for imp in setfile.imports:
        modules.append(module_line(imp))
    if h.name is not None:
        lines.append(f"{kw('set')} {quote(h.name)}")
    if h.region is not None:
        lines.append(f"{kw('region')} {quote(h.region)}")
    if h.year_from is not None:
        lines.append(f"{kw('year')} {h.year_from}" +
                     (f" {kw('to')} {h.year_to}" if h.year_to != h.year_from else ""))
    if h.source is not None:
        lines.append(f"{kw('source')} {quote(h.source)}")
    if h.total is not None:
        lines.append(f"{kw('total')} {plain(h.total)}")
    if h.grades:
        parts = [(_label(g.label) + (f" >= {plain(g.lower)}" if g.lower is not None else ""))
                 for g in h.grades]
        lines.append(f"{kw('grades')} " + ", ".join(parts))
    for r in h.rounding:
        lines.append(rounding_line(r))
    if h.na_policy is not None:
        lines.append(when_na_line(h.na_policy))
    blocks = []
    if modules:
        blocks.append(modules)
    if lines:
        blocks.append(lines)
    if setfile.facts:
        blocks.append([format_fact(d) for d in setfile.facts])
    if setfile.lets:
        blocks.append([format_let(let) for let in setfile.lets])
    if setfile.requires:
        blocks.append([format_require(r) for r in setfile.requires])
    for rule_def in setfile.rule_defs:
        head = rule_def_head(rule_def)
        blocks.append([head + format_rule(rule_def.rule, " " * _display_width(head))])
    for edit in setfile.edits:
        blocks.append(format_edit(edit))
    for node in setfile.indicators:
        blocks.append(format_indicator(node))
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


# ------------------------------------------------------- whole files (fmt)


def find_comments(text: str):
    """{line: (column, comment text, alone on its line)} for every `#` outside a string."""
    out = {}
    for number, line in enumerate(text.split("\n"), start=1):
        column, _ = line_state(line)
        if column is not None:
            out[number] = (column, line[column:].rstrip(), not line[:column].strip())
    return out


def line_state(line: str):
    """(where a `#` comment starts or None, whether the line ends inside a text): one
    line read as the lexer reads it, quotes and escapes respected."""
    in_string = escaped = False
    for column, ch in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return column, False
    return None, in_string


class _Layout:
    """Canonical text of a parsed file, with its comments kept beside what they annotate."""

    def __init__(self, text: str, tree: n.SetFile):
        self.tree = tree
        self.source_lines = text.split("\n")
        self.comments = find_comments(text)
        self.used: set = set()
        self.out: List[str] = []
        self.last_line = 0  # the original line last written out

    # --- comments and blank lines
    def _leading(self, before_line: int, indent: str) -> None:
        """Comments above a statement, then the statement's own blank-line gap."""
        for line in sorted(self.comments):
            if line >= before_line:
                break
            if line in self.used:
                continue
            column, comment, alone = self.comments[line]
            self.used.add(line)
            self._gap(line)
            self.out.append(f"{indent}{comment}")
            self.last_line = line
        if before_line < 10 ** 9:
            self._gap(before_line)

    def _gap(self, line: int) -> None:
        """One blank line where the original had one or more."""
        if self.out and self.out[-1].strip() and not self.out[-1].endswith("{") and \
                self._blank_before(line, self.last_line):
            self.out.append("")

    def _trailing(self, line: int) -> str:
        found = self.comments.get(line)
        if found is None or line in self.used or found[2]:
            return ""
        self.used.add(line)
        return "  " + found[1]

    def _blank_before(self, line: int, previous_end: int) -> bool:
        for number in range(previous_end + 1, line):
            if number - 1 < len(self.source_lines) and not self.source_lines[number - 1].strip():
                return True
        return False

    def _emit(self, text: str) -> None:
        self.out.append(text)

    # --- rules
    def rule_lines(self, rule: n.Rule, head: str) -> List[str]:
        """`head` followed by the rule; one clause per line when long or commented."""
        parts = [format_clause(c) for c in rule.clauses]
        notes = [self._trailing(c.span.end_line) if c.span else "" for c in rule.clauses]
        pad = " " * _display_width(head)
        if not any(notes) and _display_width(head + "; ".join(parts)) <= 100:
            return [head + "; ".join(parts)]
        lines = []
        for i, (part, note) in enumerate(zip(parts, notes)):
            end = ";" if i < len(parts) - 1 else ""
            lines.append((head if i == 0 else pad) + part + end + note)
        return lines

    # --- statements
    def statement(self, span, text_lines: List[str], indent: str, previous_end: int) -> int:
        start = span.line if span else previous_end + 1
        self._leading(start, indent)
        if span is not None and text_lines:
            text_lines[-1] += self._trailing(span.end_line) if span.end_line == span.line \
                else ""
        self.out.extend(text_lines)
        return self._done(span, previous_end)

    def _done(self, span, previous_end: int) -> int:
        if span is not None:
            self.last_line = max(self.last_line, span.end_line)
            return span.end_line
        return previous_end

    def indicator(self, node: n.Indicator, depth: int, previous_end: int) -> int:
        pad = INDENT * depth
        head = indicator_head(node, pad)
        simple = node.rule is not None and not (node.explain is not None or
                                                node.standard is not None or node.notes or
                                                node.facts or node.lets or node.points or
                                                node.children or node.requires)
        span = node.span
        start = span.line if span else previous_end + 1
        self._leading(start, pad)
        if simple:
            self.out.extend(self.rule_lines(node.rule, head + ": "))
            return self._done(span, previous_end)
        header_note = self._trailing(start)
        self.out.append(f"{head} {{{header_note}")
        self.last_line = start
        self.block_items(node, depth + 1, start)
        if span is not None:
            self._comments_before_close(span.end_line, INDENT * (depth + 1))
        self.out.append(f"{pad}}}" + (self._trailing(span.end_line) if span else ""))
        return self._done(span, previous_end)

    def _comments_before_close(self, close_line: int, indent: str) -> None:
        for line in sorted(self.comments):
            if line >= close_line:
                break
            if line in self.used or line <= self.last_line:
                continue
            self.used.add(line)
            self._gap(line)
            self.out.append(f"{indent}{self.comments[line][1]}")
            self.last_line = line

    def block_items(self, node, depth: int, previous_end: int) -> None:
        inner = INDENT * depth
        # explain/standard/note carry no span: they open the block, as written.
        self.out.extend(_opening_lines(node, inner))
        end = previous_end
        spanned = [(d.span, d) for d in node.facts] + [(x.span, x) for x in node.lets]
        spanned += [(r.span, r) for r in getattr(node, "requires", ())]
        spanned += [(p.span, p) for p in node.points] + [(c.span, c) for c in node.children]
        if node.rule is not None and not isinstance(node, n.Override):
            spanned.append((node.rule.span, node.rule))
        spanned.sort(key=lambda item: (item[0].line, item[0].column) if item[0] else (0, 0))
        for span, item in spanned:
            if isinstance(item, n.FactDecl):
                end = self.statement(span, [f"{inner}{format_fact(item)}"], inner, end)
            elif isinstance(item, n.Let):
                end = self.statement(span, [f"{inner}{format_let(item, inner)}"], inner, end)
            elif isinstance(item, n.Require):
                end = self.statement(span, [f"{inner}{format_require(item)}"], inner, end)
            elif isinstance(item, n.Point):
                head = point_head(item, inner)
                self._leading(span.line if span else end + 1, inner)
                self.out.extend(self.rule_lines(item.rule, head))
                end = self._done(span, end)
            elif isinstance(item, n.Indicator):
                end = self.indicator(item, depth, end)
            elif isinstance(item, n.Rule):
                self._leading(span.line if span else end + 1, inner)
                self.out.extend(self.rule_lines(item, score_head(inner)))
                end = self._done(span, end)

    def run(self) -> str:
        tree = self.tree
        h = tree.header
        end = 0
        chunks = []
        if tree.extends is not None:
            chunks.append((tree.extends.span, [extends_line(tree.extends)]))
        for imp in tree.imports:
            chunks.append((imp.span, [module_line(imp)]))
        header_lines = format_set(attrs_evolve_header_only(tree)).rstrip("\n").split("\n") \
            if _has_header(h) else []
        keys = [k for k in ("set", "region", "year", "source", "total", "grades")
                if k in h.spans]
        for key, text in zip(_header_keys(h), header_lines):
            chunks.append((h.spans.get(key) if key != "rounding" else None, [text]))
        for r in h.rounding:
            chunks.append((r.span, [rounding_line(r)]))
        if h.na_policy is not None:
            chunks.append((h.spans.get("when na"), [when_na_line(h.na_policy)]))
        for d in tree.facts:
            chunks.append((d.span, [format_fact(d)]))
        for let in tree.lets:
            chunks.append((let.span, [format_let(let)]))
        for require in tree.requires:
            chunks.append((require.span, [format_require(require)]))
        for rule_def in tree.rule_defs:
            chunks.append((rule_def.span, rule_def))
        for edit in tree.edits:
            chunks.append((edit.span, edit))
        for node in tree.indicators:
            chunks.append((node.span, node))
        chunks.sort(key=lambda c: (c[0].line, c[0].column) if c[0] else (0, 0))
        for span, item in chunks:
            if isinstance(item, n.Indicator):
                end = self.indicator(item, 0, end)
            elif isinstance(item, n.RuleDef):
                head = rule_def_head(item)
                self._leading(span.line if span else end + 1, "")
                self.out.extend(self.rule_lines(item.rule, head))
                end = self._done(span, end)
            elif isinstance(item, (n.Override, n.Remove, n.Under)):
                # Comments written inside an edit's braces stay with it, above it.
                self._leading(span.end_line if span else end + 1, "")
                end = self.statement(span, format_edit(item), "", end)
            else:
                end = self.statement(span, item, "", end)
        self._leading(10 ** 9, "")
        text = "\n".join(self.out).strip("\n") + "\n"
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text


def _has_header(h: n.Header) -> bool:
    return any(getattr(h, f) is not None for f in ("name", "region", "year_from", "source",
                                                     "total")) or bool(h.grades)


def _header_keys(h: n.Header) -> List[str]:
    keys = []
    for key, present in (("set", h.name is not None), ("region", h.region is not None),
                         ("year", h.year_from is not None), ("source", h.source is not None),
                         ("total", h.total is not None), ("grades", bool(h.grades))):
        if present:
            keys.append(key)
    return keys


def attrs_evolve_header_only(tree: n.SetFile) -> n.SetFile:
    import attrs

    header = attrs.evolve(tree.header, rounding=())
    return n.SetFile(header, path=tree.path)


def format_text(text: str, path: str = "<string>", spelling: Optional[str] = None) -> str:
    """The canonical layout of a whole file, comments kept. Raises SetError on syntax errors.

    The keywords stay in the spelling the file is written in; ``spelling`` ("en" or "zh")
    converts them."""
    from .parser import parse

    tree = parse(text, path)
    with spelled(spelling or tree.spelling):
        return _Layout(text, tree).run()


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
