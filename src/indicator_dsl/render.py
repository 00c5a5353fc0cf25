"""Evaluation → what an evaluator reads or hands in: a terminal table, JSON, Markdown.

Text reports are rendered from jinja2 templates shipped in the package, always in
jinja2's sandbox (a user's own template is user text, and so are the strings in a
set and a facts file that templates print).
"""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import Dict, List, Optional

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from .evaluator import FAILED, NOT_APPLICABLE, Evaluation, IndicatorResult
from .numbers import plain, to_json_number

LEVEL_NAMES = ["一级指标", "二级指标", "三级指标", "四级指标", "五级指标", "六级指标",
               "七级指标", "八级指标"]
STATUS_CN = {"scored": "已评分", "not_applicable": "不适用", "error": "无法评分"}


# ------------------------------------------------------------------- the data


def _num(value: Optional[Decimal]):
    return None if value is None else to_json_number(value)


def indicator_dict(r: IndicatorResult) -> dict:
    out = {
        "code": r.code, "name": r.name, "parent": r.parent, "level": r.level,
        "weight": _num(r.weight), "score": _num(r.score), "status": r.status,
        "leaf": r.is_leaf, "explanation": r.explanation,
    }
    if r.is_leaf:
        out["clause"] = r.clause
        out["values"] = dict(r.values)
        if r.unrounded is not None and r.unrounded != r.score:
            out["unrounded"] = _num(r.unrounded)
    if r.rescaled:
        out["rescaled"] = True
    if r.warnings:
        out["warnings"] = list(r.warnings)
    if r.error is not None:
        out["error"] = r.error.as_dict()
    for key in ("explain", "standard"):
        value = getattr(r, key)
        if value is not None:
            out[key] = value
    if r.notes:
        out["notes"] = list(r.notes)
    return out


def _plain_value(value):
    if isinstance(value, Decimal):
        return to_json_number(value)
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    return value


def evaluation_dict(ev: Evaluation) -> dict:
    """The JSON document: set, project, total, max, grade, every indicator, problems."""
    years = None
    if ev.years:
        years = ev.years[0] if ev.years[0] == ev.years[1] else list(ev.years)
    return {
        "set": {"name": ev.set_name, "region": ev.region, "year": years, "source": ev.source,
                "file": ev.set_path},
        "facts": ev.facts_path,
        "project": _plain_value(ev.project),
        "total": _num(ev.total),
        "max": _num(ev.max),
        "grade": ev.grade,
        "rescaled": ev.rescaled,
        "indicators": [indicator_dict(r) for r in ev.indicators],
        "warnings": [d.as_dict() for d in ev.warnings],
        "errors": [d.as_dict() for d in ev.errors],
    }


def render_json(ev: Evaluation) -> str:
    return json.dumps(evaluation_dict(ev), ensure_ascii=False, indent=2) + "\n"


# -------------------------------------------------------------- template data


def report_context(ev: Evaluation) -> dict:
    """The context every report template receives (documented in docs/reports.md)."""
    data = evaluation_dict(ev)
    by_code = {r.code: r for r in ev.indicators}
    depth = ev.depth

    rows = []
    seen_groups = set()
    for r in ev.indicators:
        if not r.is_leaf:
            continue
        ancestors = []
        node = r
        while node.parent is not None:
            node = by_code[node.parent]
            ancestors.append(node)
        ancestors.reverse()
        cells = []
        for g in ancestors:
            first = g.code not in seen_groups
            seen_groups.add(g.code)
            cells.append({"code": g.code, "name": g.name, "weight": plain(g.weight),
                          "score": _shown_score(g), "first": first, "text": _title(g)})
        cells.append({"code": r.code, "name": r.name, "weight": plain(r.weight),
                      "score": _shown_score(r), "first": True, "text": _title(r)})
        while len(cells) < depth:
            cells.append({"code": "", "name": "", "weight": "", "score": "", "first": False,
                          "text": ""})
        rows.append({"cells": cells, "leaf": indicator_dict(r), "weight": plain(r.weight),
                     "score": _shown_score(r), "status": r.status,
                     "status_cn": STATUS_CN[r.status]})
    groups = [{"code": r.code, "name": r.name, "level": r.level, "weight": plain(r.weight),
               "score": _shown_score(r), "status": r.status, "explanation": r.explanation,
               "rescaled": r.rescaled}
              for r in ev.indicators if not r.is_leaf]
    deductions = [{"code": r.code, "name": r.name, "weight": plain(r.weight),
                   "score": plain(r.score), "lost": plain(r.lost), "explanation": r.explanation}
                  for r in ev.indicators if r.is_leaf and r.score is not None and r.lost > 0]
    warnings = []
    for r in ev.indicators:
        for w in r.warnings:
            warnings.append({"code": r.code, "name": r.name, "message": w})
    not_applicable = [{"code": r.code, "name": r.name, "weight": plain(r.weight),
                       "explanation": r.explanation}
                      for r in ev.indicators if r.status == NOT_APPLICABLE]
    return {
        "report": data,
        "set": data["set"],
        "project": data["project"],
        "total": plain(ev.total) if ev.total is not None else None,
        "max": plain(ev.max),
        "grade": ev.grade,
        "depth": depth,
        "level_names": LEVEL_NAMES[:depth] + [f"{i + 1}级指标" for i in range(8, depth)],
        "rows": rows,
        "groups": groups,
        "deductions": deductions,
        "lost": plain(sum((r.lost for r in ev.indicators if r.is_leaf), Decimal(0))),
        "flags": warnings,
        "not_applicable": not_applicable,
        "problems": [d.render() for d in ev.diagnostics],
        "errors": [d.render() for d in ev.errors],
        "warnings": [d.render() for d in ev.warnings],
        "rescaled": ev.rescaled,
    }


def _shown_score(r: IndicatorResult) -> str:
    if r.status == NOT_APPLICABLE:
        return "不适用"
    if r.status == FAILED or r.score is None:
        return "—"
    return plain(r.score)


def _title(r: IndicatorResult) -> str:
    return f"{r.code}.{r.name}" if r.name else r.code


# ------------------------------------------------------------------ templates


def _md_cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def environment(autoescape: bool = False) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md_cell
    return env


def package_template(name: str) -> str:
    from importlib.resources import files

    return files("indicator_dsl").joinpath("templates", name).read_text(encoding="utf-8")


def render_template_text(ev: Evaluation, template: str, autoescape: bool = False) -> str:
    env = environment(autoescape)
    return env.from_string(template).render(**report_context(ev))


def render_markdown(ev: Evaluation) -> str:
    return render_template_text(ev, package_template("report.md.j2"))


# ------------------------------------------------------------- terminal table


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * max(0, size - width(text))
    return fill + text if right else text + fill


def render_table(ev: Evaluation) -> str:
    rows = []
    for r in ev.indicators:
        indent = "  " * (r.level - 1)
        rows.append((indent + r.code, r.name or "", plain(r.weight), _shown_score(r),
                     r.explanation if r.is_leaf or r.rescaled or r.status != "scored" else ""))
    head = ("编码", "名称", "分值", "得分", "评分说明")
    w_code = max([width(x[0]) for x in rows] + [width(head[0])])
    w_name = min(max([width(x[1]) for x in rows] + [width(head[1])]), 40)
    w_weight = max([width(x[2]) for x in rows] + [width(head[2])])
    w_score = max([width(x[3]) for x in rows] + [width(head[3])])
    lines = []
    title = ev.set_name or ev.set_path
    lines.append(title)
    info = [x for x in (ev.region, _years(ev)) if x]
    if info:
        lines.append(" · ".join(info))
    if ev.project.get("name"):
        lines.append(f"项目：{ev.project['name']}")
    lines.append("")

    def line(cols):
        code, name, weight, score, text = cols
        name = _clip(name, w_name)
        return "  ".join([pad(code, w_code), pad(name, w_name), pad(weight, w_weight, True),
                          pad(score, w_score, True), text]).rstrip()

    lines.append(line(head))
    lines.append("  ".join(["-" * w_code, "-" * w_name, "-" * w_weight, "-" * w_score,
                            "-" * 8]))
    for row in rows:
        lines.append(line(row))
    lines.append("")
    total = plain(ev.total) if ev.total is not None else "—"
    note = "（含不适用指标折算）" if ev.rescaled else ""
    lines.append(f"总分：{total} / {plain(ev.max)}{note}")
    if ev.grade is not None:
        lines.append(f"等级：{ev.grade}")
    flags = [(r.code, w) for r in ev.indicators for w in r.warnings]
    if flags:
        lines.append("")
        lines.append("提示：")
        for code, w in flags:
            lines.append(f"  {code}: {w}")
    return "\n".join(lines) + "\n"


def _clip(text: str, size: int) -> str:
    if width(text) <= size:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > size - 1:
            break
        out += ch
    return out + "…"


def _years(ev: Evaluation) -> Optional[str]:
    if not ev.years:
        return None
    a, b = ev.years
    return f"{a}年度" if a == b else f"{a}–{b}年度"


FORMATS = {"table": render_table, "json": render_json, "markdown": render_markdown}
