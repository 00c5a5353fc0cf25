"""AST → checked set: names resolved, weights resolved to points, every static check run.

Checking happens once per set. It collects every problem of the file (it does not
stop at the first) and returns a :class:`CheckedSet` that the compiler turns into
closures. The checks:

* weights add up (children → parent, top level → ``total``, points → leaf);
* duplicate codes, leaves without rules, blocks that are both group and leaf;
* names: every name a rule uses is a ``let``, a declared fact or an undeclared
  fact (a warning); a name close to a known one is an error with "did you mean";
* types: numbers, yes/no conditions, levels and texts are not mixed up;
* rule structure: unreachable clauses, ``per`` clauses without a subject;
* bands: overlapping ``in`` bands, values or levels no clause handles;
* ranges: whether a rule can score below 0 or above its weight.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Dict, List, Optional, Tuple, Union

import attrs

from . import intervals as iv
from . import nodes as n
from .errors import (ERROR, WARNING, Bilingual, Diagnostic, SetError, SourceText, cn_of,
                     did_you_mean)
from .intervals import Bounds, RealSet
from .numbers import CONTEXT, plain, round_half_up

NUMBER, BOOL, TEXT = "number", "bool", "text"

DEFAULT_LEAF_STEP = Decimal("0.01")

# Keywords a misspelt clause most likely meant (`els -> 0` reads as a fact named els).
_CLAUSE_KEYWORDS = ("else", "full", "weight", "floor", "cap", "each", "per")

# What a rule's parts must be, for the type messages: (English, Chinese).
_CONDITION = Bilingual("a condition", "条件")
_SCORE = Bilingual("a score", "得分")
_COUNT = Bilingual("a count", "项数")
_CHANGE = Bilingual("a score change", "每档（每项）加减的分数")
_BASE = Bilingual("a base score", "起点得分")
_BOUND = Bilingual("a score bound", "得分上下限")
_STEP_SIZE = Bilingual("a step size", "档距")
_REFERENCE = Bilingual("a reference value", "参照值")
_STEP_SUBJECT = Bilingual("a step's subject", "按档计分的比较对象")
_REQUIRE = Bilingual("a `require`", "`要求` 的条件")

# name: (min args, max args or None, argument type, result type)
FUNCTIONS = {
    "ratio": (2, 2, NUMBER, NUMBER),
    "min": (1, None, NUMBER, NUMBER),
    "max": (1, None, NUMBER, NUMBER),
    "sum": (1, None, NUMBER, NUMBER),
    "mean": (1, None, NUMBER, NUMBER),
    "abs": (1, 1, NUMBER, NUMBER),
    "clamp": (3, 3, NUMBER, NUMBER),
    "linear": (3, 3, NUMBER, NUMBER),
    "round": (2, 2, NUMBER, NUMBER),
    "assess": (3, 3, NUMBER, NUMBER),
}


# ------------------------------------------------------------------ the model


@attrs.define(eq=False)
class FactInfo:
    """What the set knows about a fact name."""

    name: str
    kind: str  # number, percent, count, money, bool, level, text
    label: Optional[str] = None
    unit: Optional[str] = None
    levels: Tuple[str, ...] = ()
    domain: Optional[iv.Interval] = None
    declared: bool = True
    span: Optional[n.Span] = None

    @property
    def value_type(self) -> Optional[str]:
        if self.kind == "any":
            return None  # a rule parameter: each use decides
        if self.kind == "bool":
            return BOOL
        if self.kind in ("level", "text"):
            return TEXT
        return NUMBER

    def bounds(self) -> Bounds:
        if self.domain is not None:
            return Bounds(self.domain.lo, self.domain.hi)
        return iv.NON_NEGATIVE


@attrs.define(eq=False)
class LetInfo:
    let: n.Let
    scope: "Scope"
    type: Optional[str] = None
    checking: bool = False
    cyclic: bool = False  # defined in terms of itself: reported once

    @property
    def name(self) -> str:
        return self.let.name

    @property
    def label(self) -> Optional[str]:
        return self.let.label


Binding = Union[FactInfo, LetInfo]


class Scope:
    """Names visible at one level: a set, a group, a leaf, a point."""

    def __init__(self, parent: Optional["Scope"] = None, owner: str = ""):
        self.parent = parent
        self.owner = owner
        self.names: Dict[str, Binding] = {}

    def lookup(self, name: str) -> Optional[Binding]:
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> List[str]:
        out, scope = [], self
        while scope is not None:
            out.extend(scope.names)
            scope = scope.parent
        return out


@attrs.define(eq=False)
class CheckedPoint:
    label: str
    weight: Decimal
    rule: n.Rule
    span: Optional[n.Span]


@attrs.define(eq=False)
class CheckedIndicator:
    code: str
    name: Optional[str]
    weight: Decimal
    node: n.Indicator
    parent: Optional["CheckedIndicator"]
    depth: int
    scope: Scope
    children: List["CheckedIndicator"] = attrs.Factory(list)
    rule: Optional[n.Rule] = None
    points: List[CheckedPoint] = attrs.Factory(list)
    source: str = ""

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def chain(self) -> Tuple[str, ...]:
        """Codes whose facts this indicator reads: its own, then its ancestors'."""
        out, node = [], self
        while node is not None:
            out.append(node.code)
            node = node.parent
        return tuple(out)

    @property
    def bonus(self) -> bool:
        return self.node.bonus

    @property
    def span(self):
        return self.node.span

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@attrs.define(eq=False)
class CheckedSet:
    file: n.SetFile
    source: SourceText
    roots: List[CheckedIndicator]
    by_code: Dict[str, CheckedIndicator]
    total: Decimal
    grades: Tuple[n.Grade, ...]
    leaf_step: Decimal
    group_step: Decimal
    total_step: Optional[Decimal]
    facts: Dict[str, FactInfo]  # every fact name any rule reads, declared or not
    diagnostics: List[Diagnostic]
    origins: Dict[str, List[str]] = attrs.Factory(dict)  # code -> where its parts come from
    imports: List[Tuple[str, str, str]] = attrs.Factory(list)  # (as written, file, how found)
    root_scope: Optional["Scope"] = None  # the set's own names, for set-level `require`s

    @property
    def header(self) -> n.Header:
        return self.file.header

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    def walk(self):
        for root in self.roots:
            yield from root.walk()

    def leaves(self):
        return [node for node in self.walk() if node.is_leaf]

    def text_of(self, node) -> str:
        """The source text an AST node was written as (its formatted form otherwise)."""
        return source_text_of(self.source, node)


# ---------------------------------------------------------------- the checker


def check(setfile: n.SetFile, source: SourceText) -> CheckedSet:
    """Check a parsed file. Problems are in ``.diagnostics``; see :func:`require_clean`."""
    return _Checker(setfile, source).run()


def require_clean(checked: CheckedSet) -> CheckedSet:
    if checked.errors:
        raise SetError(checked.diagnostics)
    return checked


class _Checker:
    def __init__(self, setfile: n.SetFile, source: SourceText):
        self.file = setfile
        self.source = source
        self.diagnostics: List[Diagnostic] = []
        self.by_code: Dict[str, CheckedIndicator] = {}
        self.facts: Dict[str, FactInfo] = {}
        self.undeclared: Dict[str, List[Tuple[str, n.Span]]] = {}
        self.declared_names: Dict[str, FactInfo] = {}
        self.rule_defs = {d.name: d for d in setfile.rule_defs}
        self._in_definition = False

    # --- reporting: every message in English and in Chinese (``cn``, ``hint_cn``; the
    # message sweep of tests/test_messages.py finds a call without them)
    def error(self, message, span, hint=None, code=None, *, cn=None, hint_cn=None):
        self.diagnostics.append(self.source.diagnostic(ERROR, message, span, hint, code,
                                                       cn, hint_cn))

    def warn(self, message, span, hint=None, code=None, *, cn=None, hint_cn=None):
        self.diagnostics.append(self.source.diagnostic(WARNING, message, span, hint, code,
                                                       cn, hint_cn))

    def _quote(self, expr) -> str:
        """An expression as the Chinese messages quote it: in the file's own keywords."""
        from .formatter import format_expr, spelled

        with spelled(self.file.spelling or "en"):
            return format_expr(expr)

    # --- driver
    def run(self) -> CheckedSet:
        header = self.file.header
        total_declared = header.total
        self.total_for_percent = total_declared if total_declared is not None else Decimal(100)
        self.root_scope = Scope(owner="set")
        self._declare_facts(self.file.facts, self.root_scope)
        self._declare_lets(self.file.lets, self.root_scope)
        self._collect_declared(self.file.indicators)

        roots = [self._build(node, None, self.root_scope, 1) for node in self.file.indicators]
        if not roots and not (self.file.rule_defs or self.file.lets):
            self.error("the set has no indicators", None,
                       'add at least one, e.g.  C1 "名称" weight 5: matched -> full; else -> 0',
                       cn="指标体系中没有任何指标",
                       hint_cn='请至少写一个指标，如  C1 "名称" 权重 5: 匹配 -> 满分; 否则 -> 不得分')
        top_sum = sum((r.weight for r in roots), Decimal(0))
        total = total_declared if total_declared is not None else top_sum
        if total_declared is not None and roots and top_sum != total_declared:
            self.error(f"the top-level weights add up to {plain(top_sum)}, not the declared "
                       f"total {plain(total_declared)}", header.spans.get("total"),
                       "; ".join(f"{r.code} {plain(r.weight)}" for r in roots), code="weights",
                       cn=f"一级指标分值合计为 {plain(top_sum)}，不等于总分 {plain(total_declared)}",
                       hint_cn="各一级指标的分值：" +
                       "；".join(f"{r.code} {plain(r.weight)}" for r in roots) +
                       "。请修改某个一级指标的分值或总分")
        steps = {r.target: r.step for r in header.rounding}
        for i, r in enumerate(header.rounding):
            if r.target in [x.target for x in header.rounding[:i]]:
                self.error(f"`round {r.target}` is given twice", r.span,
                           "keep one rounding step for each of leaves, groups and total",
                           cn=f"`保留 {_ROUND_TARGET_CN.get(r.target, r.target)}` 写了两次",
                           hint_cn="末级、上级和总分各只写一个取舍精度")
        leaf_step = steps.get("leaves", DEFAULT_LEAF_STEP)
        group_step = steps.get("groups", leaf_step)
        self._leaf_step = leaf_step
        if not header.grades:
            pass
        for node in [x for r in roots for x in r.walk()]:
            if node.is_leaf:
                self._check_leaf(node)
        if self.file.requires:
            holder = CheckedIndicator("set", None, Decimal(0), n.Indicator(
                "set", None, n.Number(Decimal(0))), None, 0, self.root_scope,
                source=self.source.path)
            self._check_requires(self.file.requires, self.root_scope, holder)
        self._check_rule_definitions()
        self._report_undeclared()
        self._report_labels()
        return CheckedSet(self.file, self.source, roots, self.by_code, total, header.grades,
                          leaf_step, group_step, steps.get("total"), self.facts,
                          self.diagnostics, root_scope=self.root_scope)

    # --- declarations
    def _collect_declared(self, indicators):
        for decl in self.file.facts:
            for name in decl.names:
                self.declared_names.setdefault(name, None)
        stack = list(indicators)
        while stack:
            node = stack.pop()
            for decl in node.facts:
                for name in decl.names:
                    self.declared_names.setdefault(name, None)
            for let in node.lets:
                self.declared_names.setdefault(let.name, None)
            stack.extend(node.children)
        for let in self.file.lets:
            self.declared_names.setdefault(let.name, None)

    def _declare_facts(self, decls, scope: Scope):
        for decl in decls:
            domain = None
            if decl.domain is not None:
                lo = self._constant(decl.domain.low)
                hi = self._constant(decl.domain.high)
                if lo is None or hi is None:
                    self.error("a fact's range must be written with numbers", decl.domain.span,
                               "e.g. fact rate: percent in [0%, 200%]",
                               cn="数据的取值范围须用数字写出",
                               hint_cn="如 数据 执行率: 百分比 在 [0%, 200%]")
                elif lo > hi:
                    self.error(f"the range starts above its end ({plain(lo)} > {plain(hi)})",
                               decl.domain.span, "write the lower end first",
                               cn=f"取值范围的起点大于终点（{plain(lo)} > {plain(hi)}）",
                               hint_cn="请先写下限，再写上限")
                else:
                    domain = iv.Interval(lo, hi, decl.domain.low_closed, decl.domain.high_closed)
                if decl.type.kind in ("bool", "level", "text"):
                    self.error(f"a {decl.type.kind} fact cannot have a numeric range",
                               decl.domain.span, "remove the range",
                               cn=f"{_KIND_CN.get(decl.type.kind, decl.type.kind)}类型的数据"
                                  "不能有数值范围",
                               hint_cn="请删去取值范围")
                    domain = None
            for name in decl.names:
                if name in scope.names:
                    self.error(f"{name!r} is declared twice here", decl.span,
                               "declare each fact once per scope",
                               cn=f"数据“{name}”在这里声明了两次",
                               hint_cn="同一层级中每个数据只声明一次")
                    continue
                if name in FUNCTIONS:
                    self.error(f"{name!r} is a function and cannot name a fact", decl.span,
                               "choose another name", cn=f"“{name}”是函数名，不能用作数据名",
                               hint_cn="请换一个名称")
                    continue
                info = FactInfo(name, decl.type.kind, decl.label, decl.type.unit,
                                decl.type.levels, domain, True, decl.span)
                scope.names[name] = info

    def _declare_lets(self, lets, scope: Scope):
        for let in lets:
            if let.name in scope.names:
                self.error(f"{let.name!r} is defined twice here", let.span,
                           "give the second value another name",
                           cn=f"中间值“{let.name}”在这里定义了两次",
                           hint_cn="请给第二个中间值换一个名称")
                continue
            if let.name in FUNCTIONS:
                self.error(f"{let.name!r} is a function and cannot be redefined", let.span,
                           "choose another name", cn=f"“{let.name}”是函数名，不能重新定义",
                           hint_cn="请换一个名称")
                continue
            scope.names[let.name] = LetInfo(let, scope)

    # --- tree
    def _build(self, node: n.Indicator, parent, parent_scope: Scope, depth: int):
        weight = node.weight.value
        if node.weight.is_percent:
            weight = node.weight.value * self.total_for_percent
        scope = Scope(parent_scope, owner=node.code)
        self._declare_facts(node.facts, scope)
        self._declare_lets(node.lets, scope)
        checked = CheckedIndicator(node.code, node.name, weight, node, parent, depth, scope,
                                   source=self.source.path)
        if node.code in self.by_code:
            first = self.by_code[node.code].span
            where = f" (first at line {first.line})" if first else ""
            where_cn = f"（第一次在第 {first.line} 行）" if first else ""
            self.error(f"indicator code {node.code} is used twice{where}", node.span,
                       "every indicator needs its own code", code="duplicate",
                       cn=f"指标编码 {node.code} 用了两次{where_cn}",
                       hint_cn="每个指标须有自己的编码")
        else:
            self.by_code[node.code] = checked
        checked.children = [self._build(child, checked, scope, depth + 1)
                            for child in node.children]
        self._check_requires(node.requires, scope, checked)
        if checked.children:
            if node.rule is not None or node.points:
                self.error(f"{node.code} has child indicators and its own rule", node.span,
                           "a group's score is the sum of its children; move the rule into a "
                           "leaf", code="structure",
                           cn=f"{node.code} 既有下级指标，又有自己的评分规则",
                           hint_cn="上级指标的得分是下级指标得分之和；请把规则移到某个末级指标中")
            if node.bonus:
                self.error(f"`bonus` applies to leaves; {node.code} is a group", node.span,
                           "mark the leaf that carries the bonus points",
                           cn=f"`加分项` 只用于末级指标，{node.code} 是上级指标",
                           hint_cn="请标记在带加分的末级指标上")
            total = sum((c.weight for c in checked.children), Decimal(0))
            if total != weight:
                parts = " + ".join(plain(c.weight) for c in checked.children)
                self.error(f"the weights of {node.code}'s children add up to {plain(total)} "
                           f"({parts}), not {node.code}'s weight {plain(weight)}", node.span,
                           "fix a child's weight or the group's weight", code="weights",
                           cn=f"{node.code} 的下级指标分值合计为 {plain(total)}（{parts}），"
                              f"不等于 {node.code} 的分值 {plain(weight)}",
                           hint_cn="请修改某个下级指标或上级指标的分值")
        else:
            if node.rule is None and not node.points:
                self.error(f"{node.code} has no rule", node.span,
                           f"write `{node.code} weight {plain(node.weight.value)}: RULE` or "
                           "`score: RULE` inside its block", code="structure",
                           cn=f"{node.code} 没有评分规则",
                           hint_cn=f"请写成 `{node.code} 权重 {plain(node.weight.value)}: 规则`，"
                                   "或在指标块中写 `评分: 规则`")
            if node.rule is not None and node.points:
                self.error(f"{node.code} has both a rule and points", node.span,
                           "a leaf scores either by one rule or by the sum of its points",
                           cn=f"{node.code} 既有评分规则，又有要点",
                           hint_cn="末级指标或按一条规则评分，或按各要点得分之和评分，二者选一")
            checked.rule = node.rule
            if weight < 0:
                self.error(f"{node.code}'s weight is negative", node.weight.span,
                           "a weight is 0 or more", cn=f"{node.code} 的分值是负数",
                           hint_cn="分值须不小于0")
        return checked

    # --- leaves
    def _check_leaf(self, leaf: CheckedIndicator):
        if leaf.node.points:
            total = Decimal(0)
            for point in leaf.node.points:
                ptype = self._type(point.weight, leaf.scope, leaf)
                value = self._constant(point.weight)
                if value is None:
                    if ptype is not None:
                        self.error("a point's weight must be a number written in the set "
                                   "(e.g. 7 or 1/3)", point.weight.span,
                                   cn="要点的分值须直接写成数（如 7 或 1/3）",
                                   hint="write the number itself", hint_cn="请直接写出分值")
                    continue
                if point.is_share:
                    with _exact():
                        value = value * leaf.weight
                if value < 0:
                    self.error(f"point {point.label} has a negative weight", point.span,
                               "a weight is 0 or more", cn=f"要点{point.label}的分值是负数",
                               hint_cn="分值须不小于0")
                total += value
                rule = self._expand(point.rule, leaf)
                leaf.points.append(CheckedPoint(point.label, value, rule, point.span))
            weighed = len(leaf.points) == len(leaf.node.points)
            if total.quantize(Decimal("1e-20")) != leaf.weight.quantize(Decimal("1e-20")):
                self.error(f"the points of {leaf.code} add up to {plain(total)}, not its weight "
                           f"{plain(leaf.weight)}", leaf.span,
                           "fix a point's weight or the leaf's weight", code="weights",
                           cn=f"{leaf.code} 的要点分值合计为 {plain(total)}，不等于它的分值 "
                              f"{plain(leaf.weight)}",
                           hint_cn="请修改某个要点或该指标的分值")
            elif weighed:
                self._snap_shares(leaf)
                step = self._leaf_step
                inexact = [p for p in leaf.points
                           if (p.weight / step) != (p.weight / step).to_integral_value()]
                if inexact:
                    rounded = sum((round_half_up(p.weight, step) for p in leaf.points),
                                  Decimal(0))
                    if rounded != leaf.weight:
                        suggested = _on_grid([p.weight for p in leaf.points], leaf.weight, step)
                        shown = ", ".join(plain(w) for w in suggested) if suggested else None
                        self.warn(f"the points of {leaf.code} are not whole multiples of the "
                                  f"leaf rounding {plain(step)}: full marks on every point give "
                                  f"{plain(rounded)}, not {plain(leaf.weight)}", leaf.span,
                                  (f"give the points the weights {shown}, which add up to "
                                   f"{plain(leaf.weight)}, or round leaves more finely")
                                  if shown else "round leaves more finely", code="points",
                                  cn=f"{leaf.code} 的要点分值不是末级取舍精度 {plain(step)} 的整数倍："
                                     f"各要点都得满分时合计 {plain(rounded)}，不是 "
                                     f"{plain(leaf.weight)}",
                                  hint_cn=(f"请把各要点的分值改为 {shown}（合计 "
                                           f"{plain(leaf.weight)}），或把末级取舍精度改细")
                                  if shown else "请把末级取舍精度改细")
            for point in leaf.points:
                self._check_rule(point.rule, leaf, point.weight,
                                 Scope(leaf.scope, f"{leaf.code}/{point.label}"),
                                 Bilingual(f"point {point.label} of {leaf.code}",
                                           f"{leaf.code} 的要点{point.label}"))
            labels = [p.label for p in leaf.node.points]
            for label in set(labels):
                if labels.count(label) > 1:
                    self.error(f"point {label} appears twice in {leaf.code}", leaf.span,
                               "give each point its own label",
                               cn=f"要点{label}在 {leaf.code} 中出现了两次",
                               hint_cn="每个要点须有自己的编号")
        elif leaf.rule is not None:
            leaf.rule = self._expand(leaf.rule, leaf)
            self._check_rule(leaf.rule, leaf, leaf.weight, Scope(leaf.scope, leaf.code),
                             leaf.code)

    def _snap_shares(self, leaf: CheckedIndicator) -> None:
        """`share 1/3` points whose exact weights are off the leaf rounding grid get weights
        on it, the last share point taking the remainder (0.67, 0.67, 0.66 of 2), so full
        marks on every point give exactly the leaf's weight, never 2.01 of 2."""
        shares = [i for i, (p, node) in enumerate(zip(leaf.points, leaf.node.points))
                  if node.is_share]
        step = self._leaf_step
        if not shares or all((leaf.points[i].weight / step) ==
                             (leaf.points[i].weight / step).to_integral_value() for i in shares):
            return
        fixed = sum((p.weight for i, p in enumerate(leaf.points) if i not in shares), Decimal(0))
        snapped = _on_grid([leaf.points[i].weight for i in shares], leaf.weight - fixed, step)
        if snapped is None:
            return
        for i, weight in zip(shares, snapped):
            leaf.points[i].weight = weight

    def _expand(self, rule: n.Rule, leaf) -> n.Rule:
        """A rule that is a call of a ``rule NAME(…)`` definition becomes its clauses."""
        if len(rule.clauses) == 1 and isinstance(rule.clauses[0], n.Result):
            value = rule.clauses[0].value
            if isinstance(value, n.Call) and value.func in self.rule_defs:
                definition = self.rule_defs[value.func]
                if len(value.args) != len(definition.params):
                    self.error(f"rule {value.func} takes {len(definition.params)} values "
                               f"({', '.join(definition.params)}), {len(value.args)} given",
                               value.span, f"write {value.func}({', '.join(definition.params)})",
                               cn=f"规则 {value.func} 需要 {len(definition.params)} 个值"
                                  f"（{'、'.join(definition.params)}），这里给了 {len(value.args)} 个",
                               hint_cn=f"请写成 {value.func}({', '.join(definition.params)})")
                    return rule
                mapping = dict(zip(definition.params, value.args))
                return _substitute(definition.rule, mapping)
        return rule

    # --- rules
    def _check_rule(self, rule: n.Rule, leaf: CheckedIndicator, weight: Decimal, scope: Scope,
                    what: str, check_range: bool = True):
        decided_by: Optional[n.Clause] = None
        deciding = 0
        guards: List[n.Guarded] = []
        for clause in rule.clauses:
            if isinstance(clause, n.Let):
                if clause.name in scope.names:
                    self.error(f"{clause.name!r} is defined twice in this rule", clause.span,
                               "give the second value another name",
                               cn=f"中间值“{clause.name}”在这条规则中定义了两次",
                               hint_cn="请给第二个中间值换一个名称")
                else:
                    scope.names[clause.name] = LetInfo(clause, scope)
                continue
            is_deciding = isinstance(clause, (n.Guarded, n.Otherwise, n.Result, n.Step, n.Each,
                                              n.Published))
            if is_deciding:
                deciding += 1
                if decided_by is not None:
                    line = decided_by.span.line if decided_by.span else "?"
                    self.error("this clause can never apply: the clause before it "
                               f"(line {line}) always gives the score", clause.span,
                               "remove it, or put it before that clause", code="unreachable",
                               cn=f"这一条款永远不会用到：它前面的条款（第 {line} 行）总会给出得分",
                               hint_cn="请删去它，或把它移到那一条款之前")
            if isinstance(clause, n.Guarded):
                self._expect(clause.condition, BOOL, scope, leaf, _CONDITION)
                self._outcome(clause.outcome, scope, leaf)
                guards.append(clause)
            elif isinstance(clause, n.Otherwise):
                self._outcome(clause.outcome, scope, leaf)
                decided_by = decided_by or clause
            elif isinstance(clause, n.Result):
                if isinstance(clause.value, n.Call) and clause.value.func in self.rule_defs:
                    pass
                self._expect(clause.value, NUMBER, scope, leaf, _SCORE)
                decided_by = decided_by or clause
            elif isinstance(clause, n.Step):
                self._check_step(clause, guards, scope, leaf)
                self._check_percent_delta(clause.delta, weight)
                decided_by = decided_by or clause
            elif isinstance(clause, n.Published):
                decided_by = decided_by or clause
            elif isinstance(clause, n.Each):
                self._expect(clause.count, NUMBER, scope, leaf, _COUNT)
                self._expect(clause.delta, NUMBER, scope, leaf, _CHANGE)
                self._check_percent_delta(clause.delta, weight)
                if clause.base is not None:
                    self._expect(clause.base, NUMBER, scope, leaf, _BASE)
                decided_by = decided_by or clause
            elif isinstance(clause, (n.Floor, n.Cap, n.DeductAtMost)):
                self._expect(clause.value, NUMBER, scope, leaf, _BOUND)
            elif isinstance(clause, n.Flag):
                self._expect(clause.condition, BOOL, scope, leaf, _CONDITION)
            elif isinstance(clause, n.Expect):
                self._expect(n.Name(clause.name, span=clause.span), NUMBER, scope, leaf,
                             Bilingual(f"`expect {clause.property} in …`'s subject",
                                       f"`承诺 {_PROPERTY_CN.get(clause.property)}` 的数据"))
        if deciding == 0:
            self.error(f"the rule of {what} has no clause that gives a score", rule.span,
                       "add e.g. `cond -> full; else -> 0`", code="structure",
                       cn=f"{cn_of(what)} 的规则中没有给出得分的条款",
                       hint_cn="请加上如 `条件 -> 满分; 否则 -> 不得分` 的条款")
            return
        self._check_steps_reach(rule, scope, leaf, weight)
        bands_ok = self._check_bands(rule, scope, leaf, decided_by is not None, what)
        if bands_ok and check_range:
            self._check_range(rule, scope, leaf, weight, what)

    def _outcome(self, outcome, scope, leaf):
        if isinstance(outcome, n.NotApplicable):
            return
        self._expect(outcome, NUMBER, scope, leaf, _SCORE)

    def _check_step(self, step: n.Step, guards, scope, leaf):
        self._expect(step.size, NUMBER, scope, leaf, _STEP_SIZE)
        self._expect(step.delta, NUMBER, scope, leaf, _CHANGE)
        if step.reference is not None:
            self._expect(step.reference, NUMBER, scope, leaf, _REFERENCE)
        if step.base is not None:
            self._expect(step.base, NUMBER, scope, leaf, _BASE)
        size = self._constant(step.size)
        if size is not None and size <= 0:
            self.error("a step size must be above 0", step.size.span,
                       "e.g. per 5% below -> -0.1", cn="档距须大于0",
                       hint_cn="如 每低于 5% -> 扣 0.1")
        if step.subject is not None:
            self._expect(step.subject, NUMBER, scope, leaf, _STEP_SUBJECT)
        if step.direction == "around" and step.base is None:
            self.error("`per … around` needs the score at the reference: `from BASE`",
                       step.span, f"e.g. `per {self._describe(step.size)} around "
                       f"{self._describe(step.reference) if step.reference else 'REF'} -> 0.05 "
                       "from 5; floor 0; cap full`", code="step",
                       cn="`每高（低）` 须写明等于参照值时的得分：`从 起点`",
                       hint_cn=f"如 `比 {self._quote(step.reference) if step.reference else '参照值'} "
                               f"每高（低） {self._quote(step.size)} -> 加 0.05 从 5; 扣完为止; "
                               "加满为止`")
        subject = step_subject(guards, step.direction, step.subject)
        if subject is None:
            self.error(f"`per … {step.direction}` needs a subject: the value whose distance is "
                       "counted", step.span,
                       "put a comparison before it, e.g. `rate >= 95% -> full; per 1% below "
                       "-> -0.1`, or write it first: `rate per 1% below 95% -> -0.1`",
                       code="step",
                       cn=f"按档计分（{_DIRECTION_CN[step.direction]}）须有比较对象：按哪个值"
                          "与参照值的差距计档",
                       hint_cn="请在它前面写一个比较，如 `执行率 >= 95% -> 满分; 每低于 1% -> 扣 0.1`，"
                               "或把比较对象写在前面：`执行率 比 95% 每低于 1% -> 扣 0.1`")
        elif step.reference is None and subject[1] is None:
            self.error(f"`per … {step.direction}` needs a reference value", step.span,
                       f"write it after `{step.direction}`, e.g. `per 1% {step.direction} 95%`",
                       code="step",
                       cn=f"按档计分（{_DIRECTION_CN[step.direction]}）须有参照值",
                       hint_cn=f"请用“比”写明参照值，如 `比 95% {_DIRECTION_CN[step.direction]} 1% -> …`")

    def _check_requires(self, requires, scope: Scope, owner: CheckedIndicator):
        for require in requires:
            self._expect(require.condition, BOOL, scope, owner, _REQUIRE)

    def _check_percent_delta(self, delta, weight: Decimal):
        """`-1%` as a deduction is 0.01 points, which is what 「扣1%」 means only on a weight
        of 1; 「扣权重的1%」 is `-1% of weight`."""
        value = constant_value(delta)
        literal = delta.operand if isinstance(delta, n.Unary) else delta
        if value is None or not isinstance(literal, n.Number) or not literal.is_percent \
                or weight == 1 or self._in_definition:
            return
        with _exact():
            meant = value * weight
        written = self._describe(delta)
        share = written.lstrip("-")
        verb, cn = ("deducts", "扣") if value < 0 else ("adds", "加")
        self.warn(f"`{written}` {verb} {plain(abs(value))} points per step, not {share} of the "
                  f"weight {plain(weight)} ({plain(abs(meant))} points)", delta.span,
                  f"for 「{cn}权重的{share}」 write `{written} of weight`; for points write "
                  f"`{plain(value)}`", code="step-percent",
                  cn=f"`{self._quote(delta)}` 每档{cn} {plain(abs(value))} 分，不是分值 "
                     f"{plain(weight)} 的{share}（{plain(abs(meant))} 分）",
                  hint_cn=f"「{cn}权重的{share}」请写 `{cn}权重的{share}`；按分数{cn}请写 "
                          f"`{cn} {plain(abs(value))}`")

    def _check_steps_reach(self, rule: n.Rule, scope, leaf, weight: Decimal):
        """A ``per`` clause whose subject, where the clause is reached, can never be on
        the counted side of its reference never changes the score: a rule that silently
        gives full marks (e.g. the reference taken from a `< 60%` guard)."""
        analysis = RangeAnalysis(self, scope, leaf, weight)
        guards: List[n.Guarded] = []
        for clause in rule.clauses:
            if isinstance(clause, n.Guarded):
                try:
                    analysis._refine(clause.condition, False)
                except _Unanalysable:
                    return
                guards.append(clause)
            elif isinstance(clause, n.Step):
                if clause.direction == "around":
                    return
                try:
                    distance, subject, reference = analysis.step_distance(clause, guards)
                except _Unanalysable:
                    return
                if distance.hi > 0 or not (subject.lo.is_finite() or subject.hi.is_finite()):
                    return
                self._report_dead_step(clause, guards, subject, reference)
                return
            elif isinstance(clause, (n.Otherwise, n.Result, n.Each)):
                return

    def _report_dead_step(self, step: n.Step, guards, subject: Bounds, reference: Bounds):
        guard = step_guard(guards, step.direction, step.subject)
        subject_expr, _ = step_parts(step, guards)
        pct = is_percent_like(subject_expr, None) or (
            guard is not None and _has_percent_literal(guard.condition)) or \
            (step.reference is not None and _has_percent_literal(step.reference))
        fmt = (lambda v: _percent_text(v)) if pct else plain
        where = iv.Interval(subject.lo, subject.hi, True, True).show(fmt)
        ref = fmt(reference.lo) if reference.lo == reference.hi else \
            iv.Interval(reference.lo, reference.hi).show(fmt)
        side = {"below": "below", "above": "above", "off": "away from"}[step.direction]
        origin = "" if step.reference is not None or guard is None else (
            f" (taken from the guard `{self._describe(guard.condition)}`"
            f"{', line ' + str(guard.condition.span.line) if guard.condition.span else ''})")
        # Where counting should start: the end of the subject's range the step moves from.
        start = subject.hi if step.direction == "below" else subject.lo
        suggestion = fmt(start) if start.is_finite() else "…"
        size = self._describe(step.size)
        origin_cn = "" if step.reference is not None or guard is None else (
            f"（取自条件 `{self._quote(guard.condition)}`"
            f"{'，第 ' + str(guard.condition.span.line) + ' 行' if guard.condition.span else ''}）")
        side_cn = {"below": "低于", "above": "高于", "off": "偏离"}[step.direction]
        self.error(f"this `per … {step.direction}` clause can never change the score: where "
                   f"it is reached, {self._describe(subject_expr)} is within {where}, never "
                   f"{side} its reference {ref}{origin}", step.span,
                   f"name the value counting starts from: `per {size} {step.direction} "
                   f"{suggestion} -> …`", code="step",
                   cn=f"这一按档条款永远不会改变得分：用到它时，{self._quote(subject_expr)} 在 "
                      f"{where} 之内，不会{side_cn}参照值 {ref}{origin_cn}",
                   hint_cn=f"请写明从哪个值开始计档：`比 {suggestion} "
                           f"{_DIRECTION_CN[step.direction]} {self._quote(step.size)} -> …`")

    # --- types
    def _expect(self, expr, expected, scope, leaf, what):
        got = self._type(expr, scope, leaf, expected)
        if got is not None and got != expected:
            self.error(f"{what} must be {_type_name(expected)}, but this is "
                       f"{_type_name(got)}", expr.span, _type_hint(expected, got),
                       code="type",
                       cn=f"{cn_of(what)}应为{_type_name_cn(expected)}，但这里是一个"
                          f"{_type_name_cn(got)}",
                       hint_cn=_type_hint_cn(expected, got))

    def _type(self, expr, scope: Scope, leaf, expected=None) -> Optional[str]:
        """The type of an expression, or None after reporting an error inside it."""
        if isinstance(expr, n.Number):
            return NUMBER
        if isinstance(expr, n.String):
            return TEXT
        if isinstance(expr, n.Boolean):
            return BOOL
        if isinstance(expr, (n.Full, n.WeightRef)):
            return NUMBER
        if isinstance(expr, n.Name):
            return self._name_type(expr, scope, leaf, expected)
        if isinstance(expr, n.Unary):
            t = self._type(expr.operand, scope, leaf, NUMBER)
            if t not in (None, NUMBER):
                self.error(f"'{expr.op}' needs a number, not {_type_name(t)}", expr.span,
                           code="type",
                           cn=f"“{expr.op}”需要数值，但这里是一个{_type_name_cn(t)}")
                return None
            return t and NUMBER
        if isinstance(expr, n.Binary):
            ok = True
            for side in (expr.left, expr.right):
                t = self._type(side, scope, leaf, NUMBER)
                if t is None:
                    ok = False
                elif t != NUMBER:
                    self.error(f"'{expr.op}' needs numbers, but this is {_type_name(t)}",
                               side.span, _type_hint(NUMBER, t), code="type",
                               cn=f"“{_op_cn(expr.op)}”需要数值，但这里是一个{_type_name_cn(t)}",
                               hint_cn=_type_hint_cn(NUMBER, t))
                    ok = False
            if ok and expr.op == "/":
                d = self._constant(expr.right)
                if d is not None and d == 0:
                    self.error("division by zero", expr.right.span, code="type",
                               cn="除数为0")
            return NUMBER if ok else None
        if isinstance(expr, n.Compare):
            return self._compare_type(expr, scope, leaf)
        if isinstance(expr, n.Logical):
            a = self._type(expr.left, scope, leaf, BOOL)
            b = self._type(expr.right, scope, leaf, BOOL)
            for side, t in ((expr.left, a), (expr.right, b)):
                if t is not None and t != BOOL:
                    self.error(f"'{expr.op}' joins conditions, but this is {_type_name(t)}",
                               side.span, _type_hint(BOOL, t), code="type",
                               cn=f"“{_op_cn(expr.op)}”连接的是条件，但这里是一个{_type_name_cn(t)}",
                               hint_cn=_type_hint_cn(BOOL, t))
            return BOOL
        if isinstance(expr, n.Not):
            t = self._type(expr.operand, scope, leaf, BOOL)
            if t is not None and t != BOOL:
                self.error(f"'not' needs a condition, but this is {_type_name(t)}",
                           expr.operand.span, _type_hint(BOOL, t), code="type",
                           cn=f"“非”后面应是条件，但这里是一个{_type_name_cn(t)}",
                           hint_cn=_type_hint_cn(BOOL, t))
            return BOOL
        if isinstance(expr, n.InInterval):
            t = self._type(expr.subject, scope, leaf, NUMBER)
            if t is not None and t != NUMBER:
                self.error(f"only numbers lie in ranges, but this is {_type_name(t)}",
                           expr.subject.span, code="type",
                           cn=f"只有数值才能落在区间内，但这里是一个{_type_name_cn(t)}")
            for end in (expr.interval.low, expr.interval.high):
                t = self._type(end, scope, leaf, NUMBER)
                if t is not None and t != NUMBER:
                    self.error(f"a range's ends must be numbers, not {_type_name(t)}", end.span,
                               code="type", cn=f"区间的端点应为数值，但这里是一个{_type_name_cn(t)}")
            lo, hi = self._constant(expr.interval.low), self._constant(expr.interval.high)
            if lo is not None and hi is not None and lo > hi:
                self.error(f"the range starts above its end ({plain(lo)} > {plain(hi)})",
                           expr.interval.span, "write the lower end first",
                           cn=f"区间的起点大于终点（{plain(lo)} > {plain(hi)}）",
                           hint_cn="请先写下限，再写上限")
            return BOOL
        if isinstance(expr, n.Call):
            return self._call_type(expr, scope, leaf)
        raise TypeError(f"unknown expression {expr!r}")  # pragma: no cover

    def _name_type(self, expr: n.Name, scope: Scope, leaf, expected) -> Optional[str]:
        binding = scope.lookup(expr.name)
        if isinstance(binding, FactInfo):
            if binding.kind != "any":
                self.facts.setdefault(expr.name, binding)
            return binding.value_type
        if isinstance(binding, LetInfo):
            if binding.cyclic:
                return None
            if binding.checking:
                binding.cyclic = True
                self.error(f"{expr.name!r} is defined in terms of itself", expr.span,
                           code="name", cn=f"“{expr.name}”的定义用到了它自己")
                return None
            if binding.type is None:
                binding.checking = True
                binding.type = self._type(binding.let.value, binding.scope, leaf, expected)
                binding.checking = False
            return binding.type
        if expr.name in FUNCTIONS:
            self.error(f"{expr.name!r} is a function; call it with (…)", expr.span,
                       f"e.g. {expr.name}(a, b)", code="name",
                       cn=f"“{expr.name}”是函数，要带括号调用", hint_cn=f"如 `{expr.name}(a, b)`")
            return None
        if expr.name in self.rule_defs:
            self.error(f"{expr.name!r} is a rule; a rule is used as a whole leaf rule",
                       expr.span, code="name",
                       cn=f"“{expr.name}”是规则，只能作为末级指标的整条规则使用",
                       hint=f"write `CODE weight N: {expr.name}(…)`",
                       hint_cn=f"请写成 `编码 权重 N: {expr.name}(…)`")
            return None
        if self._in_definition:
            return None  # a rule definition's free names are the using leaf's facts
        # Not declared: a fact of the project, taken as a number (or yes/no).
        known = [k for k in scope.visible()] + [k for k in self.declared_names]
        suggestion = did_you_mean(expr.name, [k for k in known if k != expr.name])
        if suggestion is not None:
            self.error(f"unknown name {expr.name!r}; did you mean {suggestion!r}?", expr.span,
                       f"if {expr.name!r} is a new fact, declare it: fact {expr.name}: number",
                       code="name",
                       cn=f"未知的名称“{expr.name}”，是否应为“{suggestion}”？",
                       hint_cn=f"如果“{expr.name}”是新的数据，请先声明：数据 {expr.name}: 数值")
            return None
        kind = "bool" if expected == BOOL else "number"
        info = self.facts.get(expr.name)
        if info is None or info.declared:
            info = FactInfo(expr.name, kind, declared=False, span=expr.span)
            self.facts.setdefault(expr.name, info)
        self.undeclared.setdefault(expr.name, []).append((leaf.code, expr.span))
        return info.value_type

    def _compare_type(self, expr: n.Compare, scope, leaf) -> Optional[str]:
        left = self._type(expr.left, scope, leaf, None)
        right = self._type(expr.right, scope, leaf, None)
        if left is None or right is None:
            return BOOL
        if left != right:
            self.error(f"cannot compare {_type_name(left)} with {_type_name(right)}", expr.span,
                       _type_hint(left, right), code="type",
                       cn=f"{_type_name_cn(left)}不能与{_type_name_cn(right)}比较",
                       hint_cn=_type_hint_cn(left, right))
            return BOOL
        if left in (TEXT, BOOL) and expr.op not in ("==", "!="):
            self.error(f"'{expr.op}' orders numbers; {_type_name(left)} can only be compared "
                       "with == or !=", expr.span, code="type",
                       cn=f"“{expr.op}”用于比较数值大小；{_type_name_cn(left)}只能用 == 或 != 比较")
        if left == TEXT:
            for name_side, text_side in ((expr.left, expr.right), (expr.right, expr.left)):
                if isinstance(name_side, n.Name) and isinstance(text_side, n.String):
                    binding = scope.lookup(name_side.name)
                    if isinstance(binding, FactInfo) and binding.kind == "level" \
                            and text_side.value not in binding.levels:
                        guess = did_you_mean(text_side.value, binding.levels)
                        self.error(f"{text_side.value!r} is not one of the levels of "
                                   f"{name_side.name}: {', '.join(binding.levels)}",
                                   text_side.span,
                                   f"did you mean {guess!r}?" if guess else
                                   "add it to the fact's level(…) list", code="type",
                                   cn=f"“{text_side.value}”不是 {name_side.name} 的选项之一："
                                      f"{'、'.join(binding.levels)}",
                                   hint_cn=f"是否应为“{guess}”？" if guess else
                                   "请把它加到该数据的 选项(…) 列表中")
        return BOOL

    def _call_type(self, expr: n.Call, scope, leaf) -> Optional[str]:
        spec = FUNCTIONS.get(expr.func)
        if spec is None:
            if expr.func in self.rule_defs:
                self.error(f"rule {expr.func} can only be used as a leaf's whole rule",
                           expr.span, f"write `CODE weight N: {expr.func}(…)`", code="name",
                           cn=f"规则 {expr.func} 只能作为末级指标的整条规则使用",
                           hint_cn=f"请写成 `编码 权重 N: {expr.func}(…)`")
                return None
            guess = did_you_mean(expr.func, list(FUNCTIONS) + list(self.rule_defs))
            self.error(f"unknown function {expr.func!r}" +
                       (f"; did you mean {guess!r}?" if guess else ""), expr.span,
                       "functions: " + ", ".join(sorted(FUNCTIONS)), code="name",
                       cn=f"未知的函数“{expr.func}”" +
                          (f"，是否应为“{_function_cn(guess, self.file.spelling)}”？"
                           if guess else ""),
                       hint_cn="可用的函数：" + "、".join(
                           _function_cn(f, self.file.spelling) for f in sorted(FUNCTIONS)))
            for arg in expr.args:
                self._type(arg, scope, leaf, NUMBER)
            return None
        low, high, arg_type, result = spec
        count = len(expr.args)
        if count < low or (high is not None and count > high):
            wanted = str(low) if low == high else (f"{low} or more" if high is None
                                                   else f"{low} to {high}")
            wanted_cn = f" {low} " if low == high else (f"至少 {low} " if high is None
                                                        else f" {low} 至 {high} ")
            self.error(f"{expr.func}() takes {wanted} values, {count} given", expr.span,
                       code="type",
                       cn=f"{_function_cn(expr.func, self.file.spelling)}() 需要{wanted_cn}个值，"
                          f"这里给了 {count} 个")
        ok = True
        for arg in expr.args:
            t = self._type(arg, scope, leaf, arg_type)
            if t is None:
                ok = False
            elif t != arg_type:
                self.error(f"{expr.func}() needs {_type_name(arg_type)}, but this is "
                           f"{_type_name(t)}", arg.span, _type_hint(arg_type, t), code="type",
                           cn=f"{_function_cn(expr.func, self.file.spelling)}() 需要"
                              f"{_type_name_cn(arg_type)}，但这里是一个{_type_name_cn(t)}",
                           hint_cn=_type_hint_cn(arg_type, t))
                ok = False
        if expr.func == "ratio" and len(expr.args) == 2:
            d = self._constant(expr.args[1])
            if d == 0:
                self.error("ratio(…, 0) divides by zero", expr.args[1].span,
                           cn=f"`{_function_cn('ratio', self.file.spelling)}(…, 0)` 的除数为0")
        if expr.func == "linear" and len(expr.args) == 3:
            lo, hi = self._constant(expr.args[1]), self._constant(expr.args[2])
            if lo is not None and hi is not None and lo >= hi:
                self.error("linear(x, lo, hi) needs lo below hi", expr.span,
                           cn=f"`{_function_cn('linear', self.file.spelling)}(x, 下限, 上限)` "
                              "的下限须小于上限")
        if expr.func in ("clamp", "assess") and len(expr.args) == 3:
            lo, hi = self._constant(expr.args[1]), self._constant(expr.args[2])
            if lo is not None and hi is not None and lo > hi:
                self.error(f"{expr.func}(x, lo, hi) needs lo at or below hi", expr.span,
                           cn=f"`{_function_cn(expr.func, self.file.spelling)}(x, 下限, 上限)` "
                              "的下限不能大于上限")
        if expr.func in ("round",) and len(expr.args) == 2:
            step = self._constant(expr.args[1])
            if step is not None and step <= 0:
                self.error("round(x, step) needs a step above 0", expr.args[1].span,
                           cn=f"`{_function_cn('round', self.file.spelling)}(x, 精度)` 的精度须大于0")
        return result if ok else None

    # --- constants
    def _constant(self, expr) -> Optional[Decimal]:
        return constant_value(expr)

    # --- bands
    def _check_bands(self, rule: n.Rule, scope, leaf, has_fallback, what) -> bool:
        """Overlapping bands, unreachable guards and gaps. False if it found an error."""
        chain = []
        for clause in rule.clauses:
            if isinstance(clause, n.Guarded):
                chain.append(clause)
            elif isinstance(clause, (n.Otherwise, n.Result, n.Step, n.Each)):
                break
        before = len([d for d in self.diagnostics if d.is_error])
        analysed = [guard_set(g.condition, scope) for g in chain]
        subjects = [a[0] for a in analysed if a is not None]
        same_subject = (chain and all(a is not None for a in analysed)
                        and all(s == subjects[0] for s in subjects))
        if same_subject:
            subject = subjects[0]
            self._percent_display = is_percent_like(subject, scope) or any(
                _has_percent_literal(g.condition) for g in chain)
            kind = analysed[0][1].__class__
            if not all(isinstance(a[1], kind) for a in analysed):
                return True
            taken = _empty_like(analysed[0][1])
            for guard, (_, chosen) in zip(chain, analysed):
                if _subset(chosen, taken):
                    shown = _show(chosen, subject, scope, self._percent_display)
                    self.error("this clause can never apply: earlier clauses already take "
                               f"every value it covers ({shown})",
                               guard.span, "remove it or fix its bounds", code="unreachable",
                               cn="这一条款永远不会用到：它所涵盖的值"
                                  f"（{_show(chosen, subject, scope, self._percent_display, 'zh')}）"
                                  "都已被前面的条款取走",
                               hint_cn="请删去它，或修改它的界限")
                taken = _union(taken, chosen)
            # Overlaps between written bands `x in [a, b)`.
            bands = [(g, a[1]) for g, a in zip(chain, analysed)
                     if isinstance(g.condition, n.InInterval)]
            for i, (g1, s1) in enumerate(bands):
                for g2, s2 in bands[i + 1:]:
                    common = s1.intersect(s2)
                    if not common.empty:
                        line = g1.span.line if g1.span else "?"
                        shown = _show(common, subject, scope, self._percent_display)
                        self.error(f"this band overlaps the band on line {line}: both take "
                                   f"{shown}", g2.span,
                                   "make one edge exclusive: [a, b) and [b, c)",
                                   code="bands",
                                   cn=f"这一档与第 {line} 行的一档重叠：两档都包含 {shown}",
                                   hint_cn="请让其中一端不含端点：`[a, b)` 与 `[b, c)`")
            if not has_fallback:
                domain = self._domain(subject, scope, leaf)
                if domain is not None:
                    left = _minus(domain, taken)
                    if not _is_empty(left):
                        shown = _show(left, subject, scope, self._percent_display)
                        self.error(f"no clause of {what} applies when "
                                   f"{self._describe(subject)} is {shown}", rule.span,
                                   "add `else -> …` or close the gap between the bands",
                                   code="bands",
                                   cn=f"{self._quote(subject)} 为 "
                                      f"{_show(left, subject, scope, self._percent_display, 'zh')}"
                                      f" 时，{cn_of(what)} 没有适用的条款",
                                   hint_cn="请加上 `否则 -> …`，或补上各档之间的空缺")
        elif not has_fallback and chain:
            self.warn(f"the rule of {what} has no `else`: facts that meet none of its "
                      "conditions cannot be scored", rule.span,
                      "end the rule with `else -> 0` (or another score)", code="bands",
                      cn=f"{cn_of(what)} 的规则没有 `否则`：不满足任何条件的数据将无法评分",
                      hint_cn="请在规则末尾加上 `否则 -> 不得分`（或其他得分）")
        return len([d for d in self.diagnostics if d.is_error]) == before

    def _describe(self, expr) -> str:
        from .formatter import format_expr

        return format_expr(expr)

    def _domain(self, subject, scope, leaf):
        if isinstance(subject, n.Name):
            binding = scope.lookup(subject.name) or self.facts.get(subject.name)
            if isinstance(binding, FactInfo):
                if binding.kind == "bool":
                    return frozenset([True, False])
                if binding.kind == "level":
                    return frozenset(binding.levels)
                if binding.kind == "text":
                    return None
        if self._type(subject, scope, leaf) != NUMBER:
            return None
        b = RangeAnalysis(self, scope, leaf, Decimal(0)).bounds(subject)
        return iv.to_set(b)

    # --- score range
    def _check_range(self, rule, scope, leaf, weight, what):
        if leaf.bonus:
            return
        analysis = RangeAnalysis(self, scope, leaf, weight)
        try:
            low, high = analysis.rule_bounds(rule)
        except _Unanalysable:
            return
        problems = []
        if low < 0:
            problems.append(("below 0", low))
        if high > weight:
            problems.append((f"above its weight {plain(weight)}", high))
        if not problems:
            return
        from .sampling import find_out_of_range

        witness = find_out_of_range(self, leaf, rule, weight, scope)
        if witness is not None:
            facts, score = witness
            shown = ", ".join(f"{k} = {v}" for k, v in facts.items())
            bound = "below 0" if score < 0 else f"above its weight {plain(weight)}"
            example = f" (with {shown})" if shown else ""
            bound_cn = "低于0" if score < 0 else f"高于其分值 {plain(weight)}"
            example_cn = "（当 " + "，".join(f"{k} = {_show_value_cn(v)}"
                                            for k, v in facts.items()) + " 时）" if shown else ""
            self.error(f"{what} can score {plain(score)}, {bound}{example}", rule.span,
                       "add `floor 0` / `cap full`, or mark the leaf `bonus` if it carries "
                       "bonus points", code="range",
                       cn=f"{cn_of(what)} 可能得 {plain(score)} 分，{bound_cn}{example_cn}",
                       hint_cn="请加上 `扣完为止` / `加满为止`；若该指标含加分，请标记为 `加分项`")
        else:
            words = " and ".join(f"{p} (down to {plain(v)})" if v < 0 else
                                 f"{p} (up to {plain(v)})" for p, v in problems)
            words_cn = "，".join(f"低至 {plain(v)}" if v < 0 else f"高至 {plain(v)}"
                                for _, v in problems)
            self.warn(f"cannot show that {what} stays within [0, {plain(weight)}]: the rule's "
                      f"intervals reach {words}", rule.span,
                      "add `floor 0` and/or `cap full` to make the bounds explicit",
                      code="range",
                      cn=f"无法确认 {cn_of(what)} 的得分在 [0, {plain(weight)}] 之内：按规则推算，"
                         f"得分可能{words_cn}",
                      hint_cn="请加上 `扣完为止` 和/或 `加满为止`，明确得分的界限")

    # --- names
    def _report_undeclared(self):
        for name, uses in self.undeclared.items():
            info = self.facts.get(name)
            codes = sorted({code for code, _ in uses})
            kind = "yes/no" if info is not None and info.kind == "bool" else "number"
            keyword = did_you_mean(name, _CLAUSE_KEYWORDS)
            kind_cn = "是否" if kind == "yes/no" else "数值"
            self.warn(f"fact {name!r} is not declared; it is read as a {kind} "
                      f"(used by {', '.join(codes)})", uses[0][1],
                      f"did you mean the keyword `{keyword}`?" if keyword else
                      f"declare it: fact {name}: {'bool' if kind == 'yes/no' else 'number'} "
                      "\"中文名\"", code="undeclared",
                      cn=f"数据“{name}”没有声明，按{kind_cn}读取（用于 {'、'.join(codes)}）",
                      hint_cn=f"是否应为关键字 `{_keyword_cn(keyword)}`？" if keyword else
                      f"请声明：数据 {name}: {kind_cn} \"中文名\"")

    def _report_labels(self):
        """Facts the justifications cannot name in Chinese: no label, or one label shared
        by several facts (they are then told apart by their names' meaning)."""
        from .explain import distinct_label

        own = [info for info in self.facts.values() if info.declared and info.span is not None
               and info.span.file == self.source.path and info.kind != "any"]
        by_label: Dict[str, List[FactInfo]] = {}
        unlabelled: Dict[tuple, List[str]] = {}
        for info in sorted(own, key=lambda i: (i.span.line, i.span.column)):
            if info.label:
                by_label.setdefault(info.label, []).append(info)
            else:
                unlabelled.setdefault((info.span.line, info.span.column), []).append(info.name)
        for infos in by_label.values():
            if len(infos) < 2:
                continue
            names = tuple(i.name for i in infos)
            worded = "、".join(distinct_label(infos[0].label, name, names) for name in names)
            self.warn(f"facts {', '.join(names)} share the label {infos[0].label!r}; "
                      f"justifications call them {worded}", infos[0].span,
                      f"give each fact its own label, e.g. fact {names[0]}: "
                      f"{infos[0].kind} \"…{infos[0].label}\"", code="label",
                      cn=f"数据 {'、'.join(names)} 用了同一个中文名“{infos[0].label}”；"
                         f"评分说明中分别称为 {worded}",
                      hint_cn=f"请给每个数据写自己的中文名，如 数据 {names[0]}: "
                              f"{_KIND_CN.get(infos[0].kind, infos[0].kind)} "
                              f"\"…{infos[0].label}\"")
        for names in unlabelled.values():
            info = self.facts[names[0]]
            example = '实际完成值' if info.kind in ('number', 'count') else '中文名称'
            self.warn(f"{'facts' if len(names) > 1 else 'fact'} {', '.join(names)} "
                      f"{'have' if len(names) > 1 else 'has'} no Chinese label; justifications "
                      f"show the name", info.span,
                      f"add the words the table uses, e.g. fact {names[0]}: {info.kind} "
                      f"\"{example}\"",
                      code="label",
                      cn=f"数据 {'、'.join(names)} 没有中文名；评分说明中将显示数据名",
                      hint_cn=f"请加上评分表中的说法，如 数据 {names[0]}: "
                              f"{_KIND_CN.get(info.kind, info.kind)} \"{example}\"")

    def _check_rule_definitions(self):
        """Check each rule definition of this file on its own, before anyone uses it.

        Its parameters are taken as values of any type (each use decides); the body's
        other names are the facts of the leaf that will use it. Score ranges are
        left to the leaves that apply it, which know their weights."""
        own = [d for d in self.file.rule_defs if d.span is None or
               d.span.file == self.source.path]
        for definition in own:
            code = f"rule {definition.name}"
            node = n.Indicator(code, None, n.Number(Decimal(1)), rule=definition.rule,
                               span=definition.span)
            scope = Scope(self.root_scope, owner=code)
            for param in definition.params:
                scope.names[param] = FactInfo(param, "any", declared=True,
                                              span=definition.span)
            leaf = CheckedIndicator(code, None, Decimal(1), node, None, 0, scope,
                                    source=self.source.path)
            self._in_definition = True
            try:
                self._check_rule(definition.rule, leaf, Decimal(1), Scope(scope, code),
                                 Bilingual(f"rule {definition.name}", f"规则 {definition.name}"),
                                 check_range=False)
            finally:
                self._in_definition = False


# --------------------------------------------------------------- helpers


class _exact:
    def __enter__(self):
        import decimal

        self._ctx = decimal.localcontext(CONTEXT)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


_LINE_BREAK = re.compile(r"[ \t]*(#[^\n]*)?\r?\n[ \t]*")


def source_text_of(source: SourceText, node) -> str:
    """The text a node was written as, in whichever file it came from."""
    span = getattr(node, "span", None)
    if span is not None and span.end > span.start:
        text = source.text if span.file == source.path else \
            getattr(source, "text_for", lambda _: None)(span.file)
        if text is not None:
            # A rule written over several lines is quoted on one.
            return _LINE_BREAK.sub(" ", text[span.start:span.end])
    from .formatter import format_expr

    return format_expr(node)


def constant_value(expr) -> Optional[Decimal]:
    """The value of an expression made only of numbers, or None."""
    import decimal

    if isinstance(expr, n.Number):
        return expr.value
    if isinstance(expr, n.Unary):
        v = constant_value(expr.operand)
        return None if v is None else (-v if expr.op == "-" else v)
    if isinstance(expr, n.Binary):
        a, b = constant_value(expr.left), constant_value(expr.right)
        if a is None or b is None:
            return None
        with decimal.localcontext(CONTEXT):
            if expr.op == "+":
                return a + b
            if expr.op == "-":
                return a - b
            if expr.op in ("*", "of"):
                return a * b
            if expr.op == "/":
                return None if b == 0 else a / b
    return None


# For each step direction, the comparisons (written subject OP reference) that say where
# full marks start: `rate >= 95%` for steps below, `cost <= budget` above, `x == 100%` off.
_ORIENTED = {"below": (">=", ">"), "above": ("<=", "<"), "off": ("==",), "around": ("==",)}
_MIRRORED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def _subject_and_reference(cond: n.Compare) -> Tuple[n.Expr, n.Expr, str]:
    """A comparison as (subject, reference, op), the constant side taken as the reference."""
    if constant_value(cond.left) is not None and constant_value(cond.right) is None:
        return cond.right, cond.left, _MIRRORED[cond.op]
    return cond.left, cond.right, cond.op


def step_guard(guards, direction: Optional[str] = None,
               subject: Optional[n.Expr] = None) -> Optional[n.Guarded]:
    """The guard a ``per`` clause takes its subject (and default reference) from.

    The nearest earlier guard that states where full marks start for the step's
    direction (``rate >= 95%`` for ``per … below``), so a rule written in the prose
    order 「95%以上满分；60%以下不得分；每低1%扣…」 counts from 95%, not from 60%; without
    one, the nearest comparison or band. With a written ``subject``, only guards on that
    subject count."""
    if subject is not None:
        guards = [g for g in guards if isinstance(g.condition, n.Compare) and
                  g.condition.op != "!=" and _subject_and_reference(g.condition)[0] == subject]
    if direction is not None:
        oriented = [g for g in reversed(guards) if isinstance(g.condition, n.Compare) and
                    g.condition.op != "!=" and
                    _subject_and_reference(g.condition)[2] in _ORIENTED[direction]]
        for guard in oriented:  # the full-marks guard first: `rate >= 95% -> full`
            if isinstance(guard.outcome, (n.Full, n.WeightRef)):
                return guard
        if oriented:
            return oriented[0]
    for guard in reversed(guards):
        cond = guard.condition
        if isinstance(cond, n.Compare) and cond.op != "!=" or isinstance(cond, n.InInterval):
            return guard
    return None


def step_parts(step: n.Step, guards) -> Optional[Tuple[n.Expr, Optional[n.Expr]]]:
    """(subject, reference) a ``per`` clause counts with: written, or from the guards."""
    found = step_subject(guards, step.direction, step.subject)
    if found is None:
        return None
    subject, reference = found
    return subject, step.reference if step.reference is not None else reference


def step_subject(guards, direction: Optional[str] = None, subject: Optional[n.Expr] = None
                 ) -> Optional[Tuple[n.Expr, Optional[n.Expr]]]:
    """(subject, default reference) for a ``per`` clause: the written subject, or the one
    of :func:`step_guard`; None when there is none."""
    guard = step_guard(guards, direction, subject)
    if guard is None:
        return (subject, None) if subject is not None else None
    cond = guard.condition
    if isinstance(cond, n.InInterval):
        return cond.subject, None
    subject, reference, _ = _subject_and_reference(cond)
    return subject, reference


def guard_set(cond, scope: Scope):
    """(subject, values) when a condition picks constant values of one subject."""
    if isinstance(cond, n.Compare):
        left_c, right_c = constant_value(cond.left), constant_value(cond.right)
        op = cond.op
        if right_c is None and left_c is not None:
            subject, value = cond.right, left_c
            op = {">=": "<=", "<=": ">=", ">": "<", "<": ">"}.get(op, op)
        elif right_c is not None:
            subject, value = cond.left, right_c
        else:
            for a, b in ((cond.left, cond.right), (cond.right, cond.left)):
                if isinstance(b, (n.String, n.Boolean)) and not isinstance(a, (n.String,
                                                                              n.Boolean)):
                    vals = frozenset([b.value])
                    if op == "!=":
                        return a, _Complement(vals)
                    return a, vals
            return None
        sets = {
            ">=": RealSet.of(value, iv.INF, True, False),
            ">": RealSet.of(value, iv.INF, False, False),
            "<=": RealSet.of(iv.NEG_INF, value, False, True),
            "<": RealSet.of(iv.NEG_INF, value, False, False),
            "==": RealSet.point(value),
            "!=": RealSet.point(value).complement(),
        }
        return subject, sets[op]
    if isinstance(cond, n.InInterval):
        lo, hi = constant_value(cond.interval.low), constant_value(cond.interval.high)
        if lo is None or hi is None:
            return None
        return cond.subject, RealSet.of(lo, hi, cond.interval.low_closed,
                                        cond.interval.high_closed)
    if isinstance(cond, n.Name):
        binding = scope.lookup(cond.name)
        if binding is None or isinstance(binding, FactInfo) and binding.kind == "bool":
            return cond, frozenset([True])
        return None
    if isinstance(cond, n.Not):
        inner = guard_set(cond.operand, scope)
        if inner is None:
            return None
        subject, values = inner
        if isinstance(values, RealSet):
            return subject, values.complement()
        if isinstance(values, frozenset) and values <= {True, False}:
            return subject, frozenset({True, False}) - values
        return None
    if isinstance(cond, n.Logical):
        a, b = guard_set(cond.left, scope), guard_set(cond.right, scope)
        if a is None or b is None or a[0] != b[0]:
            return None
        if isinstance(a[1], RealSet) and isinstance(b[1], RealSet):
            return a[0], (a[1].intersect(b[1]) if cond.op == "and" else a[1].union(b[1]))
        if isinstance(a[1], frozenset) and isinstance(b[1], frozenset):
            return a[0], (a[1] & b[1] if cond.op == "and" else a[1] | b[1])
    return None


class _Complement(frozenset):
    """Every value except these (from `!=`)."""


def _on_grid(weights: List[Decimal], whole: Decimal, step: Decimal) -> Optional[List[Decimal]]:
    """Weights rounded to multiples of ``step``, the last taking what is left of ``whole``
    (None when nothing is left for it)."""
    with _exact():
        head = [round_half_up(w, step) for w in weights[:-1]]
        last = whole - sum(head, Decimal(0))
    if last < 0:
        return None
    return head + [last]


def _percent_text(value: Decimal) -> str:
    from .numbers import percent

    return percent(value)


def _has_percent_literal(expr) -> bool:
    return any(isinstance(node, n.Number) and node.is_percent for node in n.walk(expr))


def _empty_like(values):
    return RealSet() if isinstance(values, RealSet) else frozenset()


def _union(a, b):
    if isinstance(a, RealSet):
        return a.union(b)
    if isinstance(b, _Complement):
        return _Complement(b - a) if not isinstance(a, _Complement) else _Complement(a & b)
    if isinstance(a, _Complement):
        return _Complement(a - b)
    return frozenset(a | b)


def _subset(a, b) -> bool:
    if isinstance(a, RealSet):
        return a.subset_of(b)
    if isinstance(b, _Complement):
        return not (a & b) if not isinstance(a, _Complement) else b <= a
    if isinstance(a, _Complement):
        return False
    return a <= b


def _minus(domain, taken):
    if isinstance(domain, RealSet):
        return domain.minus(taken) if isinstance(taken, RealSet) else domain
    if isinstance(taken, _Complement):
        return frozenset(domain & taken)
    if isinstance(taken, RealSet):
        return frozenset()
    return frozenset(domain - taken)


def _is_empty(values) -> bool:
    return values.empty if isinstance(values, RealSet) else not values


def _show(values, subject, scope, percent=None, lang: str = "en") -> str:
    if isinstance(values, RealSet):
        if percent is None:
            percent = is_percent_like(subject, scope)
        from .numbers import percent as pct

        return values.show(pct if percent else plain)
    if isinstance(values, _Complement):
        if lang == "zh":
            return "“" + "”“".join(sorted(map(str, values))) + "”以外的任何值"
        return "anything but " + ", ".join(sorted(map(str, values)))
    joined = "、" if lang == "zh" else ", "
    return joined.join(_show_value(v, lang) for v in sorted(values, key=str))


def _show_value(v, lang: str = "en") -> str:
    if v is True:
        return "是" if lang == "zh" else "true"
    if v is False:
        return "否" if lang == "zh" else "false"
    return f'"{v}"'


def is_percent_like(expr, scope: Optional[Scope], _through: frozenset = frozenset()) -> bool:
    """Whether values of this expression read best as percentages."""
    def like(e, sc=scope):
        return is_percent_like(e, sc, _through)

    if isinstance(expr, n.Number):
        return expr.is_percent
    if isinstance(expr, n.Name):
        binding = scope.lookup(expr.name) if scope else None
        if isinstance(binding, FactInfo):
            return binding.kind == "percent"
        if isinstance(binding, LetInfo):
            if id(binding) in _through:  # a value defined in terms of itself: an error
                return False                # the type check reports
            return is_percent_like(binding.let.value, binding.scope, _through | {id(binding)})
        return False
    if isinstance(expr, n.Call):
        if expr.func in ("ratio", "linear"):
            return True
        if expr.func in ("min", "max", "mean", "sum", "abs", "clamp", "round"):
            return any(like(a) for a in expr.args)
        return False
    if isinstance(expr, n.Binary):
        if expr.op in ("+", "-"):
            return like(expr.left) or like(expr.right)
        if expr.op == "/":
            return not like(expr.left) and not like(expr.right) or like(expr.left)
        return False
    if isinstance(expr, n.Unary):
        return like(expr.operand)
    return False


_KIND_CN = {"number": "数值", "percent": "百分比", "count": "个数", "money": "金额",
            "bool": "是否", "level": "选项", "text": "文本"}
_ROUND_TARGET_CN = {"leaves": "末级", "groups": "上级", "total": "总分"}
_DIRECTION_CN = {"below": "每低于", "above": "每高于", "off": "每偏离", "around": "每高（低）"}


def _type_name(t: str) -> str:
    return {NUMBER: "a number", BOOL: "a yes/no condition", TEXT: "a text or level"}[t]


def _type_name_cn(t: str) -> str:
    return {NUMBER: "数值", BOOL: "是/否的判断", TEXT: "文字或选项"}[t]


def _show_value_cn(value) -> str:
    """A counterexample's value as the Chinese messages show it (是/否 for yes/no)."""
    return {"true": "是", "false": "否"}.get(str(value), str(value)) \
        if isinstance(value, (str, bool)) else str(value)


def _type_hint_cn(expected, got) -> Optional[str]:
    if expected == BOOL and got == NUMBER:
        return "请写成比较，如 `x >= 1`，或把该数据声明为 是否"
    if expected == NUMBER and got == TEXT:
        return "文字和选项用 == 比较，如 执行情况 == \"有效执行\""
    if expected == NUMBER and got == BOOL:
        return "请把它用作条件：`匹配 -> 满分; 否则 -> 不得分`"
    return None


def _op_cn(op: str) -> str:
    return {"and": "且", "or": "或", "of": "的"}.get(op, op)


def _function_cn(name: str, spelling: Optional[str]) -> str:
    """A function's name as a Chinese message writes it: in the file's spelling."""
    from .keywords import FUNCTIONS as SPELLINGS

    if spelling == "zh" and SPELLINGS.get(name):
        return SPELLINGS[name][0]
    return name


def _keyword_cn(english: str) -> str:
    """A keyword's first Chinese spelling (the English one when it has none)."""
    from .keywords import by_english

    keyword = by_english().get(english)
    return keyword.chinese[0] if keyword is not None and keyword.chinese else english


_PROPERTY_CN = {"nondecreasing": "不减", "nonincreasing": "不增", "continuous": "连续"}


def _type_hint(expected, got) -> Optional[str]:
    if expected == BOOL and got == NUMBER:
        return "compare it, e.g. `x >= 1`, or declare the fact as bool"
    if expected == NUMBER and got == TEXT:
        return "texts and levels are compared with ==, e.g. level == \"有效执行\""
    if expected == NUMBER and got == BOOL:
        return "use it as a condition: `matched -> full; else -> 0`"
    return None


def _substitute(rule: n.Rule, mapping) -> n.Rule:
    def walk(node):
        if isinstance(node, n.Name) and node.name in mapping:
            return mapping[node.name]
        if isinstance(node, n.Expect) and isinstance(mapping.get(node.name), n.Name):
            return attrs.evolve(node, name=mapping[node.name].name)
        if attrs.has(type(node)):
            changes = {}
            for field in attrs.fields(type(node)):
                value = getattr(node, field.name)
                if isinstance(value, tuple):
                    new = tuple(walk(v) for v in value)
                    if new != value or any(a is not b for a, b in zip(new, value)):
                        changes[field.name] = new
                elif attrs.has(type(value)) and field.name != "span":
                    changes[field.name] = walk(value)
            return attrs.evolve(node, **changes) if changes else node
        return node

    return walk(rule)


# ------------------------------------------------------------ range analysis


class _Unanalysable(Exception):
    pass


class RangeAnalysis:
    """Lowest and highest score of a rule, by interval arithmetic over fact domains.

    Guards refine their subject: in the clause after ``r >= 1 -> full``, ``r`` is
    known to be below 1. The result over-approximates; the checker looks for a
    concrete example before it calls a rule wrong.
    """

    def __init__(self, checker: _Checker, scope: Scope, leaf, weight: Decimal):
        self.checker = checker
        self.scope = scope
        self.leaf = leaf
        self.weight = weight
        self.refined: List[Tuple[object, Bounds]] = []
        self._depth = 0

    def bounds(self, expr) -> Bounds:
        for subject, b in self.refined:
            if subject == expr:
                return b
        self._depth += 1
        if self._depth > 200:
            raise _Unanalysable()
        try:
            return self._bounds(expr)
        finally:
            self._depth -= 1

    def _bounds(self, expr) -> Bounds:
        if isinstance(expr, n.Number):
            return Bounds.point(expr.value)
        if isinstance(expr, (n.Full, n.WeightRef)):
            return Bounds.point(self.weight)
        if isinstance(expr, n.Name):
            binding = self.scope.lookup(expr.name)
            if isinstance(binding, LetInfo):
                saved_scope = self.scope
                self.scope = binding.scope if binding.scope is not None else self.scope
                try:
                    return self.bounds(binding.let.value)
                finally:
                    self.scope = saved_scope
            info = binding if isinstance(binding, FactInfo) else \
                self.checker.facts.get(expr.name)
            if info is None:
                return iv.NON_NEGATIVE
            if info.kind == "count":
                b = info.bounds()
                return b
            return info.bounds()
        if isinstance(expr, n.Unary):
            b = self.bounds(expr.operand)
            return iv.neg(b) if expr.op == "-" else b
        if isinstance(expr, n.Binary):
            a, b = self.bounds(expr.left), self.bounds(expr.right)
            if expr.op == "+":
                return iv.add(a, b)
            if expr.op == "-":
                return iv.sub(a, b)
            if expr.op in ("*", "of"):
                return iv.mul(a, b)
            return iv.div(a, b)
        if isinstance(expr, n.Call):
            spec = FUNCTIONS.get(expr.func)
            if spec is None or len(expr.args) < spec[0] or (
                    spec[1] is not None and len(expr.args) > spec[1]):
                raise _Unanalysable()  # reported by the type check already
            args = [self.bounds(a) for a in expr.args]
            f = expr.func
            if f == "ratio":
                return iv.div(args[0], args[1])
            if f == "min":
                return iv.Bounds(min(a.lo for a in args), min(a.hi for a in args))
            if f == "max":
                return iv.Bounds(max(a.lo for a in args), max(a.hi for a in args))
            if f == "sum":
                total = Bounds.point(Decimal(0))
                for a in args:
                    total = iv.add(total, a)
                return total
            if f == "mean":
                return iv.Bounds(min(a.lo for a in args), max(a.hi for a in args))
            if f == "abs":
                a = args[0]
                if a.lo >= 0:
                    return a
                if a.hi <= 0:
                    return iv.neg(a)
                return Bounds(Decimal(0), max(-a.lo, a.hi))
            if f == "clamp":
                x, lo, hi = args
                return Bounds(max(min(x.lo, hi.lo), lo.lo), min(max(x.hi, lo.hi), hi.hi))
            if f == "linear":
                return Bounds(Decimal(0), Decimal(1))
            if f == "round":
                return args[0]
            if f == "assess":
                x, lo, hi = args
                return Bounds(max(x.lo, lo.lo), min(x.hi, hi.hi)) if max(x.lo, lo.lo) <= min(
                    x.hi, hi.hi) else Bounds(lo.lo, hi.hi)
        raise _Unanalysable()

    def _refine(self, cond, holds: bool):
        found = guard_set(cond, self.scope)
        if found is None:
            self._refine_relation(cond, holds)
            return
        subject, values = found
        if not isinstance(values, RealSet):
            return
        values = values if holds else values.complement()
        current = iv.to_set(self.bounds(subject)).intersect(values)
        b = iv.from_set(current)
        if b is not None:
            self.refined.insert(0, (subject, b))

    def _refine_relation(self, cond, holds: bool):
        """`a <= b` between two facts: refine the differences a − b and b − a."""
        if not isinstance(cond, n.Compare) or cond.op in ("==", "!="):
            return
        op = cond.op
        if not holds:
            op = {">=": "<", ">": "<=", "<=": ">", "<": ">="}[op]
        zero = Decimal(0)
        # a op b  ⇔  a − b op 0  ⇔  b − a (flipped op) 0
        sets = {">=": Bounds(zero, iv.INF), ">": Bounds(zero, iv.INF),
                "<=": Bounds(iv.NEG_INF, zero), "<": Bounds(iv.NEG_INF, zero)}
        flipped = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}
        for expr, rel in ((n.Binary("-", cond.left, cond.right), op),
                          (n.Binary("-", cond.right, cond.left), flipped[op])):
            current = self.bounds(expr)
            self.refined.insert(0, (expr, iv.meet(current, sets[rel])))

    def rule_bounds(self, rule: n.Rule) -> Tuple[Decimal, Decimal]:
        outcomes: List[Bounds] = []
        guards = []
        floors, caps = [], []
        for clause in rule.clauses:
            if isinstance(clause, n.Guarded):
                saved = list(self.refined)
                self._refine(clause.condition, True)
                if not isinstance(clause.outcome, n.NotApplicable):
                    outcomes.append(self.bounds(clause.outcome))
                self.refined = saved
                self._refine(clause.condition, False)
                guards.append(clause)
            elif isinstance(clause, n.Otherwise):
                if not isinstance(clause.outcome, n.NotApplicable):
                    outcomes.append(self.bounds(clause.outcome))
                break
            elif isinstance(clause, n.Result):
                outcomes.append(self.bounds(clause.value))
                break
            elif isinstance(clause, n.Step):
                outcomes.append(self._step_bounds(clause, guards))
                break
            elif isinstance(clause, n.Published):  # the report's figure, checked in [0, weight]
                outcomes.append(Bounds(Decimal(0), self.weight))
                break
            elif isinstance(clause, n.Each):
                count = self.bounds(clause.count)
                delta = self.bounds(clause.delta)
                base = self._base(clause.base, delta)
                outcomes.append(iv.add(base, iv.mul(count, delta)))
                break
        for clause in rule.clauses:
            if isinstance(clause, n.Floor):
                floors.append(self.bounds(clause.value))
            elif isinstance(clause, n.Cap):
                caps.append(self.bounds(clause.value))
            elif isinstance(clause, n.DeductAtMost):
                floors.append(iv.sub(Bounds.point(self.weight), self.bounds(clause.value)))
        if not outcomes:
            return Decimal(0), Decimal(0)
        total = iv.hull(outcomes)
        lo, hi = total.lo, total.hi
        for f in floors:
            lo, hi = max(lo, f.lo), max(hi, f.hi)
        for c in caps:
            lo, hi = min(lo, c.lo), min(hi, c.hi)
        return lo, hi

    def _base(self, base_expr, delta: Bounds) -> Bounds:
        if base_expr is not None:
            return self.bounds(base_expr)
        if delta.hi <= 0:
            return Bounds.point(self.weight)
        if delta.lo >= 0:
            return Bounds.point(Decimal(0))
        return Bounds(Decimal(0), self.weight)

    def step_distance(self, step: n.Step, guards) -> Tuple[Bounds, Bounds, Bounds]:
        """(distance, subject, reference) bounds of a ``per`` clause where it is reached."""
        found = step_parts(step, guards)
        if found is None:
            raise _Unanalysable()
        subject, ref_expr = found
        if ref_expr is None:
            raise _Unanalysable()
        s = self.bounds(subject)
        r = self.bounds(ref_expr)
        if step.direction == "below":
            dist = iv.sub(r, s)
        elif step.direction == "above":
            dist = iv.sub(s, r)
        elif step.direction == "around":  # signed: above adds, below takes away
            return iv.sub(s, r), s, r
        else:
            d = iv.sub(s, r)
            dist = Bounds(Decimal(0) if d.lo <= 0 <= d.hi else min(abs(d.lo), abs(d.hi)),
                          max(abs(d.lo), abs(d.hi)))
        dist = Bounds(max(dist.lo, Decimal(0)), max(dist.hi, Decimal(0)))
        return dist, s, r

    def _step_bounds(self, step: n.Step, guards) -> Bounds:
        dist, _, _ = self.step_distance(step, guards)
        size = self.bounds(step.size)
        if size.lo <= 0:
            raise _Unanalysable()
        steps = iv.div(dist, size)
        from .numbers import started_steps, whole_steps

        if step.direction == "around" and step.mode != n.STEP_PRO_RATA:
            # signed steps, cut toward or away from zero: within the floor and ceiling
            steps = Bounds(whole_steps(steps.lo, Decimal(1)) if steps.lo.is_finite() else steps.lo,
                           started_steps(steps.hi, Decimal(1)) if steps.hi.is_finite()
                           else steps.hi)
        elif step.mode == n.STEP_WHOLE:
            steps = Bounds(whole_steps(steps.lo, Decimal(1)) if steps.lo.is_finite() else steps.lo,
                           whole_steps(steps.hi, Decimal(1)) if steps.hi.is_finite() else steps.hi)
        elif step.mode == n.STEP_STARTED:
            steps = Bounds(started_steps(steps.lo, Decimal(1)) if steps.lo.is_finite()
                           else steps.lo,
                           started_steps(steps.hi, Decimal(1)) if steps.hi.is_finite()
                           else steps.hi)
        delta = self.bounds(step.delta)
        base = self._base(step.base, delta)
        return iv.add(base, iv.mul(steps, delta))
