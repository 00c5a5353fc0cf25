"""Chinese wording for justifications (评分说明): values, comparisons, outcomes."""

from __future__ import annotations

from decimal import Decimal

from .numbers import percent, plain

_TRUE_PHRASE = {">=": "达到", ">": "高于", "<=": "不超过", "<": "低于", "==": "等于",
                "!=": "不等于"}
_FALSE_PHRASE = {">=": "低于", ">": "未高于", "<=": "超过", "<": "不低于", "==": "不等于",
                 "!=": "等于"}
DIRECTION_PHRASE = {"below": "低于", "above": "高于", "off": "偏离"}
GAP_PHRASE = {"below": "差", "above": "超出", "off": "偏离"}
STEP_VERB = {"below": "低", "above": "高", "off": "偏离"}
MODE_PHRASE = {"whole": "按整档计，不足一档不计", "started": "不满一档按一档计",
               "pro rata": "按比例计"}


def show(value, as_percent: bool = False) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, list):
        return "、".join(show(v, as_percent) for v in value)
    if isinstance(value, Decimal):
        return percent(value) if as_percent else plain(value)
    return str(value)


def points(value: Decimal) -> str:
    return f"{plain(value)}分"


def comparison(label: str, left, op: str, right, holds: bool, as_percent: bool) -> str:
    if isinstance(left, str) and op in ("==", "!="):
        return f"{label}为{show(left)}"
    if isinstance(left, bool):
        return f"{label}：{show(left)}"
    phrase = (_TRUE_PHRASE if holds else _FALSE_PHRASE)[op]
    if op == "==" and holds:
        return f"{label}为{show(left, as_percent)}"
    return f"{label}为{show(left, as_percent)}，{phrase}{show(right, as_percent)}"


def within(label: str, value, band: str, holds: bool, as_percent: bool) -> str:
    return f"{label}为{show(value, as_percent)}，{'在' if holds else '不在'}{band}内"


def truth(label: str, value: bool) -> str:
    return f"{label}：{show(value)}"


def observation(item: tuple) -> str:
    """Word one thing a condition looked at (recorded by the compiled rule as a tuple)."""
    kind = item[0]
    if kind == "compare":
        _, label, left, op, right, holds, pct = item
        return comparison(label, left, op, right, holds, pct)
    if kind == "truth":
        return truth(item[1], item[2])
    if kind == "within":
        _, label, value, lo, hi, lo_closed, hi_closed, holds, pct = item
        band = ("[" if lo_closed else "(") + show(lo, pct) + ", " + show(hi, pct) + \
            ("]" if hi_closed else ")")
        return within(label, value, band, holds, pct)
    return item[1]


def observations(items, sep: str = "，") -> str:
    return sep.join(observation(i) for i in items)


def joined(items, phrase: str) -> str:
    seen = observations(items)
    return f"{seen}，{phrase}" if seen else phrase
