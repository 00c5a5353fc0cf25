"""Facts files (YAML, JSON or TOML; spreadsheets in :mod:`.tabular`) → :class:`Facts`.

A facts file is a mapping. ``indicators:`` maps indicator or group codes to
that node's facts; every other top-level key is a project-wide fact. Values
keep their exact decimal text (``93.5%``, ``0.935``, ``2,128,504.6元``) and the
place they were written, so a bad value is reported at its line.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import attrs

from .errors import ERROR, Diagnostic, FactsError, FileAccessError

MAX_FACTS_BYTES = 20_000_000
MAX_NODES = 200_000
MAX_DEPTH = 50
NOT_APPLICABLE_KEYS = ("not_applicable", "不适用")


@attrs.frozen
class Where:
    """The place a fact was written: the file and, for YAML, its line and column."""

    file: str
    path: str  # indicators.C114.actual
    line: Optional[int] = None
    column: Optional[int] = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file} ({self.path})"


@attrs.frozen
class FactValue:
    value: Any  # Decimal, bool, str, None, list
    where: Where


@attrs.define
class Facts:
    """A project's facts: project-wide ones and one table per indicator code."""

    project: Dict[str, FactValue] = attrs.field(factory=dict)
    indicators: Dict[str, Dict[str, FactValue]] = attrs.field(factory=dict)
    not_applicable: Dict[str, Tuple[Optional[str], Where]] = attrs.field(factory=dict)
    path: str = "<facts>"
    source_lines: Tuple[str, ...] = ()
    # (code, point label) -> the facts of one point (要点) of a leaf, written as a table
    # under it: `C101: {①: {done: 131, plan: 146}, ②: …}`.
    points: Dict[Tuple[str, str], Dict[str, FactValue]] = attrs.field(factory=dict)
    # where each point table was written, for messages about unknown labels
    point_places: Dict[Tuple[str, str], Where] = attrs.field(factory=dict)

    @classmethod
    def from_mapping(cls, data: dict, path: str = "<facts>") -> "Facts":
        """Facts from an already-loaded mapping (numbers may be int, float, Decimal or text)."""
        facts = _fast_build(data, path)
        if facts is None:  # anything unusual: the careful path gives the same facts or error
            facts = _build(_plain_tree(data, path), path, ())
        return facts

    def where(self, code: Optional[str], name: str) -> Optional[Where]:
        table = self.indicators.get(code, {}) if code else self.project
        fact = table.get(name)
        return fact.where if fact else None


def load_facts(path: str | Path) -> Facts:
    p = Path(path)
    name = str(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileAccessError(Diagnostic(ERROR, "facts file not found", file=name,
                                         hint="check the path", message_cn="数据文件不存在",
                                         hint_cn="请检查路径")) from None
    except IsADirectoryError:
        raise FileAccessError(Diagnostic(ERROR, "is a directory, not a facts file",
                                         file=name,
                                         message_cn="这是一个文件夹，不是数据文件")) from None
    except OSError as exc:
        raise FileAccessError(Diagnostic(ERROR, f"cannot read the facts file: {exc.strerror}",
                                         file=name,
                                         message_cn=f"无法读取数据文件：{exc.strerror}")) from None
    suffix = p.suffix.lower()
    return loads_facts(data, name, suffix)


def loads_facts(data: bytes | str, path: str = "<facts>", suffix: str = ".yaml") -> Facts:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FACTS_BYTES:
        raise FactsError(Diagnostic(ERROR, f"facts file is {len(data)} bytes; the limit is "
                                    f"{MAX_FACTS_BYTES}", file=path,
                                    message_cn=f"数据文件有 {len(data)} 字节，超过上限 "
                                               f"{MAX_FACTS_BYTES}"))
    if suffix in (".xlsx", ".csv"):  # the one-project spreadsheet form
        from .tabular import load_one_project

        return load_one_project(data, path, suffix)
    if suffix in _SPREADSHEETS:
        raise FactsError(Diagnostic(
            ERROR, f"{suffix} facts files cannot be read", file=path,
            hint="save the sheet as .xlsx or .csv (WPS/Excel: 另存为), or use YAML",
            message_cn=f"不能读取 {suffix} 格式的数据文件",
            hint_cn="请另存为 .xlsx 或 .csv（WPS/Excel：另存为），或使用 YAML 数据文件"))
    from .textio import decode_utf8

    text = decode_utf8(data, path, FactsError, "facts file")
    if "\x00" in text:
        raise FactsError(Diagnostic(ERROR, "facts file contains NUL characters", file=path,
                                    message_cn="数据文件中有 NUL 字符"))
    lines = tuple(text.splitlines())
    if suffix == ".json":
        tree = _load_json(text, path, lines)
    elif suffix == ".toml":
        tree = _load_toml(text, path, lines)
    elif suffix in (".yaml", ".yml", ""):
        tree = _load_yaml(text, path, lines)
    else:
        raise FactsError(Diagnostic(ERROR, f"unknown facts file type {suffix!r}", file=path,
                                    hint="use .yaml, .yml, .json, .toml, .xlsx or .csv",
                                    message_cn=f"无法识别的数据文件类型“{suffix}”",
                                    hint_cn="请使用 .yaml、.yml、.json、.toml、.xlsx 或 .csv 文件"))
    return _build(tree, path, lines)


# Spreadsheet formats other than .xlsx and .csv: refused with a hint to save as those.
_SPREADSHEETS = (".xlsm", ".xls", ".ods", ".et")

# A loaded tree is nested (value, Where) pairs: dict values are {key: (value, where)}.


def _line_of(lines, line):
    return lines[line - 1] if line and 1 <= line <= len(lines) else None


def _error(message, where: Where, lines, hint=None, *, cn: Optional[str] = None,
           hint_cn: Optional[str] = None) -> FactsError:
    return FactsError(Diagnostic(ERROR, message, file=where.file, line=where.line,
                                 column=where.column, source_line=_line_of(lines, where.line),
                                 hint=hint, code="facts", message_cn=cn, hint_cn=hint_cn))


def _yaml_loader():
    """libyaml's loader when installed (several times faster), else PyYAML's own; both
    keep every node's line and column."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_YAML_LOADER = None


def _load_yaml(text: str, path: str, lines) -> Any:
    import yaml

    global _YAML_LOADER
    if _YAML_LOADER is None:
        _YAML_LOADER = _yaml_loader()
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "nesting depth" in problem:  # libyaml's own limit
            raise FactsError(Diagnostic(ERROR, "YAML nested too deeply", file=path, line=line,
                                        column=column, message_cn="YAML 嵌套层数太多")) from None
        _refuse_fullwidth_colon(lines, line or len(lines), path)
        raise FactsError(Diagnostic(ERROR, f"broken YAML: {problem}", file=path, line=line,
                                    column=column, source_line=_line_of(lines, line),
                                    hint="check indentation, colons and quotes near here",
                                    code="facts",
                                    message_cn=_yaml_problem_cn(problem),
                                    hint_cn="请检查这里附近的缩进、冒号和引号")) from None
    except yaml.YAMLError as exc:
        raise FactsError(Diagnostic(ERROR, f"broken YAML: {exc}", file=path,
                                    message_cn="YAML 格式有误",
                                    hint_cn="请检查缩进、冒号和引号")) from None
    except RecursionError:
        raise FactsError(Diagnostic(ERROR, "YAML nested too deeply", file=path,
                                    message_cn="YAML 嵌套层数太多")) from None
    if root is None:
        return ({}, Where(path, "", 1, 1))
    if not isinstance(root, yaml.MappingNode):
        _refuse_fullwidth_colon(lines, len(lines), path)
    budget = [MAX_NODES]
    return _yaml_node(root, path, "", lines, budget, 0)


def _yaml_problem_cn(problem: str) -> str:
    """"broken YAML" in Chinese, with PyYAML's own words for the commonest problems put in
    Chinese (the caret under the source line shows the place of the others)."""
    for english, chinese in _YAML_PROBLEMS:
        if english in problem:
            return f"YAML 格式有误：{chinese}"
    return "YAML 格式有误"


# (what PyYAML and libyaml say, the Chinese): YAML's messages are its own, not ours.
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "这里不能出现“键: 值”（缩进或冒号有误？）"),
    ("could not find expected ':'", "找不到应有的冒号“:”"),
    ("did not find expected key", "找不到应有的键（缩进有误？）"),
    ("found character that cannot start any token", "这里有 YAML 不能识别的字符（制表符？）"),
    ("found unexpected end of stream", "文件意外结束（引号没有配对？）"),
    ("did not find expected node content", "缺少应有的内容"),
    ("found undefined alias", "用了未定义的别名"),
    ("expected <block end>", "缩进有误"),
    ("expected ',' or '}'", "花括号 { } 没有配对，或少了逗号"),
    ("expected ',' or ']'", "方括号 [ ] 没有配对，或少了逗号"),
    ("found duplicate anchor", "锚点重复"),
)


# `key： value` — a full-width colon, as a Chinese input method types it.
_FULLWIDTH_KEY = re.compile(r"^(\s*-?\s*)([^\s#\"'：:][^#\"'：:]*?)\s*：")


def _refuse_fullwidth_colon(lines, upto: int, path: str) -> None:
    """YAML reports a full-width colon lines later, or not at all: find the line and say so."""
    for number in range(min(upto, len(lines)), 0, -1):
        match = _FULLWIDTH_KEY.match(lines[number - 1])
        if match:
            column = match.end()
            raise FactsError(Diagnostic(
                ERROR, f"a full-width colon '：' after {match.group(2)!r}", file=path,
                line=number, column=column, source_line=lines[number - 1],
                hint="YAML needs the ASCII colon ':' followed by a space, e.g. "
                     f"{match.group(2)}: …", code="facts",
                message_cn=f"“{match.group(2)}”后面是全角冒号“：”",
                hint_cn=f"请改为半角冒号加空格，如 {match.group(2)}: …"))


_YAML_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _yaml_node(node, path, dotted, lines, budget, depth):
    import yaml

    budget[0] -= 1
    where = Where(path, dotted, node.start_mark.line + 1, node.start_mark.column + 1)
    if budget[0] < 0:
        raise _error(f"facts file has more than {MAX_NODES} values (are aliases repeating "
                     "a large block?)", where, lines,
                     cn=f"数据文件中的值超过 {MAX_NODES} 个（是否用别名重复了一大段？）")
    if depth > MAX_DEPTH:
        raise _error(f"facts nested more than {MAX_DEPTH} levels deep", where, lines,
                     cn=f"数据嵌套超过 {MAX_DEPTH} 层")
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _error("a key must be a plain name", Where(
                    path, dotted, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                    lines, cn="键须是一个简单的名称")
            key = key_node.value
            if key == "<<":
                raise _error("YAML merge keys (<<) are not supported in facts", where, lines,
                             "write the facts out", cn="数据文件不支持 YAML 的合并键（<<）",
                             hint_cn="请把数据逐项写出")
            key_where = Where(path, f"{dotted}.{key}" if dotted else key,
                              key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                raise _error(f"{key!r} is given twice", key_where, lines,
                             "a fact has one value; remove one of them",
                             cn=f"“{key}”写了两次", hint_cn="每个数据只有一个值，请删去其中一个")
            value, value_where = _yaml_node(value_node, path, key_where.path, lines, budget,
                                            depth + 1)
            out[key] = (value, Where(path, key_where.path, value_where.line, value_where.column))
        return out, where
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_node(item, path, f"{dotted}[{i}]", lines, budget, depth + 1)
                for i, item in enumerate(node.value)], where
    # Scalars: resolve by YAML's own tag, but keep numbers as exact decimals.
    tag = node.tag
    text = node.value
    if tag.endswith(":null"):
        return None, where
    if tag.endswith(":bool"):
        return _YAML_BOOL.get(text.lower(), text), where
    if tag.endswith(":int") or tag.endswith(":float"):
        number = _decimal(text.replace("_", ""))
        if number is None or not number.is_finite():
            raise _error(f"{text!r} is not a usable number", where, lines,
                         cn=f"“{text}”不是可用的数")
        return _sane(number, where, lines), where
    if tag.endswith(":str"):
        return text, where
    raise _error(f"unsupported YAML value type {tag}", where, lines,
                 "facts are numbers, percentages, yes/no, or texts",
                 cn=f"不支持的 YAML 值类型“{tag}”", hint_cn="数据只能是数、百分比、是/否或文字")


def _decimal(text: str) -> Optional[Decimal]:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


# Facts are amounts, counts and rates: a number beyond 10^30 (or finer than 10^-30) is
# a slip, and arithmetic on it would overflow the exact decimal context.
MAX_EXPONENT = 30


def _sane(number: Decimal, where: Where, lines) -> Decimal:
    if number.is_finite() and number != 0 and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise _error(f"{number} is out of range for a fact (at most 30 digits before or after "
                     "the point)", where, lines, "is this the right number?",
                     cn=f"{number} 超出了数据的范围（小数点前后最多30位）",
                     hint_cn="这个数对吗？")
    return number


def _load_json(text: str, path: str, lines) -> Any:
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal,
                          parse_constant=lambda c: c, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise FactsError(Diagnostic(ERROR, f"broken JSON: {exc.msg}", file=path, line=exc.lineno,
                                    column=exc.colno, source_line=_line_of(lines, exc.lineno),
                                    code="facts", message_cn="JSON 格式有误",
                                    hint="check commas, brackets and quotes near here",
                                    hint_cn="请检查这里附近的逗号、括号和引号")) from None
    except _DuplicateKey as exc:
        raise FactsError(Diagnostic(ERROR, f"{exc.args[0]!r} is given twice", file=path,
                                    hint="a fact has one value; remove one of them",
                                    code="facts", message_cn=f"“{exc.args[0]}”写了两次",
                                    hint_cn="每个数据只有一个值，请删去其中一个")) from None
    except RecursionError:
        raise FactsError(Diagnostic(ERROR, "JSON nested too deeply", file=path,
                                    message_cn="JSON 嵌套层数太多")) from None
    return _plain_tree(data, path)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _load_toml(text: str, path: str, lines) -> Any:
    import tomllib

    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+), column (\d+)", str(exc))
        line, column = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        if match is None and "end of document" in str(exc) and lines:
            line, column = len(lines), len(lines[-1]) + 1
        raise FactsError(Diagnostic(ERROR, f"broken TOML: {str(exc).split(' (at')[0]}",
                                    file=path, line=line, column=column,
                                    source_line=_line_of(lines, line), code="facts",
                                    message_cn="TOML 格式有误",
                                    hint="check the quotes, brackets and `=` near here",
                                    hint_cn="请检查这里附近的引号、括号和“=”")) from None
    except RecursionError:
        raise FactsError(Diagnostic(ERROR, "TOML nested too deeply", file=path,
                                    message_cn="TOML 嵌套层数太多")) from None
    return _plain_tree(data, path)


def _plain_tree(data, path, dotted="", depth=0, budget=None):
    """Wrap plain Python data (from JSON, TOML or a caller) as (value, Where) pairs."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    where = Where(path, dotted)
    if budget[0] < 0:
        raise _error(f"facts have more than {MAX_NODES} values", where, (),
                     cn=f"数据中的值超过 {MAX_NODES} 个")
    if depth > MAX_DEPTH:
        raise _error(f"facts nested more than {MAX_DEPTH} levels deep", where, (),
                     cn=f"数据嵌套超过 {MAX_DEPTH} 层")
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            key = str(key)
            sub = f"{dotted}.{key}" if dotted else key
            v, w = _plain_tree(value, path, sub, depth + 1, budget)
            out[key] = (v, w)
        return out, where
    if isinstance(data, (list, tuple)):
        return [_plain_tree(v, path, f"{dotted}[{i}]", depth + 1, budget)
                for i, v in enumerate(data)], where
    if isinstance(data, bool) or data is None or isinstance(data, str):
        return data, where
    if isinstance(data, Decimal):
        if not data.is_finite():
            raise _error(f"{data} is not a usable number", where, (),
                         cn=f"{data} 不是可用的数")
        return _sane(data, where, ()), where
    if isinstance(data, int):
        if abs(data) >= 10 ** (MAX_EXPONENT + 1):
            raise _error("the number is out of range for a fact", where, (),
                         cn="这个数超出了数据的范围")
        return Decimal(data), where
    if isinstance(data, float):
        if data != data or data in (float("inf"), float("-inf")):
            raise _error(f"{data} is not a usable number", where, (),
                         cn=f"{data} 不是可用的数")
        return _sane(Decimal(repr(data)), where, ()), where
    if hasattr(data, "isoformat"):
        return data.isoformat(), where
    raise _error(f"unsupported value of type {type(data).__name__}", where, (),
                 cn=f"不支持的值类型 {type(data).__name__}")


def _unwrap(pair):
    value, _where = pair
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _build(tree, path: str, lines) -> Facts:
    root, root_where = tree
    facts = Facts(path=path, source_lines=tuple(lines))
    if not isinstance(root, dict):
        raise _error("a facts file is a mapping of names to values", root_where, lines,
                     "start with lines like `name: …` and `indicators:`",
                     cn="数据文件应是“名称: 值”的映射",
                     hint_cn="请以 `name: …` 和 `indicators:` 这样的行开头")
    for key, (value, where) in root.items():
        if key == "indicators":
            if value is None:
                continue
            if not isinstance(value, dict):
                raise _error("`indicators:` maps indicator codes to their facts", where, lines,
                             "e.g.\nindicators:\n  C114:\n    actual: 95",
                             cn="`indicators:` 下应是“指标编码: 该指标的数据”",
                             hint_cn="如\nindicators:\n  C114:\n    实际: 95")
            for code, (table, table_where) in value.items():
                facts.indicators[code] = _indicator_table(code, table, table_where, lines,
                                                          facts)
        else:
            facts.project[key] = FactValue(_unwrap((value, where)), where)
    return facts


def _indicator_table(code, table, where, lines, facts: Facts) -> Dict[str, FactValue]:
    if table is None:
        return {}
    if isinstance(table, str) and table.strip().lower() in ("na", "n/a", "不适用"):
        facts.not_applicable[code] = (None, where)
        return {}
    if not isinstance(table, dict):
        raise _error(f"the facts of {code} must be a mapping of fact names to values", where,
                     lines, f"e.g.\n  {code}:\n    actual: 95\n(or `{code}: na` when it does "
                     "not apply)", cn=f"{code} 的数据应是“数据名: 值”的映射",
                     hint_cn=f"如\n  {code}:\n    实际: 95\n（不适用时写 `{code}: 不适用`）")
    out = {}
    for name, (value, value_where) in table.items():
        if name in NOT_APPLICABLE_KEYS:
            if value is False or value is None:
                continue
            reason = value if isinstance(value, str) else None
            facts.not_applicable[code] = (reason, value_where)
            continue
        if isinstance(value, dict):  # a point's own facts
            facts.points[(code, name)] = {
                key: FactValue(_unwrap(pair), pair[1]) for key, pair in value.items()}
            facts.point_places[(code, name)] = value_where
            continue
        out[name] = FactValue(_unwrap((value, value_where)), value_where)
    return out


# ------------------------------------------------------------------ coercion

_PLAIN_NUMBER_KINDS = ("number", "money")
_MONEY_UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000),
                "亿元": Decimal(100000000)}
_BOOL_TEXT = {"true": True, "yes": True, "是": True, "有": True, "y": True,
              "false": False, "no": False, "否": False, "无": False, "n": False}
_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class CoercionError(ValueError):
    """A fact value that does not fit its declared type: in English and in Chinese."""

    def __init__(self, message: str, hint: Optional[str] = None, *, cn: str = "",
                 hint_cn: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.message_cn = cn or message
        self.hint_cn = hint_cn


def _parse_number_text(text: str) -> Optional[Decimal]:
    text = text.strip().replace("，", ",")
    if _NUMBER_TEXT.match(text) and len(text) <= 60:
        return Decimal(text.replace(",", ""))
    return None


def _parse_percent_text(text: str) -> Optional[Decimal]:
    text = text.strip()
    if text.endswith(("%", "％")):
        number = _parse_number_text(text[:-1])
        if number is not None:
            return number / 100
    return None


def coerce(value, kind: str, *, unit: Optional[str] = None, levels=(), domain=None,
           allow_list: bool = False):
    """A raw fact value as the declared type wants it; CoercionError says what is wrong."""
    if value.__class__ is Decimal and domain is None:  # the common cases, checked first
        if kind in _PLAIN_NUMBER_KINDS:
            return value
        if kind == "count" and value >= 0 and value == value.to_integral_value():
            return value
        if kind == "percent" and -10 <= value <= 10:
            return value
    if isinstance(value, list):
        if not allow_list:
            raise CoercionError("is a list", "a list can be used only in sum(…), mean(…), "
                                "min(…) or max(…); otherwise give one value", cn="是一个列表",
                                hint_cn="列表只能用于 合计、平均、最小值、最大值；此处请填写一个值")
        return [coerce(v, kind, unit=unit, levels=levels, domain=domain) for v in value]
    if value is None:
        raise CoercionError("has no value", "write a value after the colon", cn="没有填写值",
                            hint_cn="请在冒号后填写值")
    if isinstance(value, dict):
        raise CoercionError("is a mapping, not a value",
                            "is this an indicator's facts placed under a fact's name?",
                            cn="是一组数据，而不是一个值", hint_cn="是否把某个指标的数据写到了数据名下？")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
            return _BOOL_TEXT[value.strip().lower()]
        shown = value if isinstance(value, str) else _show_raw(value)
        raise CoercionError(f"must be yes or no, not {shown}", "write true or false (是/否)",
                            cn=f"应为是或否，而不是“{shown}”", hint_cn="请填写 是 或 否")
    if kind == "level":
        if isinstance(value, str) and value in levels:
            return value
        from .errors import did_you_mean

        shown = value if isinstance(value, str) else _show_raw(value)
        guess = did_you_mean(shown, levels) if isinstance(shown, str) else None
        hint = f"did you mean {guess!r}?" if guess else None
        raise CoercionError(f"{shown!r} is not one of the declared levels: "
                            f"{', '.join(levels)}", hint,
                            cn=f"“{shown}”不是可选项之一（{'、'.join(levels)}）",
                            hint_cn=f"是否应为“{guess}”？" if guess else
                            f"请从 {'、'.join(levels)} 中选择")
    if kind == "text":
        if isinstance(value, bool):
            raise CoercionError("must be a text, not yes/no", cn="应为文本，而不是是/否")
        return value if isinstance(value, str) else _show_raw(value)
    number = _to_number(value, kind, unit)
    if kind == "count":
        if number != number.to_integral_value() or number < 0:
            raise CoercionError(f"must be a whole number of at least 0, not {_show_raw(number)}",
                                cn=f"应为不小于0的整数，而不是{_show_raw(number)}")
    if domain is not None and not domain.contains(number):
        from .numbers import percent, plain

        fmt = percent if kind == "percent" else plain
        raise CoercionError(f"{fmt(number)} is outside the declared range {domain.show(fmt)}",
                            cn=f"{fmt(number)}超出规定范围{domain.show(fmt)}",
                            hint_cn="请核对数据")
    return number


def _show_raw(value) -> str:
    if isinstance(value, Decimal):
        from .numbers import plain

        return plain(value)
    return str(value)


def _to_number(value, kind: str, unit: Optional[str]) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError(f"must be a number, not {'true' if value else 'false'}",
                            "yes/no facts are declared `bool`",
                            cn=f"应为数值，而不是{'是' if value else '否'}",
                            hint_cn="是/否的数据应声明为 `是否`")
    if isinstance(value, Decimal):
        if kind == "percent" and abs(value) > 10:
            # 95 for 95% is a common slip; read literally it would mean 9500%.
            raise CoercionError(f"{_show_raw(value)} is ambiguous for a percentage",
                                f"write {_show_raw(value)}% (or {_show_raw(value / 100)})",
                                cn=f"百分比{_show_raw(value)}含义不明",
                                hint_cn=f"请写成 {_show_raw(value)}%（或 {_show_raw(value / 100)}）")
        return value
    if not isinstance(value, str):
        raise CoercionError(f"must be a number, not {value!r}", cn=f"应为数值，而不是“{value}”")
    text = value.strip()
    if kind in ("percent", "number"):
        as_percent = _parse_percent_text(text)
        if as_percent is not None:
            return as_percent
    if kind == "money":
        for suffix in sorted(_MONEY_UNITS, key=len, reverse=True):
            if text.endswith(suffix):
                number = _parse_number_text(text[: -len(suffix)])
                if number is None:
                    break
                target = _MONEY_UNITS.get(unit or "元", Decimal(1))
                return number * _MONEY_UNITS[suffix] / target
    number = _parse_number_text(text)
    if number is not None:
        return number
    if kind == "money":
        raise CoercionError(f"must be an amount of money, not {value!r}",
                            f"write a number in {unit or '元'}, or a text such as 212.85万元",
                            cn=f"应为金额，而不是“{value}”",
                            hint_cn=f"请填写以{unit or '元'}为单位的数，或如 212.85万元")
    if kind == "percent":
        raise CoercionError(f"must be a percentage, not {value!r}", "write 93.5% or 0.935",
                            cn=f"应为百分比，而不是“{value}”", hint_cn="请填写如 93.5% 或 0.935")
    raise CoercionError(f"must be a number, not {value!r}", cn=f"应为数值，而不是“{value}”")


# ------------------------------------------------------- mappings, the fast way
#
# Facts.from_mapping() is on the path of every project a batch scores. The careful
# path above wraps every value as a (value, Where) pair and builds a Where and a
# dotted path for each fact; for the common shape ({"indicators": {code: {name:
# scalar}}, plus project-wide scalars) the fast path below builds the same Facts in
# one pass and words a fact's place only when someone asks for it. Anything it does
# not expect — a non-text key, an out-of-range number, a value of another type, too
# many values — sends the whole mapping down the careful path, so results and error
# messages are the same either way.


class _MappedFact(FactValue):
    """A FactValue from a mapping: its Where is made only when read (messages are rare)."""

    __slots__ = ("_place", "_name")

    @property
    def where(self) -> Where:
        path, code = self._place
        return Where(path, self._name if code is None else f"indicators.{code}.{self._name}")

    def __reduce__(self):
        return FactValue, (self.value, self.where)


_new = object.__new__
_set_value = FactValue.value.__set__
_set_place = _MappedFact._place.__set__
_set_name = _MappedFact._name.__set__
_SLOW = object()
_INT_LIMIT = 10 ** (MAX_EXPONENT + 1)
# Decimal(n) for small whole numbers, shared: counts and amounts repeat across projects,
# and a decimal is immutable (same value, same exponent as a fresh Decimal(n)).
_SMALL_INTS: Dict[int, Decimal] = {}


def _mapped(value, place, name) -> _MappedFact:
    fact = _new(_MappedFact)
    _set_value(fact, value)
    _set_place(fact, place)
    _set_name(fact, name)
    return fact


def _fast_scalar(value):
    """A plain value converted as _plain_tree converts it, or _SLOW."""
    cls = value.__class__
    if cls is str or cls is bool or value is None:
        return value
    if cls is int:
        number = _SMALL_INTS.get(value)
        if number is None:
            if not -_INT_LIMIT < value < _INT_LIMIT:
                return _SLOW
            number = Decimal(value)
            if -1000 <= value <= 100_000 and len(_SMALL_INTS) < 8192:
                _SMALL_INTS[value] = number
        return number
    if cls is Decimal:
        if not value.is_finite():
            return _SLOW
        if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
            return _SLOW
        return value
    if cls is float:
        if value != value or value in (float("inf"), float("-inf")):
            return _SLOW
        number = Decimal(repr(value))
        if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
            return _SLOW
        return number
    return _SLOW


def _fast_nested(value, path, dotted, depth, budget):
    """A list or mapping value: converted by the careful path, or _SLOW on any problem."""
    if not isinstance(value, (dict, list, tuple)) and not hasattr(value, "isoformat"):
        return _SLOW
    try:
        return _unwrap(_plain_tree(value, path, dotted, depth, budget))
    except FactsError:
        return _SLOW


_NA_KEYS = frozenset(NOT_APPLICABLE_KEYS)
_NA_TEXT = ("na", "n/a", "不适用")


def _fast_build(data, path: str) -> Optional[Facts]:
    if data.__class__ is not dict:
        return None
    # What the careful path's budget counts: the root, then every value below it.
    budget = [MAX_NODES - 1 - len(data)]
    project: Dict[str, FactValue] = {}
    indicators: Dict[str, Dict[str, FactValue]] = {}
    not_applicable: Dict[str, Tuple[Optional[str], Where]] = {}
    scalar, small_get, na_keys = _fast_scalar, _SMALL_INTS.get, _NA_KEYS
    new_fact, set_value, set_place, set_name = _new, _set_value, _set_place, _set_name
    for key, value in data.items():
        if key.__class__ is not str:
            return None
        if key == "indicators":
            if value is None:
                continue
            if value.__class__ is not dict:
                return None  # the careful path words the error
            budget[0] -= len(value)
            for code, table in value.items():
                if code.__class__ is not str:
                    return None
                if table.__class__ is not dict:
                    if table is None:
                        indicators[code] = {}
                        continue
                    if table.__class__ is str and table.strip().lower() in _NA_TEXT:
                        not_applicable[code] = (None, Where(path, f"indicators.{code}"))
                        indicators[code] = {}
                        continue
                    return None
                budget[0] -= len(table)
                place = (path, code)
                out = {}
                for name, raw in table.items():
                    cls = raw.__class__
                    if cls is bool or cls is str:  # the common cases, inline
                        converted = raw
                    elif cls is int:
                        converted = small_get(raw)
                        if converted is None:
                            converted = scalar(raw)
                    else:
                        converted = scalar(raw)
                    if converted is _SLOW:
                        if name.__class__ is not str or cls is dict:
                            return None  # a point's own table: the careful path reads it
                        budget[0] += 1  # _plain_tree counts this value itself
                        converted = _fast_nested(raw, path, f"indicators.{code}.{name}", 3,
                                                 budget)
                        if converted is _SLOW:
                            return None
                    if name in na_keys:
                        if converted is False or converted is None:
                            continue
                        reason = converted if isinstance(converted, str) else None
                        not_applicable[code] = (reason, Where(path, f"indicators.{code}.{name}"))
                        continue
                    if name.__class__ is not str:
                        return None
                    fact = new_fact(_MappedFact)
                    set_value(fact, converted)
                    set_place(fact, place)
                    set_name(fact, name)
                    out[name] = fact
                indicators[code] = out
            continue
        converted = scalar(value)
        if converted is _SLOW:
            budget[0] += 1
            converted = _fast_nested(value, path, key, 1, budget)
            if converted is _SLOW:
                return None
        fact = new_fact(_MappedFact)
        set_value(fact, converted)
        set_place(fact, (path, None))
        set_name(fact, key)
        project[key] = fact
    if budget[0] < 0:
        return None
    return Facts(project, indicators, not_applicable, path, ())


def plain_mapping(data) -> bool:
    """Whether ``Facts.from_mapping(data)`` would simply wrap every value: the fast path,
    no indicator marked not applicable, every value a scalar (text, yes/no, None, or a
    number in range). Generated code may then read such a mapping directly."""
    if data.__class__ is not dict:
        return False
    count = 1 + len(data)
    plain = _plain_scalar
    for key, value in data.items():
        if key.__class__ is not str:
            return False
        if key == "indicators":
            if value is None:
                continue
            if value.__class__ is not dict:
                return False
            count += len(value)
            for code, table in value.items():
                if code.__class__ is not str:
                    return False
                if table is None:
                    continue
                if table.__class__ is not dict:
                    return False
                count += len(table)
                for name, raw in table.items():
                    cls = raw.__class__
                    if name.__class__ is not str or name in _NA_KEYS:
                        return False
                    if cls is bool or cls is str:
                        continue
                    if not plain(raw):
                        return False
            continue
        if not plain(value):
            return False
    return count <= MAX_NODES


def _plain_scalar(value) -> bool:
    cls = value.__class__
    if cls is str or cls is bool or value is None:
        return True
    if cls is int:
        return -_INT_LIMIT < value < _INT_LIMIT
    if cls is Decimal or cls is float:
        return _fast_scalar(value) is not _SLOW
    return False
