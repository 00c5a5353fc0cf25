"""Facts templates an evaluator fills in: YAML with comments, xlsx with dropdowns, CSV.

Laid out by :func:`indicator_dsl.tabular.layout` (every fact the set reads, at the
place a facts file gives it) and read back by :mod:`indicator_dsl.tabular` and
:mod:`indicator_dsl.facts`, so a filled-in template scores as the YAML facts would.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Dict, List, Optional

from .missing import describe
from .numbers import plain
from .render import width
from .tabular import ONE_PROJECT_HEADERS, PROJECT_CODE, Entry, Vocabulary

_INFO_KEYS = ("name", "unit", "year")


def _sections(sections):
    project = []
    by_code: Dict[str, List[Entry]] = {}
    for node, entries in sections:
        if node is None and entries and entries[0].code is None:
            project = entries
        else:
            code = node.code if node is not None else entries[0].code
            by_code[code] = entries
    return project, by_code


def _unit_text(node) -> str:
    return f"{plain(node.weight)}分"


# ------------------------------------------------------------------ YAML


def _yaml_scalar(value, flow: bool = False) -> str:
    import yaml

    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_scalar(v, True) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_key(k)}: {_yaml_scalar(v, True)}"
                               for k, v in value.items()) + "}"
    text = str(value)
    special = "#:" + (",[]{}" if flow else "")
    if text and not any(ch in text for ch in special) and \
            text[0] not in "[]{},&*!|>'\"%@`-?" and "\n" not in text:
        try:
            if yaml.safe_load(f"k: {text}") == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _yaml_key(key: str) -> str:
    import re

    return key if re.fullmatch(r"[\w\u4e00-\u9fff]+", key) else json.dumps(key,
                                                                           ensure_ascii=False)


def _comment_lines(text: str, indent: str, prefix: str) -> List[str]:
    import re

    out = []
    # Standards are kept verbatim; runs of spaces there stand for the table's line breaks.
    text = re.sub(r"[ \t\u3000]{2,}", "\n", str(text).strip())
    for number, line in enumerate(text.splitlines() or [""]):
        out.append(f"{indent}# {prefix if number == 0 else ' ' * len(prefix)}{line}".rstrip())
    return out


def _entry_comment(entry: Entry) -> str:
    if entry.need is None:
        return entry.label or ""
    need = entry.need
    parts = [need.label] if need.label else []
    parts.append(describe(need))
    if not need.declared:
        parts.append("规则中未声明类型，按数值读取")
    return " · ".join(parts)


def yaml_template(scorer, sections) -> str:
    checked = scorer.checked
    project, by_code = _sections(sections)
    set_file = checked.source.path.split("/")[-1]
    lines = [f"# 事实填写模板：{checked.header.name or set_file}",
             f"# 指标体系文件：{set_file}（{len(checked.leaves())}项末级指标，"
             f"{len(scorer.fact_needs())}项事实）",
             "# 填写方法：",
             "#   - 在每个冒号后填写该项事实的值；留空的事实评分时列为“待补充”，不会按0分计算。",
             "#   - 百分比写作 93.5% 或 0.935；金额写数字（单位见说明）或如 219.72万元；"
             "是/否写 true/false（或 是/否）。",
             "#   - 某项指标不适用时，在它下面写 不适用: true（或写明原因）。",
             f"#   - 填好后评分：indicator-eval eval {set_file} 本文件", ""]

    def entry_line(entry: Entry, indent: str) -> str:
        head = f"{indent}{_yaml_key(entry.name)}: {_yaml_scalar(entry.value)}".rstrip()
        comment = _entry_comment(entry)
        if not comment:
            return head
        pad = max(1, 28 - width(head))
        return f"{head}{' ' * pad}# {comment}"

    info = [e for e in project if e.need is None and e.name in _INFO_KEYS]
    shared = [e for e in project if e.need is not None]
    other = [e for e in project if e.need is None and e.name not in _INFO_KEYS]
    lines.append("# ---- 项目信息")
    lines += [entry_line(e, "") for e in info + other]
    if shared:
        lines += ["", "# ---- 全项目共用的事实"]
        for e in shared:
            readers = "、".join(e.need.readers)
            lines.append(f"# {e.need.label or e.name}：{readers}读取")
            lines.append(entry_line(e, ""))
    lines += ["", "indicators:"]
    shown = set()
    for node in checked.walk():
        entries = by_code.get(node.code)
        shown.add(node.code)
        title = f"{node.code} {node.name}" if node.name else node.code
        if not node.is_leaf:
            mark = "=" if node.parent is None else "-"
            lines.append(f"  # {mark * 4} {title}（{_unit_text(node)}）")
            if entries:
                lines.append(f"  {node.code}:")
                lines += [entry_line(e, "    ") for e in entries]
            continue
        lines.append(f"  # {title}（{_unit_text(node)}）")
        if node.node.standard:
            lines += _comment_lines(node.node.standard, "  ", "  评分标准：")
        if entries:
            lines.append(f"  {node.code}:")
            lines += [entry_line(e, "    ") for e in entries]
        else:
            reads = [n.name for n in scorer.fact_needs() if node.code in n.readers]
            if reads:
                lines.append(f"  #   读取上面填写的 {'、'.join(reads)}")
            else:
                lines.append("  #   无需填写事实")
    for code, entries in by_code.items():  # codes of the facts file that the set lacks
        if code not in shown:
            lines.append(f"  {_yaml_key(code)}:")
            lines += [entry_line(e, "    ") for e in entries]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ rows


def _one_project_rows(scorer, sections):
    """(code cell, indicator name, entry, standard) for the one-row-per-fact form."""
    checked = scorer.checked
    project, by_code = _sections(sections)
    rows = [(PROJECT_CODE, "项目信息" if e.need is None else "全项目共用", e, None)
            for e in project]
    nodes = {node.code: node for node in checked.walk()}
    for code, entries in by_code.items():
        node = nodes.get(code)
        for number, e in enumerate(entries):
            standard = node.node.standard if node is not None and number == 0 else None
            rows.append((code, node.name if node is not None else "", e, standard))
    return rows


def _type_cells(entry: Entry):
    need = entry.need
    if need is None:
        return ("文本" if entry.name != "year" else "数值"), ""
    from .missing import KIND_CN

    kind = KIND_CN.get(need.kind, need.kind)
    if need.kind == "money":
        kind += f"（{need.unit or '元'}）"
    allowed = ""
    if need.kind == "level":
        allowed = "/".join(need.levels)
    elif need.kind == "bool":
        allowed = "是/否"
    if need.domain is not None:
        from .numbers import percent

        fmt = percent if need.kind == "percent" else plain
        allowed = (allowed + "；" if allowed else "") + f"范围{need.domain.show(fmt)}"
    if need.kind == "percent":
        allowed = (allowed + "；" if allowed else "") + "如 93.5% 或 0.935"
    return kind, allowed


def _cell_out(value, entry: Optional[Entry] = None, for_csv: bool = False):
    if value is None:
        return None
    if value is True or value is False:
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return plain(value) if for_csv else value
    if isinstance(value, list):
        return "；".join(str(_cell_out(v, None, True)) for v in value)
    if isinstance(value, dict):
        return json.dumps({k: (plain(v) if isinstance(v, Decimal) else v)
                           for k, v in value.items()}, ensure_ascii=False)
    return str(value)


def _flat(entries: List[Entry]) -> List[Entry]:
    """Nested values (``published: {total: 97, grade: 优}``) as dotted rows."""
    out = []
    for e in entries:
        if isinstance(e.value, dict) and e.need is None:
            for key, value in e.value.items():
                out.append(Entry(e.code, f"{e.name}.{key}", None, value, e.label))
        else:
            out.append(e)
    return out


def _project_columns(scorer, sections):
    """(header, code, entry) for the one-row-per-project form: name, unit and year, then
    every fact the rules read, and a 不适用 column for indicators the facts mark so."""
    vocabulary = Vocabulary(scorer)
    project, by_code = _sections(sections)
    columns = []
    labels = {"name": "项目名称", "unit": "项目单位", "year": "评价年度"}
    for e in project:
        if e.need is None and e.name in labels:
            columns.append((labels[e.name], None, e))
    used = {c[0] for c in columns}
    entries = [e for e in project if e.need is not None]
    for code, items in by_code.items():
        entries += [e for e in items if e.need is not None or e.name == "不适用"]
    for e in entries:
        if e.need is None:
            header = f"{e.code} 不适用"
        else:
            header = vocabulary.header_for(e.code, e.need)
            if header in used or vocabulary.resolve(header)[0] is None or \
                    (vocabulary.resolve(header)[0].key, vocabulary.resolve(header)[0].code) != \
                    (e.need.name, e.code):
                label = e.need.label or e.need.name
                header = f"{label}（{e.need.name}）" if e.code is None else \
                    f"{e.code} {label}（{e.need.name}）"
        used.add(header)
        columns.append((header, e.code, e))
    return columns


# ------------------------------------------------------------------ CSV


def csv_template(scorer, sections, projects: bool, filled: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if projects:
        columns = _project_columns(scorer, sections)
        writer.writerow([c[0] for c in columns])
        if filled:
            writer.writerow([_csv_value(c[2].value) for c in columns])
    else:
        writer.writerow(ONE_PROJECT_HEADERS)
        for code, name, e, standard in _one_project_rows(scorer, sections):
            for entry in _flat([e]):
                kind, allowed = _type_cells(entry)
                writer.writerow([code, name, entry.name, entry.label or "", kind, allowed,
                                 _csv_value(entry.value), standard or ""])
    # UTF-8 with a BOM: what Excel and WPS need to open Chinese CSV text correctly.
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value) -> str:
    shown = _cell_out(value, None, True)
    return "" if shown is None else str(shown)


# ------------------------------------------------------------------ xlsx


def xlsx_template(scorer, sections, projects: bool, filled: bool) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    styles = _Styles()
    if projects:
        _projects_sheet(book.active, scorer, sections, styles, filled, book)
    else:
        _facts_sheet(book.active, scorer, sections, styles, book)
    _help_sheet(book.create_sheet("填写说明"), scorer, projects)
    book.properties.creator = "indicator-eval"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class _Styles:
    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="999999")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.head_font = Font(bold=True)
        self.title_font = Font(bold=True, size=14)
        self.head_fill = PatternFill("solid", fgColor="DDE4EE")
        self.value_fill = PatternFill("solid", fgColor="FFF7CC")
        self.group_fill = PatternFill("solid", fgColor="F2F2F2")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.center = Alignment(horizontal="center", vertical="center", wrap_text=True)


_FORMATS = {"percent": "0.00%", "money": "#,##0.00", "count": "0"}


def _validation(entry: Entry, book, cache: dict):
    """The data validation for a fact's value cells (one object per distinct rule)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    need = entry.need
    if need is None:
        return None
    label = (need.label or need.name)[:32]
    key = None
    options = {}
    if need.kind == "bool":
        key = ("list", "是,否")
        options = dict(type="list", formula1='"是,否"', errorStyle="stop",
                       error="请选择“是”或“否”")
    elif need.kind == "level" and need.levels:
        inline = ",".join(need.levels)
        if all("," not in v and '"' not in v for v in need.levels) and len(inline) < 250:
            formula = f'"{inline}"'
        else:
            formula = _option_range(book, need.levels)
        key = ("list", formula)
        options = dict(type="list", formula1=formula, errorStyle="stop",
                       error="请从下拉列表中选择：" + "、".join(need.levels)[:200])
    elif need.kind in ("number", "percent", "money", "count", "any"):
        domain = need.domain
        whole = need.kind == "count"
        lo = hi = None
        if domain is not None:
            lo = domain.lo if domain.lo.is_finite() else None
            hi = domain.hi if domain.hi.is_finite() else None
        if whole and (lo is None or lo < 0):
            lo = Decimal(0)
        if lo is None and hi is None:
            return None
        kind = "whole" if whole else "decimal"
        if lo is not None and hi is not None:
            options = dict(type=kind, operator="between", formula1=plain(lo), formula2=plain(hi))
        elif lo is not None:
            options = dict(type=kind, operator="greaterThanOrEqual", formula1=plain(lo))
        else:
            options = dict(type=kind, operator="lessThanOrEqual", formula1=plain(hi))
        key = tuple(sorted(options.items()))
        # A warning, not a stop: an amount may be typed as text such as 219.72万元.
        options.update(errorStyle="warning", error="数值超出范围或不是数字：" + describe(need)[:180])
    if key is None:
        return None
    key = (key, label)
    found = cache.get(key)
    if found is None:
        found = cache[key] = DataValidation(allow_blank=True, showErrorMessage=True,
                                            showInputMessage=True, promptTitle=label,
                                            prompt=describe(need)[:250],
                                            errorTitle="填写有误", **options)
    return found


def _option_range(book, levels) -> str:
    name = "选项"
    sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
    sheet.sheet_state = "hidden"
    column = sheet.max_column + 1 if sheet.max_row > 1 or sheet["A1"].value else 1
    from openpyxl.utils import get_column_letter

    col = get_column_letter(column)
    for row, level in enumerate(levels, start=1):
        sheet.cell(row=row, column=column, value=level)
    return f"{name}!${col}$1:${col}${len(levels)}"


def _facts_sheet(ws, scorer, sections, st: _Styles, book) -> None:
    from openpyxl.utils import get_column_letter

    ws.title = "事实"
    name = scorer.checked.header.name or "指标体系"
    ws.cell(row=1, column=1, value=f"{name} — 事实填写表（在黄色的“填写值”列填写）").font = \
        st.title_font
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(ONE_PROJECT_HEADERS))
    ws.row_dimensions[1].height = 24
    for col, text in enumerate(ONE_PROJECT_HEADERS, start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font, cell.fill, cell.alignment, cell.border = (st.head_font, st.head_fill,
                                                             st.center, st.border)
    widths = [len(h) * 2 + 2 for h in ONE_PROJECT_HEADERS]
    caps = [12, 30, 24, 30, 16, 30, 20, 60]
    validations: dict = {}
    row = 3
    for code, indicator, e, standard in _one_project_rows(scorer, sections):
        for entry in _flat([e]):
            kind, allowed = _type_cells(entry)
            values = [code, indicator, entry.name, entry.label or "", kind, allowed,
                      _cell_out(entry.value, entry), standard or ""]
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=col, value=value)
                cell.border = st.border
                cell.alignment = st.wrap
                if col == 7:
                    cell.fill = st.value_fill
                    if entry.need is not None and entry.need.kind in _FORMATS:
                        cell.number_format = _FORMATS[entry.need.kind]
                    elif entry.need is not None and entry.need.kind in ("text", "level"):
                        cell.number_format = "@"
                if value is not None and col != 8:
                    widths[col - 1] = max(widths[col - 1], width(str(value)) + 2)
            validation = _validation(entry, book, validations)
            if validation is not None:
                validation.add(f"G{row}")
            row += 1
    for validation in validations.values():
        ws.add_data_validation(validation)
    for col, size in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(size, caps[col - 1]) \
            if col != 8 else caps[7]
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:H{max(row - 1, 2)}"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"


def _projects_sheet(ws, scorer, sections, st: _Styles, filled: bool, book) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    ws.title = "项目"
    columns = _project_columns(scorer, sections)
    nodes = {node.code: node for node in scorer.checked.walk()}
    validations: dict = {}
    for col, (header, code, entry) in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font, cell.fill, cell.alignment, cell.border = (st.head_font, st.head_fill,
                                                             st.center, st.border)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = min(max(width(header) + 4, 12), 40)
        if entry.need is not None:
            node = nodes.get(code)
            about = [f"{entry.need.label or entry.name}（{entry.name}）", describe(entry.need)]
            if code is None:
                about.append("全项目共用：" + "、".join(entry.need.readers) + "读取")
            elif node is not None:
                about.append(f"指标：{code} {node.name or ''}")
                if node.node.standard:
                    about.append("评分标准：" + node.node.standard[:400])
            cell.comment = Comment("\n".join(about), "indicator-eval", width=320, height=160)
            validation = _validation(entry, book, validations)
            if validation is not None:
                validation.add(f"{letter}2:{letter}1048576")
            if entry.need.kind in _FORMATS:
                ws.column_dimensions[letter].number_format = _FORMATS[entry.need.kind]
        if filled:
            ws.cell(row=2, column=col, value=_cell_out(entry.value, entry))
    for validation in validations.values():
        ws.add_data_validation(validation)
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 36


def _help_sheet(ws, scorer, projects: bool) -> None:
    from openpyxl.styles import Alignment, Font

    set_name = scorer.checked.header.name or "指标体系"
    lines = [f"{set_name}：事实填写说明", ""]
    if projects:
        lines += ["“项目”工作表每行一个项目，每列一项事实；表头写“项目名称”和各项事实的名称。",
                  "表头可以写事实的中文名称（如“实际慰问人数”）、事实名（如 visited），"
                  "或在前面加指标编码（如“C114 实际慰问人数”、“C114.visited”）。",
                  "某项指标不适用时，加一列“编码 不适用”（如“C12 不适用”），填“是”或原因。",
                  "评分：indicator-eval batch 指标体系.ind 本文件 -o 汇总.xlsx"]
    else:
        lines += ["“事实”工作表每行一项事实，只需在黄色的“填写值”列填写。",
                  "指标编码为“（项目）”的是全项目共用的事实。",
                  "某项指标不适用时，增加一行：指标编码写该指标，事实名写“不适用”，填写值写“是”或原因。",
                  "评分：indicator-eval eval 指标体系.ind 本文件"]
    lines += ["", "格式：百分比填 93.5%（单元格已设为百分比格式）或 0.935；金额填数字，"
              "也可写如 219.72万元；是/否从下拉列表中选择。",
              "留空的事实评分时列为“待补充”，不会按0分计算。"]
    for row, text in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = Font(bold=True, size=13)
    ws.column_dimensions["A"].width = 110


# ------------------------------------------------------------------ the command

_TEMPLATE_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx", ".csv": "csv"}


def template_command(args) -> int:
    """``indicator-eval facts SET [-o FILE] [--projects] [--from FACTS]``."""
    import sys
    from pathlib import Path

    from .api import load_set
    from .cli import EXIT_OK, UsageError, _guard_output, write_atomic
    from .errors import ERROR, Diagnostic
    from .facts import load_facts
    from .tabular import facts_template

    output = Path(args.output) if args.output else None
    fmt = "yaml"
    if output is not None:
        fmt = _TEMPLATE_FORMATS.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(Diagnostic(ERROR, f"unknown template format {output.suffix!r}",
                                        file=str(output), hint="use .yaml, .xlsx or .csv",
                                        message_cn=f"不支持的模板格式“{output.suffix}”",
                                        hint_cn="模板请用 .yaml、.xlsx 或 .csv 文件"))
        _guard_output(output, [args.set] + ([args.source] if args.source else []))
    if args.projects and fmt == "yaml":
        raise UsageError(Diagnostic(ERROR, "--projects writes a spreadsheet",
                                    hint="give the file to write: -o projects.xlsx (or .csv)",
                                    message_cn="--projects 生成的是表格文件",
                                    hint_cn="请给出要写入的文件：-o 项目.xlsx（或 .csv）"))
    scorer = load_set(args.set)
    facts = load_facts(args.source) if args.source else None
    data = facts_template(scorer, fmt, facts=facts, projects=args.projects)
    if output is None:
        sys.stdout.write(data)
        return EXIT_OK
    replaced = output.exists()
    write_atomic(output, data if isinstance(data, bytes) else data.encode("utf-8"))
    needs = scorer.fact_needs()
    print(f"indicator-eval: {'replaced' if replaced else 'wrote'} {output} ({len(needs)} facts "
          f"of {len(scorer.checked.leaves())} indicators)", file=sys.stderr)
    return EXIT_OK
