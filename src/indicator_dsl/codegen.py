"""Checked set → Python bytecode: every leaf's rule as generated code, once per set.

The closure compiler (compiler.py) stays the explaining interpreter: it records what
each condition saw so a justification can be worded. Scoring many projects needs only
the numbers, so this module compiles the same checked rules a second time, into plain
Python functions built with the standard ``ast`` module and ``compile()``:

* names are resolved at plan time with the same scopes the closure compiler uses
  (:class:`~indicator_dsl.checker.Scope`, ``FactInfo``, ``LetInfo``), so a fact
  becomes a local variable read from its slot once, a ``let`` a local computed on
  first use (a let that only an untaken branch needs is never computed), and a
  sub-expression written twice is computed once, exactly where the interpreter's
  memo would compute it;
* the generated code holds only generated identifiers; every value from the set —
  numbers, texts, codes, fact names — lives in a constants table handed to the code
  as its globals (``ast.Constant`` holds no Decimal, and no user text ever becomes
  code); the globals carry no builtins;
* the arithmetic is the interpreter's, operation for operation, in the same decimal
  context: steps (whole, started, pro rata, with the 24-place snap), half-up
  rounding to the step, floor, cap, ``deduct at most``, points, bands, lists in
  sum/mean/min/max, and the group sums.

The generated code only decides; it does not explain. When it cannot score a leaf
(a missing fact, a division by zero, no clause applies …) it raises, and the caller
asks the interpreter, which words the error exactly as before. Agreement of the two
is checked by tests/test_codegen.py on every golden case and on generated facts.
"""

from __future__ import annotations

import ast
import decimal
import itertools
import sys
import types
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Callable, Dict, List, Optional, Tuple

from . import nodes as n
from .checker import (CheckedIndicator, CheckedSet, FactInfo, LetInfo, Scope, step_parts)
from .compiler import _UNSET, LeafPlan, _repeated_calls
from .facts import _SMALL_INTS, coerce, plain_mapping
from .numbers import CONTEXT, ONE, ZERO, _SNAP, round_in_context

# A leaf's clause number carries this bit when a `flag` fired: the caller then asks
# the interpreter for the warning's wording.
FLAGGED = 1 << 20


class Unsupported(Exception):
    """The generator met something it does not compile; the interpreter is used instead."""


class _Fail(Exception):
    """Raised by generated code: this leaf cannot be scored; the interpreter says why."""


# Markers in an evaluation record (see Program.evaluate_all).
FAILED = object()  # the leaf raised
SKIPPED = object()  # the leaf (or an ancestor) is marked not applicable in the facts


# ---------------------------------------------------------------- resolved rules
#
# Phase 1 mirrors compiler._LeafCompiler step by step — the same clause order, the same
# let registration, the same fact slots and memo keys — but builds this small tree of
# resolved operations instead of closures. Phase 2 turns the tree into Python code in
# the order it runs.


class _Const:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Full:
    """``full`` read at run time: inside a let, whose value the first point to need it fixes."""

    __slots__ = ()


class _Fact:
    __slots__ = ("slot",)

    def __init__(self, slot: int):
        self.slot = slot


class _Memo:
    """A let, or a sub-expression written more than once: computed on first use."""

    __slots__ = ("key", "body")

    def __init__(self, key, body=None):
        self.key = key
        self.body = body


class _Op:
    __slots__ = ("kind", "args", "info", "reused")

    def __init__(self, kind: str, args: tuple, info=None):
        self.kind = kind
        self.args = args
        self.info = info
        self.reused = False  # the same written expression used again (a step's subject)


class _Rule:
    __slots__ = ("deciders", "floors", "caps", "most", "flags", "weight")

    def __init__(self, weight):
        self.deciders: List[tuple] = []  # (kind, clause number, parts …)
        self.floors: List[object] = []
        self.caps: List[object] = []
        self.most: List[object] = []
        self.flags: List[object] = []
        self.weight = weight


_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "of": ast.Mult}
_COMPARE = {">=": ast.GtE, "<=": ast.LtE, ">": ast.Gt, "<": ast.Lt, "==": ast.Eq,
            "!=": ast.NotEq}


class _Resolver:
    """Phase 1 for one leaf: the interpreter's compile walk, producing resolved trees."""

    def __init__(self, checked: CheckedSet, leaf: CheckedIndicator):
        self.checked = checked
        self.leaf = leaf
        self.fact_slot: Dict[Tuple[str, bool, Optional[str]], int] = {}
        self.slots: List[Tuple[str, FactInfo, bool]] = []
        # The point whose rule is being resolved: as in the interpreter, its names get
        # slots (and its lets memos) of their own.
        self.point: Optional[str] = None
        self.memos: Dict[object, _Memo] = {}
        self.shared = _repeated_calls(leaf)
        # The same node object met again in the same scope — a step's subject is its
        # guard's — is the same computation: its value, once known, is used again.
        self.same: Dict[tuple, object] = {}
        self.static_full: Optional[Decimal] = None  # None inside a let's value
        self.clause_texts: List[str] = []
        self.uses_assess = False

    def resolve(self):
        leaf = self.leaf
        if leaf.points:
            parts = []
            for point in leaf.points:
                scope = Scope(leaf.scope, f"{leaf.code}/{point.label}")
                self.point = point.label
                parts.append((point.weight, self.rule(point.rule, scope, point.weight)))
            self.point = None
            self.clause_texts = ["points"]
            return parts
        scope = Scope(leaf.scope, leaf.code)
        return self.rule(leaf.rule, scope, leaf.weight)

    def rule(self, rule: n.Rule, scope: Scope, weight: Decimal) -> _Rule:
        out = _Rule(weight)
        guards = []
        for clause in rule.clauses:
            self.static_full = weight
            if isinstance(clause, n.Let):
                binding = scope.names.get(clause.name)
                if not isinstance(binding, LetInfo):
                    binding = LetInfo(clause, scope)
                    scope.names[clause.name] = binding
            elif isinstance(clause, n.Guarded):
                cond = self.condition(clause.condition, scope)
                outcome = self.outcome(clause.outcome, scope)
                out.deciders.append(("guard", self.clause(clause), cond, outcome))
                guards.append(clause)
            elif isinstance(clause, n.Otherwise):
                out.deciders.append(("else", self.clause(clause),
                                     self.outcome(clause.outcome, scope)))
            elif isinstance(clause, n.Result):
                out.deciders.append(("result", self.clause(clause),
                                     self.outcome(clause.value, scope)))
            elif isinstance(clause, n.Step):
                out.deciders.append(self.step(clause, list(guards), scope))
            elif isinstance(clause, n.Each):
                count = self.expr(clause.count, scope)
                delta = self.expr(clause.delta, scope)
                base = self.expr(clause.base, scope) if clause.base is not None else None
                out.deciders.append(("each", self.clause(clause), count, delta, base))
            elif isinstance(clause, n.Floor):
                out.floors.append(self.expr(clause.value, scope))
            elif isinstance(clause, n.Cap):
                out.caps.append(self.expr(clause.value, scope))
            elif isinstance(clause, n.DeductAtMost):
                out.most.append(self.expr(clause.value, scope))
            elif isinstance(clause, n.Flag):
                out.flags.append(self.condition(clause.condition, scope))
            elif isinstance(clause, n.Published):
                key = ("published", False, None)
                if key not in self.fact_slot:
                    self.fact_slot[key] = len(self.slots)
                    self.slots.append(("published", None, False))
                out.deciders.append(("published", self.clause(clause),
                                     _Fact(self.fact_slot[key])))
        return out

    def clause(self, clause) -> int:
        self.clause_texts.append(self.checked.text_of(clause))
        return len(self.clause_texts) - 1

    def outcome(self, outcome, scope):
        if isinstance(outcome, n.NotApplicable):
            return None
        return self.expr(outcome, scope)

    def step(self, clause: n.Step, guards, scope):
        subject_expr, ref_expr = step_parts(clause, guards)
        subject = self.expr(subject_expr, scope)
        reference = self.expr(ref_expr, scope)
        size = self.expr(clause.size, scope)
        delta = self.expr(clause.delta, scope)
        base = self.expr(clause.base, scope) if clause.base is not None else None
        return ("step", self.clause(clause), subject, reference, size, delta, base,
                clause.mode, clause.direction)

    # --- expressions (compiler._LeafCompiler.condition / expr / _expr …)
    def condition(self, expr, scope):
        if isinstance(expr, n.Name):
            return self.expr(expr, scope)
        if isinstance(expr, n.Not):
            return _Op("not", (self.condition(expr.operand, scope),))
        if isinstance(expr, n.Logical):
            a = self.condition(expr.left, scope)
            b = self.condition(expr.right, scope)
            return _Op(expr.op, (a, b))
        return self.expr(expr, scope)

    def expr(self, expr, scope, allow_list=False):
        if expr in self.shared and not allow_list:
            key = ("shared", expr, id(scope))
            memo = self.memos.get(key)
            if memo is None:
                memo = self.memos[key] = _Memo(key)
                memo.body = self._expr(expr, scope, False)
            if isinstance(memo.body, _Const):
                return memo.body
            return memo
        if isinstance(expr, (n.Call, n.Binary)):
            key = (id(expr), id(scope), allow_list)
            found = self.same.get(key)
            if found is not None:
                if isinstance(found, _Op):
                    found.reused = True
                return found
            found = self.same[key] = self._expr(expr, scope, allow_list)
            return found
        return self._expr(expr, scope, allow_list)

    def _expr(self, expr, scope, allow_list=False):
        if isinstance(expr, (n.Number, n.String, n.Boolean)):
            return _Const(expr.value)
        if isinstance(expr, (n.Full, n.WeightRef)):
            return _Const(self.static_full) if self.static_full is not None else _Full()
        if isinstance(expr, n.Name):
            return self.name(expr, scope, allow_list)
        if isinstance(expr, n.Unary):
            inner = self.expr(expr.operand, scope)
            if expr.op == "-":
                return _fold(_Op("neg", (inner,)))
            return inner
        if isinstance(expr, n.Binary):
            a, b = self.expr(expr.left, scope), self.expr(expr.right, scope)
            return _fold(_Op("div" if expr.op == "/" else expr.op, (a, b)))
        if isinstance(expr, n.Compare):
            a, b = self.expr(expr.left, scope), self.expr(expr.right, scope)
            return _Op("cmp", (a, b), expr.op)
        if isinstance(expr, (n.Logical, n.Not)):
            return self.condition(expr, scope)
        if isinstance(expr, n.InInterval):
            s = self.expr(expr.subject, scope)
            lo = self.expr(expr.interval.low, scope)
            hi = self.expr(expr.interval.high, scope)
            return _Op("within", (s, lo, hi),
                       (expr.interval.low_closed, expr.interval.high_closed))
        if isinstance(expr, n.Call):
            return self.call(expr, scope)
        raise Unsupported(f"cannot compile {expr!r}")

    def name(self, expr: n.Name, scope: Scope, allow_list: bool):
        binding = scope.lookup(expr.name)
        if isinstance(binding, LetInfo):
            key = ("let", id(binding), self.point)
            memo = self.memos.get(key)
            if memo is None:
                memo = self.memos[key] = _Memo(key)
                saved, self.static_full = self.static_full, None
                try:
                    memo.body = self.expr(binding.let.value, binding.scope)
                finally:
                    self.static_full = saved
            return memo
        info = binding if isinstance(binding, FactInfo) else self.checked.facts.get(expr.name)
        if info is None:
            info = FactInfo(expr.name, "number", declared=False)
        key = (expr.name, allow_list, self.point)
        if key not in self.fact_slot:
            self.fact_slot[key] = len(self.slots)
            self.slots.append((expr.name, info, allow_list))
        return _Fact(self.fact_slot[key])

    def call(self, expr: n.Call, scope):
        f = expr.func
        if f in ("sum", "mean", "min", "max"):
            args = tuple(self.expr(a, scope, allow_list=True) for a in expr.args)
            listy = tuple(isinstance(a, _Fact) and self.slots[a.slot][2] for a in args)
            return _Op("agg", args, (f, listy))
        args = tuple(self.expr(a, scope) for a in expr.args)
        if f == "assess":
            self.uses_assess = True
        if f in ("ratio", "abs", "clamp", "linear", "round", "assess"):
            return _Op(f, args)
        raise Unsupported(f"unknown function {f}")


def _fold(op: _Op):
    """Arithmetic on constants done now, with the operation the interpreter would run."""
    if not all(isinstance(a, _Const) and a.value.__class__ is Decimal for a in op.args):
        return op
    values = [a.value for a in op.args]
    try:
        with decimal.localcontext(CONTEXT):
            if op.kind == "neg":
                return _Const(-values[0])
            a, b = values
            if op.kind == "+":
                return _Const(a + b)
            if op.kind == "-":
                return _Const(a - b)
            if op.kind in ("*", "of"):
                return _Const(a * b)
            if op.kind == "div" and b != 0:
                return _Const(a / b)
    except ArithmeticError:
        pass
    return op


# ----------------------------------------------------------------- code emission


def _name(ident: str) -> ast.Name:
    return ast.Name(ident, ast.Load())


def _store(ident: str) -> ast.Name:
    return ast.Name(ident, ast.Store())


def _assign(ident: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([_store(ident)], value)


def _call(func: ast.expr, *args, **keywords) -> ast.Call:
    return ast.Call(func, list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def _attr(value: ast.expr, attr: str) -> ast.Attribute:
    return ast.Attribute(value, attr, ast.Load())


def _compare(left, op, right) -> ast.Compare:
    return ast.Compare(left, [op()], [right])


def _raise_fail() -> ast.Raise:
    return ast.Raise(_name("_Fail"), None)


def _is_simple(e: ast.expr) -> bool:
    return isinstance(e, (ast.Name, ast.Constant))


class _Constants:
    """The globals of the generated code: values from the set, under generated names."""

    def __init__(self):
        self.table: Dict[str, object] = {"__builtins__": {}}
        self._by_id: Dict[int, str] = {}
        self._count = itertools.count()

    def name(self, value) -> ast.expr:
        if value is None or value is True or value is False:
            return ast.Constant(value)
        key = id(value)
        ident = self._by_id.get(key)
        if ident is None:
            ident = f"_k{next(self._count)}"
            self._by_id[key] = ident
            self.table[ident] = value
        return _name(ident)

    def bind(self, ident: str, value) -> ast.Name:
        self.table[ident] = value
        return _name(ident)


# Per kind: (checks a value needs to be taken as it is, without calling coerce()).
_PLAIN_KINDS = ("number", "money")


class _LeafEmitter:
    """Phase 2 for one leaf: resolved trees → statements, in the order they run.

    ``known`` holds the memo keys (facts, lets, repeated sub-expressions) certainly
    computed on every path to the current point; ``ever`` those computed on some path
    before it. A use reads the variable when known, computes the value when never
    computed before, and otherwise guards the computation with ``is _U``.
    """

    def __init__(self, prog: "_ProgramBuilder", index: int, resolved, layout: "LeafLayout",
                 raw: bool = False):
        self.prog = prog
        self.consts = prog.consts
        self.layout = layout
        self.resolved = resolved
        self.p = f"v{index}_"
        self.out: List[ast.stmt] = []
        self.known: Optional[set] = set()
        self.ever: set = set()
        self.guarded: set = set()  # memo variables that need `= _U` first
        self.var: Dict[object, str] = {}
        self._tmp = itertools.count()
        self.table = None  # the variable holding the leaf's own facts table
        self.raw = raw  # reading a plain mapping instead of Facts
        self.score = None  # the variable of the rounded score, set where a clause decides

    # --- helpers
    def tmp(self) -> str:
        return f"{self.p}t{next(self._tmp)}"

    def emit(self, stmt: ast.stmt):
        self.out.append(stmt)

    def force(self, e: ast.expr) -> ast.expr:
        if _is_simple(e):
            return e
        t = self.tmp()
        self.emit(_assign(t, e))
        return _name(t)

    def block(self, fn) -> Tuple[List[ast.stmt], Optional[set]]:
        """Run fn() into a separate block starting from the current knowledge."""
        saved_out, saved_known = self.out, self.known
        self.out = []
        self.known = set(saved_known) if saved_known is not None else None
        try:
            fn()
            return self.out, self.known
        finally:
            self.out, self.known = saved_out, saved_known

    def branch(self, test: ast.expr, then_fn, else_fn=None):
        then_body, then_known = self.block(then_fn)
        if else_fn is not None:
            else_body, else_known = self.block(else_fn)
        else:
            else_body = []
            else_known = set(self.known) if self.known is not None else None
        self.emit(ast.If(test, then_body or [ast.Pass()], else_body))
        if then_known is None:
            self.known = else_known
        elif else_known is None:
            self.known = then_known
        else:
            self.known = then_known & else_known

    def fail_if(self, test: ast.expr):
        self.emit(ast.If(test, [_raise_fail()], []))

    def memo(self, key, compute: Callable[[], ast.expr]) -> ast.expr:
        ident = self.var.get(key)
        if ident is None:
            ident = self.var[key] = key[1] if key[0] == "fact" else self.tmp()
        if self.known is None:  # code after a raise: never runs, any knowledge will do
            self.known = set()
        if key in self.known:
            return _name(ident)
        if key in self.ever:
            self.guarded.add(ident)

            def fill():
                self.emit(_assign(ident, compute()))

            self.branch(_compare(_name(ident), ast.Is, _name("_U")), fill)
        else:
            self.ever.add(key)
            self.emit(_assign(ident, compute()))
        self.ever.add(key)
        self.known.add(key)
        return _name(ident)

    # --- facts
    def fact(self, slot: int) -> ast.expr:
        return self.memo(("fact", self.layout.fact_vars[slot]), lambda: self.read(slot))

    def read(self, slot: int) -> ast.expr:
        layout = self.layout
        name, info, allow_list, _ = layout.plan.fact_slots[slot]
        c = self.consts
        found = self.tmp()
        if self.table is None:
            raise Unsupported("facts table not prepared")  # pragma: no cover
        rest = layout.plan.chain[1:]
        if slot in layout.plan.own_only:  # `published`: the leaf's own facts only
            rest = None
        value = self.tmp()
        if self.raw:
            # A plain mapping (facts.plain_mapping), read as Facts.from_mapping would read
            # it: a key given with None is given (the rule then fails), ints and floats
            # become decimals.
            missing = _name("_MISS")
            self.emit(_assign(found, _call(_attr(_name(self.table), "get"), c.name(name),
                                           missing)))
            look = _call(_name("_find_raw"), _name("ind"), _name("proj"), c.name(rest),
                         c.name(name)) if rest is not None else _name("_MISS")
            self.emit(ast.If(_compare(_name(found), ast.Is, missing),
                             [_assign(found, look),
                              ast.If(_compare(_name(found), ast.Is, missing),
                                     [_raise_fail()], [])], []))
            self.emit(_assign(value, _name(found)))
            cls = _attr(_name(value), "__class__")
            small = self.tmp()
            self.emit(ast.If(_compare(cls, ast.Is, _name("_int")), [
                _assign(small, _call(_attr(_name("_SMALL"), "get"), _name(value))),
                _assign(value, ast.IfExp(_compare(_name(small), ast.IsNot, ast.Constant(None)),
                                         _name(small), _call(_name("_D"), _name(value))))],
                [ast.If(_compare(cls, ast.Is, _name("_float")),
                        [_assign(value, _call(_name("_float_decimal"), _name(value)))], [])]))
        else:
            self.emit(_assign(found, _call(_attr(_name(self.table), "get"), c.name(name))))
            if rest is None:
                look = ast.Constant(None)
            elif rest:
                look = _call(_name("_find"), _name("ind"), _name("proj"), c.name(rest),
                             c.name(name))
            else:
                look = _call(_attr(_name("proj"), "get"), c.name(name))
            self.emit(ast.If(_compare(_name(found), ast.Is, ast.Constant(None)),
                             [_assign(found, look),
                              ast.If(_compare(_name(found), ast.Is, ast.Constant(None)),
                                     [_raise_fail()], [])], []))
            self.emit(_assign(value, _attr(_name(found), "value")))
        coercer = self.consts.bind(f"_c{self.p}{slot}", self.prog.coercer(name, info,
                                                                           allow_list))
        slow = [_assign(value, _call(coercer, _name(value)))]
        v = _name(value)
        is_decimal = _compare(_attr(v, "__class__"), ast.Is, _name("_D"))
        not_decimal = _compare(_attr(v, "__class__"), ast.IsNot, _name("_D"))
        kind = info.kind
        # A decimal inside the declared range is taken as it is, as coerce() takes it.
        within = self.in_domain(v, info.domain) if info.domain is not None else []
        if allow_list:
            self.out.extend(slow)
        elif kind in _PLAIN_KINDS:
            if within:
                ok = ast.BoolOp(ast.And(), [is_decimal] + within)
                self.emit(ast.If(ast.UnaryOp(ast.Not(), ok), slow, []))
            else:
                self.emit(ast.If(not_decimal, slow, []))
        elif kind == "count":
            whole = _compare(v, ast.Eq, _call(_attr(v, "to_integral_value")))
            ok = ast.BoolOp(ast.And(), [is_decimal, _compare(v, ast.GtE, ast.Constant(0)), whole]
                            + within)
            self.emit(ast.If(ast.UnaryOp(ast.Not(), ok), slow, []))
        elif kind == "percent":
            ok = ast.BoolOp(ast.And(), [is_decimal, ast.Compare(
                self.consts.name(Decimal(-10)), [ast.LtE(), ast.LtE()],
                [v, self.consts.name(Decimal(10))])] + within)
            self.emit(ast.If(ast.UnaryOp(ast.Not(), ok), slow, []))
        elif info.domain is not None:
            self.out.extend(slow)
        elif kind == "bool":
            ok = ast.BoolOp(ast.Or(), [_compare(v, ast.Is, ast.Constant(True)),
                                       _compare(v, ast.Is, ast.Constant(False))])
            self.emit(ast.If(ast.UnaryOp(ast.Not(), ok), slow, []))
        elif kind == "level":
            # The declared level itself (equal text) is kept: one object for all projects.
            levels = self.consts.name({level: level for level in info.levels})
            is_text = _compare(_attr(v, "__class__"), ast.Is, _name("_str"))
            declared = self.tmp()
            self.emit(_assign(declared, ast.IfExp(is_text, _call(_attr(levels, "get"), v),
                                                  ast.Constant(None))))
            self.emit(ast.If(_compare(_name(declared), ast.Is, ast.Constant(None)), slow,
                             [_assign(value, _name(declared))]))
        elif kind == "text":
            self.emit(ast.If(_compare(_attr(v, "__class__"), ast.IsNot, _name("_str")),
                             slow, []))
        else:
            self.out.extend(slow)
        return v

    def in_domain(self, v: ast.expr, domain) -> List[ast.expr]:
        """Interval.contains() for a decimal, as comparisons (infinite ends need none)."""
        tests = []
        if domain.lo.is_finite():
            tests.append(_compare(self.consts.name(domain.lo),
                                  ast.LtE if domain.lo_closed else ast.Lt, v))
        if domain.hi.is_finite():
            tests.append(_compare(v, ast.LtE if domain.hi_closed else ast.Lt,
                                  self.consts.name(domain.hi)))
        return tests or [ast.Constant(True)]

    # --- values
    def value(self, ir) -> ast.expr:
        if isinstance(ir, _Const):
            return self.consts.name(ir.value)
        if isinstance(ir, _Full):
            return _name("full_")
        if isinstance(ir, _Fact):
            return self.fact(ir.slot)
        if isinstance(ir, _Memo):
            if isinstance(ir.body, _Const):
                return self.consts.name(ir.body.value)
            return self.memo(ir.key, lambda: self.value(ir.body))
        if ir.reused:
            key = ("same", id(ir))
            if self.known is not None and key in self.known:
                return _name(self.var[key])
            ir.reused = False  # computed here as any expression …
            try:
                t = self.force(self.value(ir))
            finally:
                ir.reused = True
            if isinstance(t, ast.Name):  # … and its variable used where this is known
                self.var[key] = t.id
                if self.known is not None:
                    self.known.add(key)
            return t
        kind, args = ir.kind, ir.args
        if kind == "neg":
            return ast.UnaryOp(ast.USub(), self.value(args[0]))
        if kind in _ARITH:
            a = self.value(args[0])
            b = self.value(args[1])
            return ast.BinOp(a, _ARITH[kind](), b)
        if kind in ("div", "ratio"):
            d = self.force(self.value(args[1]))
            if not (isinstance(args[1], _Const) and args[1].value != 0):
                self.fail_if(_compare(d, ast.Eq, ast.Constant(0)))
            return ast.BinOp(self.value(args[0]), ast.Div(), d)
        if kind == "cmp":
            a = self.value(args[0])
            b = self.value(args[1])
            return _compare(a, _COMPARE[ir.info], b)
        if kind in ("and", "or"):
            return self.logical(kind, args)
        if kind == "not":
            return ast.UnaryOp(ast.Not(), self.value(args[0]))
        if kind == "within":
            s, lo, hi = (self.force(self.value(a)) for a in args)
            lo_closed, hi_closed = ir.info
            return ast.BoolOp(ast.And(), [
                _compare(s, ast.GtE if lo_closed else ast.Gt, lo),
                _compare(s, ast.LtE if hi_closed else ast.Lt, hi)])
        if kind == "agg":
            return self.aggregate(ir)
        if kind == "abs":
            return _call(_name("_abs"), self.value(args[0]))
        if kind == "clamp":
            x, lo, hi = (self.value(a) for a in args)
            return _call(_name("_min"), _call(_name("_max"), x, lo), hi)
        if kind == "linear":
            x = self.value(args[0])
            lo = self.force(self.value(args[1]))
            hi = self.force(self.value(args[2]))
            self.fail_if(_compare(hi, ast.LtE, lo))
            v = self.force(ast.BinOp(ast.BinOp(x, ast.Sub(), lo), ast.Div(),
                                     ast.BinOp(hi, ast.Sub(), lo)))
            return ast.IfExp(_compare(v, ast.Lt, ast.Constant(0)), _name("_ZERO"),
                             ast.IfExp(_compare(v, ast.Gt, ast.Constant(1)), _name("_ONE"), v))
        if kind == "round":
            x = self.value(args[0])
            s = self.force(self.value(args[1]))
            self.fail_if(_compare(s, ast.LtE, ast.Constant(0)))
            return _call(_name("_round"), x, s)
        if kind == "assess":
            x, lo, hi = (self.force(self.value(a)) for a in args)
            self.fail_if(ast.BoolOp(ast.Or(), [_compare(x, ast.Lt, lo), _compare(x, ast.Gt, hi)]))
            return x
        raise Unsupported(kind)  # pragma: no cover

    def logical(self, kind, args) -> ast.expr:
        """``a and b`` / ``a or b``: b is computed only when a does not decide."""
        a = self.value(args[0])
        result = {}

        def right():
            result["b"] = self.value(args[1])

        body, _ = self.block(right)  # what b needs first, known only inside the branch
        if not body:  # nothing to compute first: Python's own and/or is the interpreter's
            return ast.BoolOp(ast.And() if kind == "and" else ast.Or(), [a, result["b"]])
        t = self.tmp()
        self.emit(_assign(t, a))
        test = _name(t) if kind == "and" else ast.UnaryOp(ast.Not(), _name(t))
        self.emit(ast.If(test, body + [_assign(t, result["b"])], []))
        return _name(t)

    def aggregate(self, ir) -> ast.expr:
        func, listy = ir.info
        values = [self.value(a) for a in ir.args]
        if any(listy):
            items = self.force(_call(_name("_flat"), *values))
            if func == "sum":
                return _call(_name("_sum"), items, _name("_ZERO"))
            if func == "mean":
                return ast.BinOp(_call(_name("_sum"), items, _name("_ZERO")), ast.Div(),
                                 _call(_name("_len"), items))
            return _call(_name("_min" if func == "min" else "_max"), items)
        if func in ("sum", "mean"):
            total: ast.expr = _name("_ZERO")
            for v in values:
                total = ast.BinOp(total, ast.Add(), v)
            if func == "sum":
                return total
            return ast.BinOp(total, ast.Div(), ast.Constant(len(values)))
        if len(values) == 1:
            return values[0]
        return _call(_name("_min" if func == "min" else "_max"), *values)

    # --- rules
    def leaf_body(self, init_facts: bool = True, score: Optional[str] = None) -> List[ast.stmt]:
        """Statements computing {p}raw (None: not applicable) and {p}cl, and with ``score``
        the rounded score into that variable (None when not applicable, clearing ``ok``)."""
        layout = self.layout
        raw, cl = f"{self.p}raw", f"{self.p}cl"
        if layout.fact_vars:
            self.table = f"{self.p}tb"
            self.emit(_assign(self.table, ast.BoolOp(ast.Or(), [
                _call(_attr(_name("ind"), "get"), self.consts.name(layout.code)),
                _name("_EMPTY")])))
        if layout.points:
            total = f"{self.p}sum"
            self.emit(_assign(total, _name("_ZERO")))
            for weight, rule in self.resolved:
                self.emit(_assign("full_", self.consts.name(weight)))
                self.rule(rule, raw, cl)
                if _can_be_na(rule):
                    self.fail_if(_compare(_name(raw), ast.Is, ast.Constant(None)))
                self.emit(_assign(total, ast.BinOp(_name(total), ast.Add(),
                                                   self.prog.round_leaf(_name(raw)))))
            self.emit(_assign(raw, _name(total)))
            self.emit(_assign(cl, ast.Constant(0)))
            if score is not None:
                self.emit(_assign(score, self.prog.round_leaf(_name(raw))))
        elif score is not None and self.resolved.most + self.resolved.floors + \
                self.resolved.caps:
            self.rule(self.resolved, raw, cl)
            self.emit(self.rounded(raw, score))
        else:
            # Rounded where each clause decides: a constant score is rounded now, once.
            self.score = score
            self.rule(self.resolved, raw, cl)
        if layout.has_flags:
            self.emit(ast.If(_name(f"{self.p}fl"), [_assign(cl, ast.BinOp(
                _name(cl), ast.BitOr(), ast.Constant(FLAGGED)))], []))
        uses_full = any(isinstance(node, ast.Name) and node.id == "full_" and
                        isinstance(node.ctx, ast.Load) for stmt in self.out
                        for node in ast.walk(stmt))
        prologue = [_assign("full_", self.consts.name(layout.weight))] if uses_full else []
        if not uses_full:  # (the points set it for their lets; none reads it)
            self.out = [stmt for stmt in self.out if not (
                isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) and
                stmt.targets[0].id == "full_")]
        if init_facts == "guarded":
            unset = sorted(self.guarded)
        else:
            unset = sorted(self.guarded - set(layout.fact_vars))
            if layout.fact_vars and init_facts:
                prologue.append(ast.Assign([_store(v) for v in layout.fact_vars], _name("_U")))
        if unset:
            prologue.append(ast.Assign([_store(v) for v in unset], _name("_U")))
        if layout.has_flags:
            prologue.append(_assign(f"{self.p}fl", ast.Constant(False)))
        return prologue + self.out

    def rule(self, rule: _Rule, raw: str, cl: str):
        full = self.consts.name(rule.weight)

        def chain(i: int):
            if i == len(rule.deciders):
                self.emit(_raise_fail())  # no clause applies
                self.known = None
                return
            d = rule.deciders[i]
            kind = d[0]
            if kind == "guard":
                _, number, cond, outcome = d
                test = self.value(cond)

                def then():
                    self.decided(raw, cl, number, outcome)

                self.branch(test, then, lambda: chain(i + 1))
            elif kind in ("else", "result"):
                self.decided(raw, cl, d[1], d[2])
            elif kind == "step":
                self.step(d, raw, cl, full)
            elif kind == "each":
                self.each(d, raw, cl, full)
            elif kind == "published":  # the report's own figure, within the weight
                _, number, fact = d
                value = self.force(self.value(fact))
                self.fail_if(_compare(value, ast.Gt, full))
                self.emit(_assign(raw, value))
                self.emit(_assign(cl, ast.Constant(number)))
                if self.score is not None:
                    self.emit(_assign(self.score, self.prog.round_leaf(_name(raw))))

        chain(0)
        for cond in rule.flags:
            test = self.value(cond)
            self.emit(ast.If(test, [_assign(f"{self.p}fl", ast.Constant(True))], []))
        def limits():
            for ir in rule.most:
                limit = self.value(ir)
                t = self.force(ast.BinOp(full, ast.Sub(), limit))
                self.emit(ast.If(_compare(_name(raw), ast.Lt, t), [_assign(raw, t)], []))
            for ir in rule.floors:
                low = self.force(self.value(ir))
                self.emit(ast.If(_compare(_name(raw), ast.Lt, low), [_assign(raw, low)], []))
            for ir in rule.caps:
                high = self.force(self.value(ir))
                self.emit(ast.If(_compare(_name(raw), ast.Gt, high), [_assign(raw, high)], []))

        if not (rule.most or rule.floors or rule.caps):
            return
        if _can_be_na(rule):
            self.branch(_compare(_name(raw), ast.IsNot, ast.Constant(None)), limits)
        else:
            limits()

    def decided(self, raw, cl, number, outcome):
        value = ast.Constant(None) if outcome is None else self.value(outcome)
        self.emit(_assign(raw, value))
        self.emit(_assign(cl, ast.Constant(number)))
        if self.score is None:
            return
        if outcome is None:
            self.emit(_assign(self.score, ast.Constant(None)))
            self.emit(_assign("ok", ast.Constant(False)))
            return
        if isinstance(outcome, _Const) and outcome.value.__class__ is Decimal:
            try:
                with decimal.localcontext(CONTEXT):
                    rounded = round_in_context(outcome.value, self.prog.step)
            except ArithmeticError:
                pass  # rounded when it runs, where it fails as the interpreter's does
            else:
                self.emit(_assign(self.score, self.consts.name(rounded)))
                return
        self.emit(_assign(self.score, self.prog.round_leaf(_name(raw))))

    def rounded(self, raw: str, score: str) -> ast.stmt:
        rounding = _assign(score, self.prog.round_leaf(_name(raw)))
        if not self.layout.can_na:
            return rounding
        return ast.If(_compare(_name(raw), ast.Is, ast.Constant(None)),
                      [_assign(score, ast.Constant(None)), _assign("ok", ast.Constant(False))],
                      [rounding])

    def step(self, d, raw, cl, full):
        _, number, subject, reference, size, delta, base, mode, direction = d
        s = self.force(self.value(subject))
        r = self.force(self.value(reference))
        z = self.force(self.value(size))
        if not (isinstance(size, _Const) and size.value > 0):
            self.fail_if(_compare(z, ast.LtE, ast.Constant(0)))
        distance = self.tmp()
        around = direction == "around"
        if direction == "below":
            gap = ast.BinOp(r, ast.Sub(), s)
        elif direction == "above":
            gap = ast.BinOp(s, ast.Sub(), r)
        else:  # off, and around (signed steps: the sign is put back below)
            gap = _call(_name("_abs"), ast.BinOp(s, ast.Sub(), r))
        self.emit(_assign(distance, gap))
        if not around:
            self.emit(ast.If(_compare(_name(distance), ast.Lt, ast.Constant(0)),
                             [_assign(distance, _name("_ZERO"))], []))
        quotient = ast.BinOp(_name(distance), ast.Div(), z)
        if mode == n.STEP_WHOLE:
            steps = _call(_attr(_call(_attr(quotient, "quantize"), _name("_SNAP")),
                                "to_integral_value"), rounding=_name("_FLOOR"))
        elif mode == n.STEP_STARTED:
            steps = _call(_attr(_call(_attr(quotient, "quantize"), _name("_SNAP")),
                                "to_integral_value"), rounding=_name("_CEIL"))
        else:
            steps = quotient
        if around:  # below the reference the steps count down
            counted = self.tmp()
            self.emit(_assign(counted, steps))
            self.emit(ast.If(_compare(s, ast.Lt, r),
                             [_assign(counted, ast.UnaryOp(ast.USub(), _name(counted)))], []))
            steps_var = _name(counted)
        else:
            steps_var = self.force(steps)
        dv = self.force(self.value(delta))
        b = self.base(base, delta, dv, full)
        self.emit(_assign(raw, ast.BinOp(b, ast.Add(), ast.BinOp(steps_var, ast.Mult(), dv))))
        self.emit(_assign(cl, ast.Constant(number)))
        if self.score is not None:
            self.emit(_assign(self.score, self.prog.round_leaf(_name(raw))))

    def base(self, base, delta, dv: ast.expr, full: ast.expr) -> ast.expr:
        """`from base`, or full for a deduction and 0 for a bonus (decided now when the
        step's change is a constant)."""
        if base is not None:
            return self.value(base)
        if isinstance(delta, _Const) and delta.value.__class__ is Decimal:
            return full if delta.value < 0 else _name("_ZERO")
        return ast.IfExp(_compare(dv, ast.Lt, ast.Constant(0)), full, _name("_ZERO"))

    def each(self, d, raw, cl, full):
        _, number, count, delta, base = d
        c = self.force(self.value(count))
        self.fail_if(_compare(c, ast.Lt, ast.Constant(0)))
        dv = self.force(self.value(delta))
        b = self.base(base, delta, dv, full)
        self.emit(_assign(raw, ast.BinOp(b, ast.Add(), ast.BinOp(c, ast.Mult(), dv))))
        self.emit(_assign(cl, ast.Constant(number)))
        if self.score is not None:
            self.emit(_assign(self.score, self.prog.round_leaf(_name(raw))))


def _can_be_na(rule) -> bool:
    if isinstance(rule, list):  # points
        return False
    for d in rule.deciders:
        if d[0] in ("guard", "else", "result") and d[-1] is None:
            return True
    return False


_TEXT_CACHE_SIZE = 4096


def _coercer(name, info: FactInfo, allow_list: bool):
    kind, unit, levels, domain = info.kind, info.unit, info.levels, info.domain
    # Texts already converted for this declaration ("95%", "2,128,504.6元"): the value is
    # immutable and depends on the text alone, and the same texts recur from project to
    # project and leaf to leaf. Errors are not kept: they are raised each time.
    texts: Dict[str, object] = {}

    def coerce_fact(raw):
        if raw.__class__ is str:
            value = texts.get(raw)
            if value is None:
                value = coerce(raw, kind, unit=unit, levels=levels, domain=domain,
                               allow_list=allow_list)
                if len(texts) < _TEXT_CACHE_SIZE and not isinstance(value, list):
                    texts[raw] = value
            return value
        return coerce(raw, kind, unit=unit, levels=levels, domain=domain,
                      allow_list=allow_list)

    return coerce_fact


def _find(indicators, project, codes, name):
    """A fact in the tables of a leaf's ancestors, then the project's (LeafPlan.read_fact)."""
    for code in codes:
        table = indicators.get(code)
        if table is not None:
            found = table.get(name)
            if found is not None:
                return found
    return project.get(name)


_MISS = object()


def _find_raw(indicators, project, codes, name):
    """_find for a plain mapping: the raw value, or _MISS."""
    for code in codes:
        table = indicators.get(code)
        if table is not None:
            found = table.get(name, _MISS)
            if found is not _MISS:
                return found
    if name == "indicators":
        return _MISS  # not a fact: the key of the indicators' facts
    return project.get(name, _MISS)


def _float_decimal(value: float) -> Decimal:
    return Decimal(repr(value))  # as Facts.from_mapping reads a float (checked in range)


def _flat(*values):
    out = []
    for v in values:
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    if not out:
        raise _Fail
    return out


# --------------------------------------------------------------------- programs


class LeafLayout:
    """Where one leaf's results sit in an evaluation record, and what words them."""

    __slots__ = ("index", "code", "plan", "weight", "chain", "points", "clause_texts",
                 "fact_vars", "offset", "has_flags", "can_na", "uses_assess", "width")

    def __init__(self, index: int, plan: LeafPlan):
        self.index = index
        self.code = plan.code
        self.plan = plan
        self.weight = plan.weight
        self.chain = plan.chain
        self.points = bool(plan.indicator.points)
        self.clause_texts: List[str] = []
        self.fact_vars = [f"v{index}_f{k}" for k in range(len(plan.fact_slots))]
        self.offset = 0  # of (raw, clause, fact values …) in the record
        self.has_flags = False
        self.can_na = False
        self.uses_assess = plan.uses_assess
        self.width = 2 + len(plan.fact_slots)


class Program:
    """A set's generated code and the layout of what it returns.

    ``scores_all(ind, proj, skip)`` gives the ``scores()`` dict (``skip``: a tuple of
    booleans, the leaves marked not applicable in the facts); ``evaluate_all`` gives
    (record, group scores, unrounded total), the last two None unless every leaf
    scored. The record holds every leaf's rounded score (or None, FAILED, SKIPPED),
    then per leaf (unrounded score, clause number, fact values read) at the leaf
    layout's offset. ``leaf_functions[i](ind, proj)`` gives one leaf's (unrounded,
    clause, fact values …).
    """

    def __init__(self):
        self.leaves: List[LeafLayout] = []
        self.group_codes: List[str] = []
        self.scores_all = None
        self.scores_entry = None  # scores(facts), once the caller has set the globals below
        self.scores_mapping = None  # scores(plain mapping), likewise
        self.evaluate_all = None
        self.leaf_functions: List[Callable] = []
        self.tree: Optional[ast.Module] = None  # what was compiled, for inspection
        self.resolved: list = []  # each leaf's resolved rule (vectorized.py runs them too)
        self.constants: Dict[str, object] = {}
        self.no_skip: tuple = ()


class _ProgramBuilder:
    def __init__(self, checked: CheckedSet, plans: Dict[str, LeafPlan]):
        self.checked = checked
        self.plans = plans
        self.consts = _Constants()
        self._coercers: Dict[tuple, Callable] = {}
        self.step = checked.leaf_step
        self.fast_round = _quantum(checked.leaf_step)
        self.total_round = _quantum(checked.total_step) if checked.total_step is not None \
            else None

    def coercer(self, name, info: FactInfo, allow_list: bool):
        """One converter per fact name and declaration, shared by the leaves reading it."""
        key = (name, info.kind, info.unit, info.levels, info.domain, allow_list)
        found = self._coercers.get(key)
        if found is None:
            found = self._coercers[key] = _coercer(name, info, allow_list)
        return found

    def round_leaf(self, raw: ast.expr) -> ast.expr:
        if self.fast_round is not None:
            return _call(_attr(raw, "quantize"), self.consts.name(self.fast_round),
                         _name("_HALF_UP"))
        return _call(_name("_round"), raw, self.consts.name(self.step))

    def round_total(self, total: ast.expr) -> ast.expr:
        if self.total_round is not None:
            return _call(_attr(total, "quantize"), self.consts.name(self.total_round),
                         _name("_HALF_UP"))
        return _call(_name("_round"), total, self.consts.name(self.checked.total_step))

    def build(self) -> Program:
        checked = self.checked
        prog = Program()
        resolved = []
        for index, leaf in enumerate(checked.leaves()):
            plan = self.plans[leaf.code]
            layout = LeafLayout(index, plan)
            resolver = _Resolver(checked, leaf)
            tree = resolver.resolve()
            mine = [(name, allow) for name, _, allow in resolver.slots]
            theirs = [(name, allow) for name, _, allow, _ in plan.fact_slots]
            if mine != theirs:
                raise Unsupported(f"{leaf.code}: fact slots differ from the interpreter's")
            layout.clause_texts = resolver.clause_texts
            rules = [r for _, r in tree] if layout.points else [tree]
            layout.has_flags = any(r.flags for r in rules)
            layout.can_na = not layout.points and _can_be_na(tree)
            prog.leaves.append(layout)
            resolved.append(tree)
        n_leaves = len(prog.leaves)
        groups = [node for node in reversed(list(checked.walk())) if not node.is_leaf]
        prog.group_codes = [g.code for g in groups]
        offset = n_leaves
        for layout in prog.leaves:
            layout.offset = offset
            offset += layout.width

        c = self.consts
        functions = []
        # One function per leaf.
        for layout, tree in zip(prog.leaves, resolved):
            em = _LeafEmitter(self, layout.index, tree, layout)
            stmts = em.leaf_body()
            p = em.p
            stmts.append(ast.Return(ast.Tuple(
                [_name(f"{p}raw"), _name(f"{p}cl")] + [_name(v) for v in layout.fact_vars],
                ast.Load())))
            functions.append(_function(f"_leaf{layout.index}", ["ind", "proj"], stmts))

        leaf_score = {layout.index: f"s{layout.index}" for layout in prog.leaves}
        scores_body: List[ast.stmt] = [_assign("ok", ast.Constant(True))]
        raw_body: List[ast.stmt] = [_assign("ok", ast.Constant(True))]
        evaluate_body: List[ast.stmt] = [_assign("ok", ast.Constant(True))]
        for layout, tree in zip(prog.leaves, resolved):
            i = layout.index
            s = leaf_score[i]
            p = f"v{i}_"
            skip_test = ast.Subscript(_name("skip"), ast.Constant(i), ast.Load())
            # scores(): failures propagate (the caller asks the interpreter why).
            stmts = _LeafEmitter(self, i, tree, layout).leaf_body(init_facts="guarded", score=s)
            scores_body.append(ast.If(skip_test, [_assign(s, ast.Constant(None)),
                                                  _assign("ok", ast.Constant(False))],
                                      stmts))
            raw_body += _LeafEmitter(self, i, tree, layout, raw=True).leaf_body(
                init_facts="guarded", score=s)
            # evaluate(): one leaf's failure does not stop the others.
            stmts = _LeafEmitter(self, i, tree, layout).leaf_body(init_facts=False, score=s)
            init = [ast.Assign([_store(v) for v in layout.fact_vars], _name("_U"))] \
                if layout.fact_vars else []
            failed = [_assign(s, _name("_FAILED")), _assign(f"{p}raw", ast.Constant(None)),
                      _assign(f"{p}cl", ast.Constant(0)), _assign("ok", ast.Constant(False))]
            guarded = ast.Try(stmts, [ast.ExceptHandler(_name("_Exception"), None, failed)],
                              [], [])
            skipped = [_assign(s, _name("_SKIPPED")), _assign(f"{p}raw", ast.Constant(None)),
                       _assign(f"{p}cl", ast.Constant(0)), _assign("ok", ast.Constant(False))]
            evaluate_body += init + [ast.If(skip_test, skipped, [guarded])]

        # Groups and total when every leaf scored: plain sums, as _rescaled() gives them.
        group_var = {}
        score_var = {layout.code: leaf_score[layout.index] for layout in prog.leaves}
        sums: List[ast.stmt] = []
        for k, g in enumerate(groups):
            total: ast.expr = _name("_ZERO")
            for child in g.children:
                total = ast.BinOp(total, ast.Add(), _name(score_var[child.code]))
            group_var[g.code] = score_var[g.code] = f"g{k}"
            sums.append(_assign(f"g{k}", total))
        top: ast.expr = _name("_ZERO")
        for root in checked.roots:
            top = ast.BinOp(top, ast.Add(), _name(score_var[root.code]))
        sums.append(_assign("total", top))  # the evaluation record keeps it unrounded
        rounded_sums = list(sums)
        if checked.total_step is not None:
            rounded_sums.append(_assign("total", self.round_total(_name("total"))))
        keys = [layout.code for layout in prog.leaves] + prog.group_codes + ["total"]
        values = [leaf_score[layout.index] for layout in prog.leaves] + \
            [group_var[g] for g in prog.group_codes] + ["total"]
        leaf_tuple = ast.Tuple([_name(leaf_score[layout.index]) for layout in prog.leaves],
                               ast.Load())
        scores_body.append(ast.If(ast.UnaryOp(ast.Not(), _name("ok")), [
            ast.Return(_call(_name("_na_scores"), leaf_tuple))], []))
        result = ast.Return(ast.Dict([c.name(k) for k in keys], [_name(v) for v in values]))
        raw_body.append(ast.If(ast.UnaryOp(ast.Not(), _name("ok")), [
            ast.Return(_call(_name("_na_scores"), leaf_tuple))], []))
        raw_body += rounded_sums + [result]
        scores_body += rounded_sums
        scores_body.append(result)
        functions.append(_function("_scores", ["ind", "proj", "skip"], scores_body))
        # scores(facts) itself: the exact context for the call, the leaves marked not
        # applicable, and the interpreter for any project the code cannot score.
        entry = [
            # a point's own facts table is read by the interpreter alone
            ast.If(_attr(_name("facts"), "points"),
                   [ast.Return(_call(_name("_interpreted"), _name("facts")))], []),
            _assign("skip", ast.IfExp(_attr(_name("facts"), "not_applicable"),
                                      _call(_name("_skip"), _name("facts")), _name("_NO_SKIP"))),
            _assign("ind", _attr(_name("facts"), "indicators")),
            _assign("proj", _attr(_name("facts"), "project")),
            _assign("saved", _call(_name("_getcontext"))),
            ast.Expr(_call(_name("_setcontext"), _name("_CTX"))),
            ast.Try(scores_body, [ast.ExceptHandler(_name("_Exception"), None, [
                ast.Return(_call(_name("_interpreted"), _name("facts")))])], [],
                [ast.Expr(_call(_name("_setcontext"), _name("saved")))]),
        ]
        functions.append(_function("_scores_entry", ["facts"], entry))
        # scores(mapping) for a plain mapping: read directly, no Facts built; anything
        # else, and any project the code cannot score, goes the whole way round.
        full = ast.Return(_call(_name("_by_facts"), _name("data")))
        raw_entry = [
            ast.If(ast.UnaryOp(ast.Not(), _call(_name("_plain_mapping"), _name("data"))),
                   [full], []),
            _assign("ind", ast.BoolOp(ast.Or(), [
                _call(_attr(_name("data"), "get"), _name("_INDICATORS")), _name("_EMPTY")])),
            _assign("proj", _name("data")),
            _assign("saved", _call(_name("_getcontext"))),
            ast.Expr(_call(_name("_setcontext"), _name("_CTX"))),
            ast.Try(raw_body, [ast.ExceptHandler(_name("_Exception"), None, [full])], [],
                    [ast.Expr(_call(_name("_setcontext"), _name("saved")))]),
        ]
        functions.append(_function("_scores_mapping", ["data"], raw_entry))

        groups_tuple = ast.Tuple([_name(group_var[g]) for g in prog.group_codes], ast.Load())
        evaluate_body.append(ast.If(_name("ok"), sums + [_assign("groups", groups_tuple)],
                                    [_assign("groups", ast.Constant(None)),
                                     _assign("total", ast.Constant(None))]))
        record: List[ast.expr] = [_name(leaf_score[layout.index]) for layout in prog.leaves]
        for layout in prog.leaves:
            p = f"v{layout.index}_"
            record += [_name(f"{p}raw"), _name(f"{p}cl")] + [_name(v) for v in layout.fact_vars]
        evaluate_body.append(ast.Return(ast.Tuple([ast.Tuple(record, ast.Load()),
                                                   _name("groups"), _name("total")],
                                                  ast.Load())))
        functions.append(_function("_evaluate", ["ind", "proj", "skip"], evaluate_body))

        module = ast.Module(functions, [])
        ast.fix_missing_locations(module)
        table = c.table
        table.update({
            "_U": _UNSET, "_D": Decimal, "_str": str, "_EMPTY": _EMPTY, "_Fail": _Fail,
            "_Exception": Exception, "_FAILED": FAILED, "_SKIPPED": SKIPPED,
            "_ZERO": ZERO, "_ONE": ONE, "_SNAP": _SNAP, "_FLOOR": ROUND_FLOOR,
            "_CEIL": ROUND_CEILING, "_HALF_UP": ROUND_HALF_UP, "_round": round_in_context,
            "_abs": abs, "_min": min, "_max": max, "_sum": sum, "_len": len,
            "_find": _find, "_flat": _flat, "_na_scores": self.na_scores(prog),
            "_find_raw": _find_raw, "_MISS": _MISS, "_int": int, "_float": float,
            "_SMALL": _SMALL_INTS, "_float_decimal": _float_decimal,
            "_plain_mapping": plain_mapping, "_INDICATORS": "indicators",
        })
        # The module is compiled, never run: its functions are made from their code
        # objects, with the constants table as their globals.
        code = compile(module, "<indicator-dsl generated>", "exec")
        made = {const.co_name: types.FunctionType(const, table, const.co_name)
                for const in code.co_consts if isinstance(const, types.CodeType)}
        prog.scores_all = made["_scores"]
        prog.scores_entry = made["_scores_entry"]
        prog.scores_mapping = made["_scores_mapping"]
        prog.evaluate_all = made["_evaluate"]
        prog.leaf_functions = [made[f"_leaf{layout.index}"] for layout in prog.leaves]
        prog.tree = module
        prog.constants = table
        prog.resolved = resolved
        prog.no_skip = (False,) * n_leaves
        return prog

    def na_scores(self, prog: Program):
        """scores() when some leaf is not applicable: the interpreter's group re-scaling."""
        from .evaluator import _combine_scores

        checked = self.checked
        codes = [layout.code for layout in prog.leaves]
        groups = [(node.code, node.weight, [(c.weight, c.code) for c in node.children],
                   node.node.na_policy)
                  for node in reversed(list(checked.walk())) if not node.is_leaf]
        roots = [(r.weight, r.code) for r in checked.roots]
        group_step, total_step = checked.group_step, checked.total_step
        total_weight, top_policy = checked.total, checked.header.na_policy

        def scores(leaf_scores):
            out = dict(zip(codes, leaf_scores))
            for code, weight, children, policy in groups:
                out[code] = _combine_scores([(w, out[c]) for w, c in children], weight,
                                            group_step, policy=policy)
            total = _combine_scores(roots, total_weight, group_step, out, policy=top_policy)
            if total is not None and total_step is not None:
                total = round_in_context(total, total_step)
            out["total"] = total
            return out

        return scores



_EMPTY: dict = {}


def _function(name: str, params: List[str], body: List[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    extra = {"type_params": []} if sys.version_info >= (3, 12) else {}
    return ast.FunctionDef(name=name, args=args, body=body or [ast.Pass()], decorator_list=[],
                           returns=None, **extra)


def _quantum(step: Optional[Decimal]) -> Optional[Decimal]:
    """The quantum for which value.quantize(q, ROUND_HALF_UP) equals round_in_context(value,
    step): steps written as a power of ten (0.1, 0.01, 1); None for others (0.5, 0.10)."""
    if step is None:
        return None
    sign, digits, exponent = step.as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int):
        return None
    return step


def build_program(checked: CheckedSet, plans: Dict[str, LeafPlan]) -> Program:
    """Generate, compile and load the code for a checked set (raises Unsupported)."""
    return _ProgramBuilder(checked, plans).build()
