"""Evaluation → what an evaluator reads or hands in: a terminal table, JSON, Markdown,
HTML, and (in :mod:`indicator_dsl.office`) Excel and Word files.

Text reports are rendered from jinja2 templates shipped in the package, always in
jinja2's sandbox (a user's own template is user text, and so are the strings in a
set and a facts file that templates print). Every report lays out the score table
the same way (:func:`score_table`): one row per leaf, one column per level, a
group's cell spanning the rows of its leaves, as in the Word tables evaluators
hand in.
"""

from __future__ import annotations

import json
from pathlib import Path
import unicodedata
from decimal import Decimal
from typing import Callable, Dict, List, Optional

import attrs
from jinja2 import StrictUndefined
from jinja2.exceptions import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from .errors import ERROR, Diagnostic, IndicatorError, did_you_mean
from .evaluator import FAILED, NOT_APPLICABLE, SCORED, Evaluation, IndicatorResult
from .numbers import plain

LEVEL_NAMES = ["一级指标", "二级指标", "三级指标", "四级指标", "五级指标", "六级指标",
               "七级指标", "八级指标"]
STATUS_CN = {"scored": "已评分", "not_applicable": "不适用", "error": "无法评分",
             "pending": "待补充"}


# ------------------------------------------------------------------- the data


def _num(value: Optional[Decimal]):
    """A decimal without trailing zeros (4.90 → 4.9), still exact."""
    return None if value is None else Decimal(plain(value))


def indicator_dict(r: IndicatorResult) -> dict:
    out = {
        "code": r.code, "name": r.name, "parent": r.parent, "level": r.level,
        "weight": _num(r.weight), "score": _num(r.score), "status": r.status,
        "leaf": r.is_leaf, "explanation": r.explanation,
    }
    if r.is_leaf:
        out["clause"] = r.clause
        labels = r.value_labels
        out["values"] = {name: {"label": labels[name], "value": shown}
                         for name, shown in r.values.items()}
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
    if r.published is not None:
        out["published"] = _num(r.published)
    if r.source is not None:
        out["source"] = {"file": r.source, "line": r.line}
    if r.origin:
        out["origin"] = list(r.origin)
    return out


def _plain_value(value):
    if isinstance(value, Decimal):
        return Decimal(plain(value))
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
    return dump_json(evaluation_dict(ev)) + "\n"


def dump_json(value, indent: str = "") -> str:
    """JSON whose numbers are the decimals' exact text: 4.9, never 4.8999999, and a
    40-digit unrounded value keeps all its digits (json.dumps would go through float)."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dump_json(v, inner)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + dump_json(v, inner) for v in value) + "\n" + \
            indent + "]"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


# ------------------------------------------------------------ the table layout


@attrs.frozen
class TableCell:
    """One cell of a level column (一级指标 … N级指标) in the score table.

    ``rowspan`` and ``colspan`` follow HTML: a group's cell spans the rows of all its
    leaves; a leaf above the deepest level spans the level columns to its right. A
    cell covered by such a span has 0 there and is not drawn.
    """

    indicator: Optional[IndicatorResult]  # None for a cell covered from its left
    rowspan: int
    colspan: int

    @property
    def drawn(self) -> bool:
        return self.rowspan > 0 and self.colspan > 0


@attrs.frozen
class TableRow:
    leaf: IndicatorResult
    cells: List[TableCell]  # one per level, ``depth`` of them


def score_table(ev: Evaluation) -> List[TableRow]:
    """The score table's rows: one per leaf, in the set's order, with merged group cells.

    The evaluation lists indicators depth first, so each group's leaves are
    consecutive rows and its cell can span them.
    """
    by_code = ev.by_code()
    depth = ev.depth
    leaf_count: Dict[str, int] = {}
    for r in ev.indicators:
        if r.is_leaf:
            node = r
            while node.parent is not None:
                leaf_count[node.parent] = leaf_count.get(node.parent, 0) + 1
                node = by_code[node.parent]
    rows = []
    started = set()
    for leaf in ev.leaves():
        chain = [leaf]
        while chain[-1].parent is not None:
            chain.append(by_code[chain[-1].parent])
        chain.reverse()
        cells = []
        for group in chain[:-1]:
            first = group.code not in started
            started.add(group.code)
            cells.append(TableCell(group, leaf_count[group.code] if first else 0, 1))
        cells.append(TableCell(leaf, 1, depth - len(chain) + 1))
        cells.extend(TableCell(None, 1, 0) for _ in range(depth - len(chain)))
        rows.append(TableRow(leaf, cells))
    return rows


def shown_score(r: IndicatorResult) -> str:
    """The score as the table shows it: the number, 不适用, or — when it failed."""
    if r.status == NOT_APPLICABLE:
        return "不适用"
    if r.status == "pending":  # a draft's leaf that waits for facts (missing.py)
        return STATUS_CN["pending"]
    if r.status == FAILED or r.score is None:
        return "—"
    return plain(r.score)


def shown_total(ev: Evaluation) -> str:
    """The total as reports show it: the number, 待补充 in a draft, or — when it failed."""
    if ev.total is not None:
        return plain(ev.total)
    if any(r.status == "pending" for r in ev.indicators):
        return STATUS_CN["pending"]
    return "—"


def title_of(r: IndicatorResult) -> str:
    """「A1.项目立项」: code and name as the published tables write them."""
    return f"{r.code}.{r.name}" if r.name else r.code


def subtotal_of(group: IndicatorResult) -> str:
    """「20分，得17分」: a group's points and its subtotal, shown in its merged cell."""
    if group.status == SCORED and group.score is not None:
        return f"{plain(group.weight)}分，得{plain(group.score)}分"
    return f"{plain(group.weight)}分，{STATUS_CN[group.status]}"


def level_names(depth: int) -> List[str]:
    return LEVEL_NAMES[:depth] + [f"{i + 1}级指标" for i in range(len(LEVEL_NAMES), depth)]


def year_text(ev: Evaluation) -> Optional[str]:
    if not ev.years:
        return None
    first, last = ev.years
    return str(first) if first == last else f"{first}–{last}"


def lost_points(r: IndicatorResult) -> Decimal:
    """Points a scored leaf lost against its weight (0 when not scored)."""
    return r.lost if r.is_leaf and r.status == SCORED else Decimal(0)


def rule_flags(ev: Evaluation) -> List[tuple]:
    """(indicator, message) for every flag raised: a rule's (over-achievement …) and a
    difference from the score a published report gives."""
    return [(r, message) for r in ev.indicators for message in r.warnings]


def topmost_not_applicable(ev: Evaluation) -> List[IndicatorResult]:
    """Not-applicable indicators whose parent is applicable: a not-applicable group
    is listed once, not with each of its leaves."""
    by_code = ev.by_code()
    return [r for r in ev.indicators if r.status == NOT_APPLICABLE and
            (r.parent is None or by_code[r.parent].status != NOT_APPLICABLE)]


def total_note(ev: Evaluation) -> Optional[str]:
    """How the total was re-scaled for not-applicable top-level indicators, or None."""
    if not ev.rescaled or ev.total is None:
        return None
    tops = [r for r in ev.indicators if r.parent is None]
    skipped = [r.code for r in tops if r.status == NOT_APPLICABLE]
    scored = [r for r in tops if r.status == SCORED]
    got = sum((r.score for r in scored), Decimal(0))
    applicable = sum((r.weight for r in scored), Decimal(0))
    return (f"{'、'.join(skipped)}不适用；适用指标得{plain(got)}分（满分{plain(applicable)}分），"
            f"按{plain(ev.max)}分折算为{plain(ev.total)}分")


def reported_problems(ev: Evaluation) -> List[Diagnostic]:
    """The problems a handed-in report lists: those about this project (worded in Chinese).

    Rule flags and per-indicator differences from published scores are listed by
    indicator instead; problems of the rule file itself (undeclared facts …) are for
    its authors and are printed by the command, not put in the report. (Every message
    has a Chinese wording now, so the warnings a report lists are named by their kind.)"""
    return [d for d in ev.diagnostics if d.is_error or d.code in REPORTED_WARNINGS]


# Warnings about the project's own facts: an unused or misplaced fact, a year outside the
# set's period, a difference from the published total or grade; and the note that the
# report is a draft waiting for facts (eval --draft). (A published score that differs is
# listed with its indicator, among the flags.)
REPORTED_WARNINGS = frozenset({"facts", "published-total", "draft"})


SEVERITY_CN = {"error": "错误", "warning": "警告"}


def problem_rows(ev: Evaluation) -> List[dict]:
    """The problems of :func:`reported_problems` as every report shows them: the
    Chinese message and hint where there are, the file's name and line."""
    return [{"severity": d.severity, "severity_cn": SEVERITY_CN.get(d.severity, d.severity),
             "location": _short_location(d), "message": d.message_cn or d.message,
             "hint": (d.hint_cn or "") if d.message_cn else (d.hint or ""),
             "text": d.render("zh")}
            for d in reported_problems(ev)]


def _short_location(d: Diagnostic) -> str:
    """file:line:col with the file's name only: a handed-in report names no local folders."""
    if d.file is None:
        return ""
    name = Path(d.file).name
    return f"{name}:{d.line}:{d.column or 1}" if d.line is not None else name


# -------------------------------------------------------------- template data


def report_context(ev: Evaluation) -> dict:
    """The context every report template receives (documented in docs/reports.md).

    Numbers are strings as people write them (「4.9」, 「100」); the exact values are
    in ``report``, the JSON document.
    """
    data = evaluation_dict(ev)
    depth = ev.depth

    def indicator_brief(r: IndicatorResult) -> dict:
        return {"code": r.code, "name": r.name or "", "text": title_of(r),
                "level": r.level, "weight": plain(r.weight), "score": shown_score(r),
                "status": r.status, "status_cn": STATUS_CN[r.status]}

    rows = []
    for table_row in score_table(ev):
        leaf = table_row.leaf
        cells = []
        for cell in table_row.cells:
            r = cell.indicator
            if r is None:
                cells.append({"code": "", "name": "", "text": "", "level": 0, "weight": "",
                              "score": "", "subtotal": "", "status": "", "is_leaf": False,
                              "rowspan": cell.rowspan, "colspan": cell.colspan, "first": False})
                continue
            cells.append({**indicator_brief(r),
                          "subtotal": "" if r.is_leaf else subtotal_of(r),
                          "is_leaf": r.is_leaf, "rowspan": cell.rowspan,
                          "colspan": cell.colspan, "first": cell.drawn})
        leaf_dict = indicator_dict(leaf)
        rows.append({**indicator_brief(leaf), "lost": plain(lost_points(leaf)),
                     "explain": leaf.explain or "", "standard": leaf.standard or "",
                     "explanation": leaf.explanation, "warnings": list(leaf.warnings),
                     "cells": cells, "leaf": leaf_dict})
    groups = [{**indicator_brief(r), "explanation": r.explanation, "rescaled": r.rescaled,
               "subtotal": subtotal_of(r)}
              for r in ev.indicators if not r.is_leaf]
    deductions = [{**indicator_brief(r), "lost": plain(lost_points(r)),
                   "explanation": r.explanation}
                  for r in ev.leaves() if lost_points(r) > 0]
    flags = [{"code": r.code, "name": r.name or "", "text": title_of(r), "message": message}
             for r, message in rule_flags(ev)]
    not_applicable = [{**indicator_brief(r), "is_leaf": r.is_leaf,
                       "explanation": r.explanation}
                      for r in topmost_not_applicable(ev)]
    rescaled_groups = [{**indicator_brief(r), "explanation": r.explanation}
                       for r in ev.indicators if not r.is_leaf and r.rescaled]
    problems = problem_rows(ev)
    return {
        "report": data,
        "title": ev.set_name or "绩效评价评分表",
        "set": data["set"],
        "year_text": year_text(ev),
        "project": data["project"],
        "project_name": _project_text(ev, "name"),
        "unit": _project_text(ev, "unit"),
        "total": plain(ev.total) if ev.total is not None else (
            None if shown_total(ev) == "—" else shown_total(ev)),
        "max": plain(ev.max),
        "grade": ev.grade,
        "ok": ev.ok,
        "rescaled": ev.rescaled,
        "total_note": total_note(ev),
        "depth": depth,
        "level_names": level_names(depth),
        "leaf_count": len(rows),
        "rows": rows,
        "groups": groups,
        "deductions": deductions,
        "lost": plain(sum((lost_points(r) for r in ev.leaves()), Decimal(0))),
        # Below the maximum by: differs from ``lost`` when not-applicable indicators
        # were re-scaled (a re-scaled group loses its leaves' points in proportion).
        "shortfall": plain(ev.max - ev.total) if ev.total is not None else None,
        "flags": flags,
        "not_applicable": not_applicable,
        "rescaled_groups": rescaled_groups,
        "problems": problems,
        "errors": [d.render() for d in ev.errors],
        "warnings": [d.render() for d in ev.warnings],
        "generator": f"indicator-eval {_version()}",
    }


def _project_text(ev: Evaluation, key: str) -> Optional[str]:
    value = ev.project.get(key)
    return None if value is None else str(_plain_value(value))


def _version() -> str:
    from . import __version__

    return __version__


# ------------------------------------------------------------------ templates


class TemplateError(IndicatorError):
    """A report template cannot be used: a syntax error, an unsafe operation the sandbox
    refused, an unknown name, or any other failure while rendering it."""

    exit_code = 2  # the user's --template argument is unusable, like a wrong argument


def _md_cell(value) -> str:
    """Text for one Markdown table cell: pipes and backslashes escaped, line breaks as
    <br>, and angle brackets as entities so a name cannot inject HTML into the page a
    Markdown viewer makes of the report."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    text = text.replace(">", "&gt;").replace("\r", "")
    return text.replace("\n", "<br>")


def _html_lines(value) -> Markup:
    """Escaped text with its line breaks kept as <br> (for autoescaped HTML templates)."""
    text = "" if value is None else str(value)
    return Markup("<br>").join(escape(line) for line in text.replace("\r", "").split("\n"))


# Limits on what a template expression may build, so a hostile template such as
# {{ "x" * 10**10 }} fails cleanly instead of exhausting memory.
_MAX_SEQUENCE = 1_000_000
_MAX_EXPONENT = 1_000


class TemplateLimitError(SecurityError):
    """A template expression would build a text, list or number too large to be sane."""


class ReportEnvironment(SandboxedEnvironment):
    """jinja2's sandbox, with repetition and powers bounded."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float, Decimal)) \
                and abs(right) > _MAX_EXPONENT:
            raise TemplateLimitError(f"the exponent {right} is too large for a template")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                        and len(seq) * count > _MAX_SEQUENCE:
                    raise TemplateLimitError("the repeated text or list is too long for a "
                                             "template")
        return super().call_binop(context, operator, left, right)


def environment(autoescape: bool = False) -> SandboxedEnvironment:
    env = ReportEnvironment(autoescape=autoescape, undefined=StrictUndefined,
                            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md_cell
    env.filters["br"] = _html_lines
    return env


def package_template(name: str) -> str:
    from importlib.resources import files

    return files("indicator_dsl").joinpath("templates", name).read_text(encoding="utf-8")


def render_template_text(ev: Evaluation, template: str, autoescape: bool = False) -> str:
    """Render one of the package's own templates (trusted text, so errors are bugs)."""
    env = environment(autoescape)
    return env.from_string(template).render(**report_context(ev))


def render_markdown(ev: Evaluation) -> str:
    return render_template_text(ev, package_template("report.md.j2"))


def render_html(ev: Evaluation) -> str:
    """One self-contained HTML page: inline CSS, no scripts, no fetches; prints on A4."""
    return render_template_text(ev, package_template("report.html.j2"), autoescape=True)


def render_user_template(ev: Evaluation, template_text: str, autoescape: bool,
                         path: str = "<template>") -> str:
    """Render a user's own template in the sandbox with the context of docs/reports.md.

    ``path`` names the template in messages. Every failure — a syntax error, an
    unsafe attribute or call the sandbox refuses, an unknown name, any error the
    template's own expressions raise — comes out as a :class:`TemplateError`
    whose diagnostic points at the template line when jinja2 knows it.
    """
    env = environment(autoescape)
    context = report_context(ev)
    try:
        code = env.compile(template_text, name=path, filename=path)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        return template.render(**context)
    except TemplateSyntaxError as exc:
        raise TemplateError(_template_diagnostic(
            f"template syntax error: {exc.message}", path, template_text, exc.lineno,
            "check the {% … %} and {{ … }} tags on this line; filters and tests must "
            "be jinja2 built-ins or md / br", cn="模板语法错误",
            hint_cn="请检查这一行的 {% … %} 和 {{ … }} 标记；过滤器和测试只能用 jinja2 内置的，"
                    "或 md、br")) from None
    except TemplateLimitError as exc:
        raise TemplateError(_template_diagnostic(
            f"the template went over a limit: {exc}", path, template_text,
            _template_line(exc, path),
            f"texts and lists built by a template are limited to {_MAX_SEQUENCE:,} items "
            f"and exponents to {_MAX_EXPONENT}", cn="模板超出了限制",
            hint_cn=f"模板生成的文字和列表最多 {_MAX_SEQUENCE:,} 项，指数最大为 "
                    f"{_MAX_EXPONENT}")) from None
    except SecurityError as exc:
        raise TemplateError(_template_diagnostic(
            f"the template did something the sandbox refuses: {exc}", path, template_text,
            _template_line(exc, path),
            "report templates may only read the documented context (docs/reports.md); "
            "attributes starting with _ and Python internals are not available",
            cn="模板做了沙箱不允许的操作",
            hint_cn="报告模板只能读取文档中列出的内容（docs/reports.md）；以 _ 开头的属性和 "
                    "Python 内部对象都不可用")) from None
    except UndefinedError as exc:
        hint, hint_cn = _undefined_hint(exc.message or "", context)
        raise TemplateError(_template_diagnostic(
            f"the template uses an unknown name: {exc.message}", path, template_text,
            _template_line(exc, path), hint, cn="模板用了不存在的名称" + (
                f"“{_undefined_name(exc.message or '')}”"
                if _undefined_name(exc.message or "") else ""),
            hint_cn=hint_cn)) from None
    except RecursionError:
        raise TemplateError(_template_diagnostic(
            "the template recurses too deeply", path, template_text, None,
            "a macro or include calls itself without end", cn="模板递归层数太多",
            hint_cn="有宏或 include 无休止地调用自己")) from None
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # whatever the template's own expressions raise
        raise TemplateError(_template_diagnostic(
            f"the template failed: {exc.__class__.__name__}: {exc}", path, template_text,
            _template_line(exc, path),
            "see docs/reports.md for the context's keys and the types of their values",
            cn=f"模板运行出错（`{exc.__class__.__name__}`）",
            hint_cn="报告内容中有哪些键、各是什么类型，见 docs/reports.md")) from None


def _template_line(exc: BaseException, path: str) -> Optional[int]:
    """The template line of a rendering error: jinja2 rewrites tracebacks so that the
    template's frames carry its file name and line numbers; take the innermost."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _template_diagnostic(message: str, path: str, text: str, line: Optional[int],
                         hint: str, *, cn: str, hint_cn: str) -> Diagnostic:
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return Diagnostic(ERROR, message, file=path, line=line, hint=hint, code="template",
                          message_cn=cn, hint_cn=hint_cn)
    source = lines[line - 1]
    # Underline the whole line: jinja2 gives no column.
    start = len(source) - len(source.lstrip()) + 1
    return Diagnostic(ERROR, message, file=path, line=line, column=start, source_line=source,
                      hint=hint, code="template", end_column=max(len(source) + 1, start + 1),
                      message_cn=cn, hint_cn=hint_cn)


def _undefined_name(message: str) -> str:
    return message.split("'")[1] if message.count("'") >= 2 else ""


def _undefined_hint(message: str, context: dict):
    """(hint, Chinese hint) for a name a template uses that its context does not have."""
    name = _undefined_name(message)
    if "has no attribute" in message:
        return ("that key or attribute does not exist; docs/reports.md lists every field",
                "没有这个键或属性；所有字段见 docs/reports.md")
    # Very short names ('os') match too much to make a useful suggestion.
    guess = did_you_mean(name, context) if len(name) >= 3 else None
    if guess:
        return (f"did you mean {guess!r}? (docs/reports.md lists the context)",
                f"是否应为“{guess}”？（报告内容见 docs/reports.md）")
    return ("the context has: " + ", ".join(sorted(context)),
            "报告内容中有：" + "、".join(sorted(context)))


# The binary formats live in office.py: openpyxl and python-docx are imported only
# when such a report is asked for, so the terminal table stays quick to start.


def render_xlsx(ev: Evaluation) -> bytes:
    from .office import render_xlsx as build

    return build(ev)


def render_docx(ev: Evaluation) -> bytes:
    from .office import render_docx as build

    return build(ev)


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
        rows.append((indent + r.code, r.name or "", plain(r.weight), shown_score(r),
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
    note = "（含不适用指标折算）" if ev.rescaled else ""
    lines.append(f"总分：{shown_total(ev)} / {plain(ev.max)}{note}")
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


# Format name → renderer. Each takes an Evaluation; text formats return str, the
# formats in BINARY_FORMATS return bytes (write them as they are, not encoded).
FORMATS: Dict[str, Callable[[Evaluation], object]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
    "xlsx": render_xlsx,
    "docx": render_docx,
}
BINARY_FORMATS = {"xlsx", "docx"}
