"""Chinese wording for justifications (评分说明): values, comparisons, formulas, outcomes.

Computation stays exact; only what is shown is rounded, to the precision a reader
needs: percentages to 2 decimals, points to the set's leaf rounding plus 2 decimals,
step counts whole or to 2 decimals. A shown value that had to be shortened says so
(「约」), so a justification never claims more precision than it shows, nor shows
forty digits.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Optional

from . import nodes as n
from .numbers import CONTEXT, percent, plain

_TRUE_PHRASE = {">=": "达到", ">": "高于", "<=": "不超过", "<": "低于", "==": "等于",
                "!=": "不等于"}
_FALSE_PHRASE = {">=": "低于", ">": "未高于", "<=": "超过", "<": "不低于", "==": "不等于",
                 "!=": "等于"}
DIRECTION_PHRASE = {"below": "低于", "above": "高于", "off": "偏离", "around": "偏离"}
GAP_PHRASE = {"below": "差", "above": "超出", "off": "偏离", "around": "偏离"}
STEP_VERB = {"below": "低", "above": "高", "off": "偏离", "around": "高（低）"}
MODE_PHRASE = {"whole": "按整档计，不足一档不计", "started": "不满一档按一档计",
               "pro rata": "按比例计"}

# Kinds of shown values: how each is displayed.
FACT, NUMBER, PERCENT, POINTS, STEPS, TEXT = "fact", "number", "percent", "points", "steps", \
    "text"


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _shortened(value: Decimal, places: int) -> str:
    """``value`` with at most ``places`` decimals, marked 约 when digits were dropped."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -places:
        return plain(value)  # no more decimals than that (huge numbers included)
    with decimal.localcontext(CONTEXT):
        try:
            rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except decimal.InvalidOperation:  # more digits than the context holds
            return plain(value)
    if rounded == value:
        return plain(value)
    return "约" + plain(rounded)


class Style:
    """How one set's justifications show numbers (it knows the leaf rounding)."""

    def __init__(self, leaf_step: Decimal = Decimal("0.01")):
        self.point_places = _places(leaf_step) + 2

    def number(self, value: Decimal) -> str:
        return _shortened(value, self.point_places) if value.is_finite() else plain(value)

    def points(self, value: Decimal) -> str:
        return f"{self.number(value)}分"

    def steps(self, value: Decimal) -> str:
        return _shortened(value, 2)

    def show(self, value, as_percent: bool = False) -> str:
        """A value in running text: yes/no, a quoted level, a list, a number or a percent."""
        if value is True:
            return "是"
        if value is False:
            return "否"
        if isinstance(value, str):
            return f"“{value}”"
        if isinstance(value, list):
            return "、".join(self.show(v, as_percent) for v in value)
        if isinstance(value, Decimal):
            return percent(value) if as_percent else self.number(value)
        return str(value)

    def shown(self, value, kind: str) -> str:
        """A value of the ``values`` table (JSON, reports) by its kind."""
        if kind == TEXT or isinstance(value, str):
            return value if isinstance(value, str) else str(value)
        if kind == PERCENT:
            return self.show(value, True)
        if kind == STEPS and isinstance(value, Decimal):
            return self.steps(value)
        return self.show(value, False)

    # --- conditions
    def comparison(self, label: str, left, op: str, right, holds: bool,
                   as_percent: bool) -> str:
        if isinstance(left, str) and op in ("==", "!="):
            return f"{label}为{self.show(left)}"
        if isinstance(left, bool):
            return f"{label}：{self.show(left)}"
        phrase = (_TRUE_PHRASE if holds else _FALSE_PHRASE)[op]
        if op == "==" and holds:
            return f"{label}为{self.show(left, as_percent)}"
        return f"{label}为{self.show(left, as_percent)}，{phrase}{self.show(right, as_percent)}"

    def observation(self, item: tuple) -> str:
        """Word one thing a condition looked at (recorded by the compiled rule as a tuple)."""
        kind = item[0]
        if kind == "compare":
            _, label, left, op, right, holds, pct = item
            return self.comparison(label, left, op, right, holds, pct)
        if kind == "truth":
            return f"{item[1]}：{self.show(item[2])}"
        if kind == "within":
            _, label, value, lo, hi, lo_closed, hi_closed, holds, pct = item
            band = ("[" if lo_closed else "(") + self.show(lo, pct) + ", " + \
                self.show(hi, pct) + ("]" if hi_closed else ")")
            return f"{label}为{self.show(value, pct)}，{'在' if holds else '不在'}{band}内"
        return item[1]

    def observations(self, items, sep: str = "，") -> str:
        return sep.join(self.observation(i) for i in items)

    def joined(self, items, phrase: str) -> str:
        seen = self.observations(items)
        return f"{seen}，{phrase}" if seen else phrase


DEFAULT = Style()


def show(value, as_percent: bool = False) -> str:
    return DEFAULT.show(value, as_percent)


def points(value: Decimal) -> str:
    return DEFAULT.points(value)


# ------------------------------------------------------------------ formulas

# Binding strength, loosest first, to know when a part needs （…）.
_PREC = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "of": 6, "*": 7, "/": 7,
         "unary": 8, "atom": 9}
_OPS = {"+": "+", "-": "−", "*": "×", "/": "÷", "of": "×"}
_CMP = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜", "==": "＝", "!=": "≠"}


def formula(expr, name: Callable[[n.Name], str], full_word: str = "满分") -> str:
    """An expression in Chinese: facts and values by their labels, functions in words.

    ``min(ratio(a, t), 1) of weight`` → 「实际值与目标值之比与100%中的较小者 × 权重」.
    ``name`` gives the words for a name (its label, or what a ``let`` computes)."""
    return _formula(expr, name, full_word)[0]


def _formula(expr, name, full_word) -> tuple:
    """(text, precedence)."""
    if isinstance(expr, n.Number):
        return (plain(expr.value * 100) + "%" if expr.is_percent else plain(expr.value)), 9
    if isinstance(expr, n.String):
        return f"“{expr.value}”", 9
    if isinstance(expr, n.Boolean):
        return ("是" if expr.value else "否"), 9
    if isinstance(expr, n.Full):
        return full_word, 9
    if isinstance(expr, n.WeightRef):
        return "权重", 9
    if isinstance(expr, n.Name):
        return name(expr), 9
    if isinstance(expr, n.Unary):
        inner = _wrap(expr.operand, 8, name, full_word)
        return (f"−{inner}" if expr.op == "-" else inner), 8
    if isinstance(expr, n.Binary):
        if expr.op == "of" and isinstance(expr.right, (n.Full, n.WeightRef)) and \
                isinstance(expr.left, n.Number):
            whole = _formula(expr.right, name, full_word)[0]
            share = _formula(expr.left, name, full_word)[0]
            return f"{whole}的{share}", 9
        prec = _PREC[expr.op]
        left = _wrap(expr.left, prec, name, full_word)
        right = _wrap(expr.right, prec + (1 if expr.op in ("-", "/") else 0), name, full_word)
        return f"{left}{_OPS[expr.op]}{right}", prec
    if isinstance(expr, n.Compare):
        left = _wrap(expr.left, 5, name, full_word)
        right = _wrap(expr.right, 5, name, full_word)
        return f"{left}{_CMP[expr.op]}{right}", 4
    if isinstance(expr, n.Logical):
        word = "且" if expr.op == "and" else "或"
        prec = _PREC[expr.op]
        return (f"{_wrap(expr.left, prec, name, full_word)}{word}"
                f"{_wrap(expr.right, prec, name, full_word)}"), prec
    if isinstance(expr, n.Not):
        return f"并非{_wrap(expr.operand, 3, name, full_word)}", 3
    if isinstance(expr, n.InInterval):
        iv = expr.interval
        low = _formula(iv.low, name, full_word)[0]
        high = _formula(iv.high, name, full_word)[0]
        band = ("[" if iv.low_closed else "(") + f"{low}, {high}" + \
            ("]" if iv.high_closed else ")")
        return f"{_wrap(expr.subject, 5, name, full_word)}在{band}内", 4
    if isinstance(expr, n.Call):
        return _call(expr, name, full_word), 9
    return "…", 9  # pragma: no cover - every expression kind is handled above


def _wrap(expr, parent: int, name, full_word) -> str:
    text, prec = _formula(expr, name, full_word)
    return f"（{text}）" if prec < parent else text


def _call(expr: n.Call, name, full_word) -> str:
    args = [_formula(a, name, full_word)[0] for a in expr.args]
    tight = [_wrap(a, 9, name, full_word) for a in expr.args]
    f = expr.func
    if f == "ratio":
        return f"{tight[0]}与{tight[1]}之比"
    if f in ("min", "max") and len(expr.args) == 2 and isinstance(expr.args[1], n.Number):
        # min(ratio(a, t), 1): the value, at most 1 — how standards say 「满分为止」
        return f"{tight[0]}（{'最高' if f == 'min' else '最低'}按{args[1]}计）"
    if f in ("min", "max"):
        which = "较小者" if f == "min" else "较大者"
        if len(args) == 1:
            return f"{tight[0]}中的{'最小值' if f == 'min' else '最大值'}"
        return f"{'与'.join(tight)}中的{which}"
    if f == "sum":
        return f"{'、'.join(tight)}之和" if len(args) > 1 else f"{tight[0]}之和"
    if f == "mean":
        return f"{'、'.join(tight)}的平均值"
    if f == "abs":
        return f"{tight[0]}的绝对值"
    if f == "clamp":
        return f"{tight[0]}（限定在{args[1]}至{args[2]}之间）"
    if f == "linear":
        return f"{tight[0]}在{args[1]}至{args[2]}之间的线性比例"
    if f == "round":
        return f"{tight[0]}按{args[1]}四舍五入"
    if f == "assess":
        return f"{tight[0]}（评价人在{args[1]}至{args[2]}之间给出）"
    return f"{f}（{'，'.join(args)}）"  # pragma: no cover - the checker knows every function


# ------------------------------------------------------------------ labels

# When several facts share one label (`fact actual, target: count "慰问人数"`), each is
# worded with what its name says it is, so no justification reads 「慰问人数与慰问人数之比」.
_QUALIFIERS = {
    "actual": "实际", "real": "实际", "target": "目标", "goal": "目标", "expected": "预期",
    "planned": "计划", "plan": "计划", "done": "完成", "completed": "完成",
    "finished": "完成", "budget": "预算", "spent": "实际支出", "used": "实际使用",
    "last_year": "上年", "previous": "上期", "this_year": "本年", "current": "本期",
    "baseline": "基准", "average": "平均", "min": "最低", "max": "最高", "total": "总",
    "before": "之前", "after": "之后", "required": "要求", "standard": "标准",
    "limit": "上限", "cap": "上限", "ceiling": "上限", "floor": "下限",
}


def distinct_label(label: str, name: str, sharing: tuple) -> str:
    """The words for fact ``name`` whose label ``label`` is shared by the facts ``sharing``."""
    if len(sharing) < 2:
        return label
    if any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return f"{label}（{name}）"
    qualifier = _QUALIFIERS.get(name.lower())
    if qualifier is not None:
        qualifiers = [_QUALIFIERS.get(other.lower()) for other in sharing]
        if qualifiers.count(qualifier) == 1:
            return label if label.startswith(qualifier) else f"{qualifier}{label}"
    return f"{label}（第{sharing.index(name) + 1}项）"
