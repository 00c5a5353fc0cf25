"""The language server, ``indicator-eval lsp``: an editor's view of a ``.ind`` file.

It speaks the Language Server Protocol over stdio (pygls) and offers, for VS Code,
Vim/Neovim and any other LSP client:

* diagnostics as the author types: every problem ``indicator-eval check`` reports,
  with the same messages (problems of imported or extended files are shown at the
  ``import``/``extends`` statement that brings them in);
* hover: an indicator's 分值, level, 指标解释, 评分标准, rule and the facts it reads; a
  fact's type and declaration; a rule's parameters and body; functions and keywords;
* completion of facts, values, rules, functions, keywords (English and Chinese),
  level values and indicator codes;
* go to definition across files, document symbols (the indicator tree), formatting.

The analysis of one buffer (:class:`Analysis`) is plain Python on top of the
pipeline (``api.check_text``, the AST spans, ``requirements.fact_needs``); the server
part only converts positions and wraps results in protocol types. A handler never
lets an exception out: a broken buffer yields diagnostics, and an internal error is
logged to the client (``window/logMessage``) while the request gets an empty answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import traceback
from pathlib import Path
from urllib.parse import unquote
from typing import Callable, Dict, List, Optional, Tuple

import attrs
from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import __version__
from . import nodes as n
from .api import check_text
from .checker import CheckedIndicator, CheckedSet, FactInfo, LetInfo, Scope
from .errors import ERROR, WARNING, Diagnostic, IndicatorError, SetError, cn_of
from .keywords import FUNCTION_DESCRIPTIONS, FUNCTIONS, KEYWORDS, Keyword
from .modules import resolve
from .numbers import plain
from .parser import parse, parse_recovering, read_source

SOURCE = "indicator-dsl"
LANGUAGE_ID = "indicator"
# Diagnostics are recomputed this long after the last keystroke (requests that need the
# analysis earlier compute it at once).
DEBOUNCE_SECONDS = 0.15

_WORD = re.compile(r"[\w①-⑳]+(?:\.[\w①-⑳]+)*")
_KEYWORD_BY_SPELLING: Dict[str, Keyword] = {}
for _keyword in KEYWORDS:
    _KEYWORD_BY_SPELLING.setdefault(_keyword.english, _keyword)
    for _part in _keyword.english.split():
        if not _part.isdigit():
            _KEYWORD_BY_SPELLING.setdefault(_part, _keyword)
    for _spelling in _keyword.chinese:
        _KEYWORD_BY_SPELLING.setdefault(_spelling, _keyword)
_FUNCTION_BY_SPELLING: Dict[str, str] = {}
for _english, _spellings in FUNCTIONS.items():
    _FUNCTION_BY_SPELLING[_english] = _english
    for _spelling in _spellings:
        _FUNCTION_BY_SPELLING[_spelling] = _english
# Chinese keyword spellings, longest first: found inside a run of CJK text under the cursor.
_CHINESE_SPELLINGS = sorted((s for k in KEYWORDS for s in k.chinese), key=len, reverse=True)

_KIND_NAMES = {"number": "数值", "percent": "百分比", "count": "个数", "bool": "是否",
               "text": "文本", "money": "金额", "level": "选项", "any": "任意（规则参数）"}
_LEVEL_NAMES = "一二三四五六七八九十"


def _spellings(english: str) -> Tuple[str, ...]:
    for keyword in KEYWORDS:
        if keyword.english == english:
            return (english,) + keyword.chinese
    return (english,)


def _level_name(depth: int) -> str:
    return f"{_LEVEL_NAMES[depth - 1]}级指标" if 1 <= depth <= len(_LEVEL_NAMES) \
        else f"第{depth}级指标"


# ------------------------------------------------------------------ positions


class Lines:
    """A text's lines, with conversion between 1-based (line, column) in characters,
    as spans and diagnostics count, and LSP positions in the client's code units
    (UTF-16 unless the client chose otherwise)."""

    def __init__(self, text: str, units: Callable[[str], int]):
        self.lines = text.split("\n")  # as the parser splits, so line numbers agree
        self.units = units

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].rstrip("\r")
        return ""

    def position(self, line: int, column: int) -> t.Position:
        line = min(max(line, 1), max(len(self.lines), 1))
        text = self.line(line)
        index = min(max(column - 1, 0), len(text))
        return t.Position(line=line - 1, character=self.units(text[:index]))

    def char_index(self, position: t.Position) -> Tuple[int, int]:
        """An LSP position → (1-based line, 0-based index of the character at it)."""
        line = position.line + 1
        text = self.line(line)
        counted = 0
        for index, ch in enumerate(text):
            if counted >= position.character:
                return line, index
            counted += self.units(ch)
        return line, len(text)

    def span_range(self, span: n.Span) -> t.Range:
        return t.Range(start=self.position(span.line, span.column),
                       end=self.position(span.end_line, span.end_column))

    def word_range(self, line: int, column: int, word: str) -> t.Range:
        return t.Range(start=self.position(line, column),
                       end=self.position(line, column + len(word)))

    def diagnostic_range(self, d: Diagnostic) -> t.Range:
        if d.line is None:
            return t.Range(start=t.Position(line=0, character=0),
                           end=self.position(1, len(self.line(1)) + 1))
        column = d.column or 1
        end = d.end_column if d.end_column and d.end_column > column else None
        if end is None:
            # No width given: mark the word (or character) the message points at.
            text = self.line(d.line)
            found = re.compile(r"[\w①-⑳.]+|\S").match(text, column - 1)
            end = found.end() + 1 if found else column
        return t.Range(start=self.position(d.line, column), end=self.position(d.line, end))

    def whole(self) -> t.Range:
        last = len(self.lines)
        return t.Range(start=t.Position(line=0, character=0),
                       end=t.Position(line=last - 1, character=self.units(self.lines[-1])))

    def find_word(self, span: n.Span, word: str, after: int = 0) -> Tuple[int, int]:
        """(line, column) of ``word`` as a whole name inside ``span`` (first occurrence
        at or after column ``after`` of the span's first line), else the span's start."""
        pattern = re.compile(r"(?<![\w①-⑳.])" + re.escape(word) + r"(?![\w①-⑳])")
        for line in range(span.line, span.end_line + 1):
            text = self.line(line)
            start = max(span.column - 1, after - 1, 0) if line == span.line else 0
            found = pattern.search(text, start)
            if found and (line < span.end_line or found.end() < span.end_column):
                return line, found.start() + 1
        return span.line, span.column

    def text_of(self, span: n.Span) -> str:
        """The source of a span, its continuation lines kept (by line and column: the
        offsets of a tree parsed around a broken line are shifted, these are not)."""
        if span.line == span.end_line:
            return self.line(span.line)[span.column - 1:span.end_column - 1]
        out = [self.line(span.line)[span.column - 1:].rstrip()]
        for line in range(span.line + 1, span.end_line):
            out.append("    " + self.line(line).strip())
        out.append("    " + self.line(span.end_line)[:span.end_column - 1].strip())
        return "\n".join(part for part in out if part.strip())


def line_context(text: str, index: int) -> str:
    """"comment", "string" or "code": where ``index`` of one line falls."""
    from .formatter import line_state

    comment, in_string = line_state(text[:index])
    if comment is not None:
        return "comment"
    return "string" if in_string else "code"


def word_at(text: str, index: int) -> Optional[Tuple[str, int]]:
    """The name under (or just before) ``index`` and its 0-based start."""
    before = None
    for found in _WORD.finditer(text):
        if found.start() <= index < found.end():
            return found.group(), found.start()
        if found.end() == index:
            before = (found.group(), found.start())
    return before


def chinese_keyword_at(text: str, index: int) -> Optional[Keyword]:
    """The longest Chinese keyword spelling written across ``index`` (Chinese keywords
    may stand next to other CJK text with no space between)."""
    for spelling in _CHINESE_SPELLINGS:
        start = text.find(spelling, max(0, index - len(spelling)))
        while start != -1 and start <= index:
            if start <= index < start + len(spelling) or (
                    index == start + len(spelling) and index == len(text)):
                return _KEYWORD_BY_SPELLING[spelling]
            start = text.find(spelling, start + 1)
    return None


# ------------------------------------------------------------------- analysis


def _same_file(a: Optional[str], b: Optional[str]) -> bool:
    if a is None or b is None:
        return False
    if a == b:
        return True
    if a.startswith("<") or b.startswith("<"):
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _key(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return path


def _language(analysis: "Analysis") -> str:
    """The language of a buffer's diagnostics, as `check` shows them: Chinese for a file
    written in the Chinese keywords, or when the server runs in a Chinese locale (or with
    INDICATOR_LANG=zh)."""
    from .messages import requested, resolve, text_spelling

    spelling = analysis.tree.spelling if analysis.tree is not None else \
        text_spelling(analysis.text)
    return resolve(requested(), spelling)


@attrs.define(eq=False)
class Analysis:
    """One buffer as the pipeline sees it: its own parse, the linked and checked set,
    the compiled plans (for the facts each leaf reads), and every diagnostic."""

    path: str
    text: str
    version: Optional[int]
    tree: Optional[n.SetFile]  # this file alone, from the lines that parse
    checked: Optional[CheckedSet]  # linked and checked (from the lines that parse)
    diagnostics: List[Diagnostic]
    plans: dict
    files: set  # resolved paths of every file read to build the set
    read_file: Callable = attrs.field(repr=False, default=read_source)
    _needs: Optional[dict] = None
    _base: Optional[n.SetFile] = None

    @property
    def ok(self) -> bool:
        return self.checked is not None and self.tree is not None

    def needs(self) -> dict:
        """name → :class:`~indicator_dsl.requirements.FactNeed`, for the leaves compiled."""
        if self._needs is None:
            from .requirements import fact_needs

            self._needs = {}
            if self.checked is not None and self.plans:
                try:
                    self._needs = {need.name: need for need in
                                   fact_needs(self.checked, self.plans)}
                except Exception:  # a partly checked set: hover shows less, nothing breaks
                    self._needs = {}
        return self._needs

    def text_for(self, path: str) -> Optional[str]:
        if _same_file(path, self.path):
            return self.text
        if self.checked is not None:
            text = self.checked.source.text_for(path) if hasattr(
                self.checked.source, "text_for") else None
            if text is not None:
                return text
        try:
            return self.read_file(Path(path))
        except (IndicatorError, OSError):
            return None

    def base_tree(self) -> Optional[n.SetFile]:
        """The linked set this file extends (for codes it removes), or None."""
        if self._base is None and self.tree is not None and self.tree.extends is not None:
            from .modules import link

            found = resolve(self.tree.extends.path, self.path)
            text = self.text_for(str(found)) if found else None
            if text is not None:
                try:
                    self._base = link(text, str(found), self.read_file).tree
                except Exception:
                    self._base = None
        return self._base


def analyse(text: str, path: str, version: Optional[int] = None,
            read_file: Callable = read_source) -> Analysis:
    """Everything the editor features need about one buffer. Never raises for bad text."""
    checked = None
    try:
        checked = check_text(text, path, read_file)
        diagnostics = list(checked.diagnostics)
    except SetError as exc:
        diagnostics = list(exc.diagnostics)
        checked = getattr(exc, "checked", None)
    except IndicatorError as exc:
        diagnostics = list(exc.diagnostics)
    except RecursionError:
        diagnostics = [Diagnostic(ERROR, "the file is nested too deeply to be read",
                                  file=path, code="syntax",
                                  message_cn="文件嵌套层数太多，无法读取")]
    try:
        tree, _ = parse_recovering(text, path)
    except (IndicatorError, RecursionError):
        tree = None
    plans = {}
    if checked is not None:
        plans = _compile(checked)
    files = {_key(path)}
    if checked is not None and hasattr(checked.source, "files"):
        files |= {_key(p) for p in checked.source.files}
    files |= {_key(d.file) for d in diagnostics if d.file and not d.file.startswith("<")}
    return Analysis(path, text, version, tree, checked, diagnostics, plans, files, read_file)


def _compile(checked: CheckedSet) -> dict:
    """The compiled leaf plans, leaf by leaf, so one leaf the checker rejected does not
    hide the facts every other leaf reads."""
    from .compiler import compile_set

    try:
        return compile_set(checked)
    except Exception:
        pass
    plans = {}
    for leaf in checked.leaves():
        try:
            plans.update(_compile_leaf(checked, leaf))
        except Exception:
            continue
    return plans


def _compile_leaf(checked: CheckedSet, leaf: CheckedIndicator) -> dict:
    from .compiler import compile_set

    return compile_set(attrs.evolve(checked, roots=[leaf], by_code={leaf.code: leaf},
                                    diagnostics=[]))


# ----------------------------------------------------------- under the cursor


@attrs.define
class Target:
    """What the cursor is on."""

    kind: str  # indicator, fact, let, param, rule, function, keyword, file
    name: str
    node: object = None  # the AST node or checker record that says more
    reference: Optional[n.Span] = None  # where the cursor's occurrence was written
    extra: object = None


class Cursor:
    """A position in a buffer with the nodes under it."""

    def __init__(self, analysis: Analysis, tree: Optional[n.SetFile], lines: Lines,
                 line: int, index: int):
        self.analysis = analysis
        self.lines = lines
        self.line = line
        self.index = index
        self.text = lines.line(line)
        self.context = line_context(self.text, index)
        self.nodes = n.nodes_at(tree, line, index + 1, file=analysis.path) \
            if tree is not None else []
        found = word_at(self.text, index)
        self.word, self.word_start = found if found else (None, index)

    def innermost(self, *types):
        for node in reversed(self.nodes):
            if isinstance(node, types):
                return node
        return None

    @property
    def owner_code(self) -> Optional[str]:
        node = self.innermost(n.Indicator, n.Override, n.Under)
        return node.code if node is not None else None


def _root_scope(checked: CheckedSet) -> Optional[Scope]:
    for root in checked.roots:
        return root.scope.parent
    return None


def _info_from_decl(decl: n.FactDecl, name: str) -> FactInfo:
    return FactInfo(name, decl.type.kind, decl.label, decl.type.unit, decl.type.levels,
                    None, True, decl.span)


def lookup(analysis: Analysis, cursor: Cursor, name: str) -> Optional[Target]:
    """The binding a name has at the cursor: a rule's own `let`, a rule parameter, a
    fact or value of the indicator's scope or the set's, or an undeclared fact."""
    rule = cursor.innermost(n.Rule)
    if rule is not None:
        for clause in rule.clauses:
            if isinstance(clause, n.Let) and clause.name == name:
                return Target("let", name, clause)
    definition = cursor.innermost(n.RuleDef)
    if definition is not None and name in definition.params:
        return Target("param", name, definition)
    checked = analysis.checked
    if checked is not None:
        code = cursor.owner_code
        scope = None
        if code is not None and code in checked.by_code:
            scope = checked.by_code[code].scope
        scope = scope or _root_scope(checked)
        binding = scope.lookup(name) if scope is not None else None
        if binding is None:
            for decl in checked.file.facts:
                if name in decl.names:
                    binding = _info_from_decl(decl, name)
            for let in checked.file.lets:
                if let.name == name:
                    return Target("let", name, let)
        if isinstance(binding, FactInfo):
            return Target("fact", name, binding)
        if isinstance(binding, LetInfo):
            return Target("let", name, binding.let)
        if name in checked.facts:
            return Target("fact", name, checked.facts[name])
    # No checked set: what this file's own declarations say.
    tree = analysis.tree
    if tree is not None:
        for node in reversed(cursor.nodes):
            if isinstance(node, (n.Indicator, n.Override, n.Under)):
                for decl in node.facts:
                    if name in decl.names:
                        return Target("fact", name, _info_from_decl(decl, name))
                for let in node.lets:
                    if let.name == name:
                        return Target("let", name, let)
        for decl in tree.facts:
            if name in decl.names:
                return Target("fact", name, _info_from_decl(decl, name))
        for let in tree.lets:
            if let.name == name:
                return Target("let", name, let)
    return None


def _rule_defs(analysis: Analysis) -> Dict[str, n.RuleDef]:
    out = {}
    if analysis.tree is not None:
        out.update({d.name: d for d in analysis.tree.rule_defs})
    if analysis.checked is not None:
        out.update({d.name: d for d in analysis.checked.file.rule_defs})
    return out


def target_at(analysis: Analysis, cursor: Cursor) -> Optional[Target]:
    if cursor.context == "comment":
        return None
    statement = cursor.innermost(n.Import, n.Extends)
    if cursor.context == "string":
        if statement is not None:
            found = resolve(statement.path, analysis.path)
            return Target("file", statement.path, statement, extra=found)
        return None
    word = cursor.word
    if not word:
        return None
    line, column = cursor.line, cursor.word_start + 1
    here = n.Span(analysis.path, line, column, line, column + len(word))
    for node in reversed(cursor.nodes):
        if isinstance(node, n.Call) and node.func == word:
            defs = _rule_defs(analysis)
            if word in defs:
                return Target("rule", word, defs[word], here)
            if word in _FUNCTION_BY_SPELLING:
                return Target("function", _FUNCTION_BY_SPELLING[word], None, here)
        if isinstance(node, n.Name) and node.name == word:
            found = lookup(analysis, cursor, word)
            if found is not None:
                found.reference = here
            return found
        if isinstance(node, n.Expect) and node.name == word:
            return lookup(analysis, cursor, word)
        if isinstance(node, (n.Indicator, n.Override, n.Under)) and node.code == word \
                and line == node.span.line:
            return Target("indicator", word, node, here)
        if isinstance(node, n.Remove) and word in node.codes:
            return Target("indicator", word, node, here)
        if isinstance(node, n.FactDecl) and word in node.names:
            found = lookup(analysis, cursor, word)
            return found or Target("fact", word, _info_from_decl(node, word))
        if isinstance(node, n.Let) and node.name == word:
            return Target("let", word, node)
        if isinstance(node, n.RuleDef):
            if word == node.name:
                return Target("rule", word, node)
            if word in node.params:
                return Target("param", word, node)
        if isinstance(node, n.Import):
            if word in node.names:
                defs = _rule_defs(analysis)
                if word in defs:
                    return Target("rule", word, defs[word], here)
            if word == node.alias:
                return Target("file", node.path, node, extra=resolve(node.path, analysis.path))
    if word in _KEYWORD_BY_SPELLING:
        checked = analysis.checked
        code = cursor.owner_code
        record = checked.by_code.get(code) if checked is not None and code else None
        extra = (record.code, record.weight) if record is not None else None
        point = cursor.innermost(n.Point)
        if point is not None and record is not None:  # `full` of a point is the point's
            weight = next((p.weight for p in record.points if p.label == point.label), None)
            extra = (f"{record.code} 要点 {point.label}", weight) if weight is not None else None
        return Target("keyword", word, _KEYWORD_BY_SPELLING[word], extra=extra)
    keyword = chinese_keyword_at(cursor.text, cursor.index)
    if keyword is not None:
        return Target("keyword", keyword.english, keyword)
    if word in _FUNCTION_BY_SPELLING:
        return Target("function", _FUNCTION_BY_SPELLING[word])
    return None


# ----------------------------------------------------------------------- hover


def _where(analysis: Analysis, span: Optional[n.Span]) -> str:
    if span is None:
        return "（位置不详）"
    if _same_file(span.file, analysis.path):
        return f"本文件第 {span.line} 行"
    return f"{_shown_path(span.file, analysis.path)} 第 {span.line} 行"


def _shown_path(path: str, relative_to: str) -> str:
    from .modules import library_dir

    try:  # a file of the standard library is named as `import`/`extends` name it
        inside = Path(path).resolve().relative_to(library_dir())
        return f"标准库 {inside.as_posix()}"
    except (OSError, ValueError):
        pass
    if relative_to.startswith("<"):
        return path
    try:
        return os.path.relpath(Path(path).resolve(), Path(relative_to).resolve().parent)
    except (OSError, ValueError):
        return path


def _source(analysis: Analysis, span: Optional[n.Span]) -> Optional[str]:
    if span is None:
        return None
    text = analysis.text_for(span.file)
    if text is None:
        return None
    return Lines(text, len).text_of(span)


def _code_block(text: str) -> str:
    return f"```{LANGUAGE_ID}\n{text}\n```"


def _weight_text(checked: Optional[CheckedIndicator], node) -> str:
    weight = getattr(node, "weight", None)
    if checked is not None:
        points = plain(checked.weight)
        if weight is not None and weight.is_percent:
            return f"**{points}** 分（权重 {plain(weight.value * 100)}%）"
        return f"**{points}** 分"
    if weight is not None:
        return f"权重 {plain(weight.value * 100)}%" if weight.is_percent \
            else f"**{plain(weight.value)}** 分"
    return "分值未定"


def _fact_line(info: FactInfo) -> str:
    kind = _KIND_NAMES.get(info.kind, info.kind)
    if info.kind == "money":
        kind += f"（{info.unit or '元'}）"
    parts = [f"`{info.name}`"]
    if info.label:
        parts.append(info.label)
    out = " ".join(parts) + f"（{kind}"
    if info.domain is not None:
        out += f"，{info.domain.show(plain)}"
    if info.levels:
        out += "：" + "、".join(f"“{level}”" for level in info.levels)
    if not info.declared:
        out += "，未声明"
    return out + "）"


def hover_indicator(analysis: Analysis, target: Target) -> str:
    checked = analysis.checked
    code = target.name
    record = checked.by_code.get(code) if checked is not None else None
    node = record.node if record is not None else (
        target.node if isinstance(target.node, n.Indicator) else None)
    if record is None and node is None:
        base = analysis.base_tree()
        node = _find_indicator(base, code) if base is not None else None
        if node is None:
            return f"**{code}**：此指标不在当前指标体系中"
        if isinstance(target.node, n.Remove):
            out = [f"### {code} {node.name or ''}".rstrip(), "",
                   f"已由本文件删除（原定义于 {_where(analysis, node.span)}）"]
            return "\n".join(out)
    title = f"### {code} {node.name or ''}".rstrip()
    out = [title, ""]
    facts = [_level_name(record.depth)] if record is not None else []
    facts.append("末级指标" if node.is_leaf else "上级指标（分组）")
    facts.append("分值 " + _weight_text(record, node))
    if node.bonus:
        facts.append("加分项")
    out.append(" · ".join(facts))
    if record is not None and record.parent is not None:
        parent = record.parent
        out.append(f"\n上级：{parent.code} {parent.name or ''}（{plain(parent.weight)} 分）")
    if node.explain:
        out.append(f"\n**指标解释**：{node.explain}")
    if node.standard:
        out.append(f"\n**评分标准**：{node.standard}")
    if record is not None and record.children:
        parts = [f"{c.code} {c.name or ''}（{plain(c.weight)} 分）" for c in record.children]
        out.append("\n**下级指标**：" + "；".join(parts))
        if node.na_policy == n.NA_SHARE:
            out.append("\n下级指标不适用时：其分值均摊到其余指标")
    if node.rule is not None:
        written = _source(analysis, node.rule.span) or ""
        out.append("\n**评分规则**（原文）：\n" + _code_block(written))
        call = _rule_call(node.rule)
        defs = _rule_defs(analysis)
        if call is not None and call.func in defs:
            definition = defs[call.func]
            out.append(f"\n调用规则 `{call.func}`（定义于 {_where(analysis, definition.span)}）")
            if record is not None and record.rule is not None:
                from .formatter import format_rule

                out.append("展开为：\n" + _code_block(format_rule(record.rule, "    ")))
    for point in node.points:
        what = f"占 {_source(analysis, point.weight.span) or ''}" if point.is_share \
            else f"{_source(analysis, point.weight.span) or ''} 分"
        out.append(f"\n**要点 {point.label}**（{what}）：\n" +
                   _code_block(_source(analysis, point.rule.span) or ""))
    plan = analysis.plans.get(code)
    if plan is not None:
        names = []
        for name, info, _allow_list, _span in plan.fact_slots:
            if name not in [x for x, _ in names]:
                names.append((name, info))
        if names:
            out.append("\n**读取的数据**：")
            out.extend(f"- {_fact_line(info)}" for _, info in names)
    origins = checked.origins.get(code) if checked is not None else None
    if origins:
        out.append("\n**来源**：" + "；".join(cn_of(note) for note in origins))
    if node.span is not None and not _same_file(node.span.file, analysis.path):
        out.append(f"\n定义于 {_where(analysis, node.span)}")
    return "\n".join(out)


def _rule_call(rule: n.Rule) -> Optional[n.Call]:
    if len(rule.clauses) == 1 and isinstance(rule.clauses[0], n.Result) and \
            isinstance(rule.clauses[0].value, n.Call):
        return rule.clauses[0].value
    return None


def _find_indicator(tree: Optional[n.SetFile], code: str) -> Optional[n.Indicator]:
    if tree is None:
        return None
    stack = list(tree.indicators)
    while stack:
        node = stack.pop()
        if node.code == code:
            return node
        stack.extend(node.children)
    return None


def hover_fact(analysis: Analysis, target: Target) -> str:
    info: FactInfo = target.node
    head = f"### 数据 `{info.name}`" + (f"：{info.label}" if info.label else "")
    out = [head, ""]
    kind = _KIND_NAMES.get(info.kind, info.kind)
    if info.kind == "money":
        kind += f"，单位 {info.unit or '元'}"
    lines = [f"- 类型：{kind}"]
    if info.domain is not None:
        lines.append(f"- 取值范围：{info.domain.show(plain)}")
    if info.levels:
        lines.append("- 选项：" + "、".join(f"“{level}”" for level in info.levels))
    need = analysis.needs().get(info.name)
    if info.declared:
        where = _where(analysis, info.span)
        if need is not None and need.declared_in:
            where += f"（指标 {need.declared_in} 内）"
        lines.append(f"- 声明于：{where}")
    else:
        kind_word = "是/否" if info.kind == "bool" else "数值"
        lines.append(f"- 未声明：按{kind_word}读取；建议声明 `fact {info.name}: "
                     f"{'bool' if info.kind == 'bool' else 'number'} \"中文名\"`")
    if need is not None and need.readers:
        lines.append("- 读取它的指标：" + "、".join(need.readers))
        if need.is_list:
            lines.append("- 可填一组数值（用于 sum/mean/min/max）")
    out.extend(lines)
    if info.declared:
        written = _source(analysis, info.span)
        if written:
            out.append("\n" + _code_block(written))
    return "\n".join(out)


def hover_target(analysis: Analysis, target: Target) -> Optional[str]:
    if target.kind == "indicator":
        return hover_indicator(analysis, target)
    if target.kind == "fact":
        return hover_fact(analysis, target)
    if target.kind == "let":
        let: n.Let = target.node
        head = f"### 中间值 `{let.name}`" + (f"：{let.label}" if let.label else "")
        return "\n".join([head, "", f"定义于 {_where(analysis, let.span)}", "",
                          _code_block(_source(analysis, let.span) or "")])
    if target.kind == "param":
        definition: n.RuleDef = target.node
        return (f"### 参数 `{target.name}`\n\n规则 `{definition.name}"
                f"({', '.join(definition.params)})` 的参数：使用规则时传入的值")
    if target.kind == "rule":
        definition = target.node
        out = [f"### 规则 `{definition.name}({', '.join(definition.params)})`", "",
               f"定义于 {_where(analysis, definition.span)}"]
        if definition.params:
            out.append("\n参数：" + "、".join(f"`{p}`" for p in definition.params))
        users = _rule_users(analysis, definition.name)
        if users:
            out.append("\n使用它的指标：" + "、".join(users))
        out.append("\n" + _code_block(_source(analysis, definition.span) or ""))
        return "\n".join(out)
    if target.kind == "function":
        english = target.name
        spellings = "、".join(FUNCTIONS.get(english, ()))
        return (f"### 函数 `{english}`\n\n{FUNCTION_DESCRIPTIONS.get(english, '')}"
                + (f"\n\n中文写法：{spellings}" if spellings else ""))
    if target.kind == "keyword":
        keyword: Keyword = target.node
        spellings = "、".join(keyword.chinese)
        text = (f"### 关键字 `{keyword.english}`" + (f"（{spellings}）" if spellings else "")
                + f"\n\n{keyword.description}")
        if keyword.english in ("full", "weight") and target.extra is not None:
            where, weight = target.extra
            text += f"\n\n此处（{where}）满分为 **{plain(weight)}** 分"
        return text
    if target.kind == "file":
        return hover_file(analysis, target)
    return None


def _rule_users(analysis: Analysis, name: str) -> List[str]:
    if analysis.checked is None:
        return []
    out = []
    for leaf in analysis.checked.leaves():
        rules = [leaf.node.rule] if leaf.node.rule is not None else []
        rules += [p.rule for p in leaf.node.points]
        if any((_rule_call(r) is not None and _rule_call(r).func == name) for r in rules):
            out.append(leaf.code)
    return out


def hover_file(analysis: Analysis, target: Target) -> str:
    found = target.extra
    statement = target.node
    verb = "继承" if isinstance(statement, n.Extends) else "导入"
    if found is None:
        return f"找不到文件 `{target.name}`（路径相对于本文件所在的文件夹，或在 INDICATOR_PATH 中）"
    out = [f"### {verb} `{target.name}`", "", f"文件：{_shown_path(str(found), analysis.path)}"]
    text = analysis.text_for(str(found))
    tree = None
    if text is not None:
        try:
            tree, _ = parse_recovering(text, str(found))
        except IndicatorError:
            tree = None
    if tree is not None:
        if tree.header.name:
            out.append(f"\n指标体系：{tree.header.name}")
        if isinstance(statement, n.Import):
            prefix = f"{statement.alias}." if statement.alias else ""
            rules = [f"`{prefix}{d.name}({', '.join(d.params)})`" for d in tree.rule_defs]
            if rules:
                out.append("\n规则：" + "、".join(rules))
            if tree.lets:
                out.append("\n中间值：" + "、".join(f"`{prefix}{x.name}`" for x in tree.lets))
        else:
            out.append("\n一级指标：" + "、".join(
                f"{x.code} {x.name or ''}".rstrip() for x in tree.indicators))
    return "\n".join(out)


# ------------------------------------------------------------------ definition


def definition_span(analysis: Analysis, target: Target) -> Optional[Tuple[str, Optional[n.Span]]]:
    """(file, span) of a target's definition; span None means the file's start."""
    if target.kind == "fact":
        info: FactInfo = target.node
        return (info.span.file, info.span) if info.span is not None else None
    if target.kind in ("let", "rule", "param"):
        span = target.node.span
        return (span.file, span) if span is not None else None
    if target.kind == "file":
        return (str(target.extra), None) if target.extra is not None else None
    if target.kind == "indicator":
        node = target.node
        if isinstance(node, n.Indicator):
            return (node.span.file, node.span)
        checked = analysis.checked
        if checked is not None and target.name in checked.by_code:
            span = checked.by_code[target.name].node.span
            if span is not None and not _same_file(span.file, analysis.path):
                return (span.file, span)
        base = analysis.base_tree()
        found = _find_indicator(base, target.name)
        if found is not None and found.span is not None:
            return (found.span.file, found.span)
    return None


def selection_span(analysis: Analysis, path: str, span: n.Span, name: str) -> n.Span:
    """The name inside a definition's span (what an editor selects when it jumps)."""
    text = analysis.text_for(path)
    if text is None:
        return span
    lines = Lines(text, len)
    line, column = lines.find_word(span, name.split(".")[-1])
    return n.Span(path, line, column, line, column + len(name.split(".")[-1]))


# ------------------------------------------------------------------ completion


@attrs.define
class Item:
    label: str
    kind: str  # fact, let, param, rule, function, keyword, level, code
    detail: str = ""
    documentation: str = ""
    insert: Optional[str] = None


_CODE_KEYWORDS = "|".join(re.escape(s) for k in ("override", "remove", "under")
                          for s in _spellings(k))
_AFTER_CODE_KEYWORD = re.compile(r"(?:^|[\s{;])(?:" + _CODE_KEYWORDS +
                                 r")\s+(?:[\w①-⑳.]+\s*[,，]\s*)*([\w①-⑳.]*)$")
_IN_LEVEL = re.compile(r"([\w①-⑳.]+)\s*(?:==|!=|≠)\s*\"([^\"]*)$")


def completions(analysis: Analysis, cursor: Cursor) -> Tuple[List[Item], int]:
    """The items offered at the cursor, and the 0-based start of the text they replace."""
    prefix = cursor.text[:cursor.index]
    level = _IN_LEVEL.search(prefix)
    if cursor.context == "string":
        if level is None:
            return [], cursor.index
        target = lookup(analysis, cursor, level.group(1))
        if target is None or target.kind != "fact" or not target.node.levels:
            return [], cursor.index
        closing = "" if cursor.text[cursor.index:cursor.index + 1] == '"' else '"'
        items = [Item(value, "level", f"{target.name} 的选项", insert=value + closing)
                 for value in target.node.levels]
        return items, cursor.index - len(level.group(2))
    if cursor.context == "comment":
        return [], cursor.index
    found = re.search(r"[\w①-⑳.]*$", prefix)
    start = found.start() if found else cursor.index
    after_code = _AFTER_CODE_KEYWORD.search(prefix)
    if after_code is not None:
        return _code_items(analysis), cursor.index - len(after_code.group(1))
    items: List[Item] = []
    seen = set()

    def add(item: Item):
        if item.label not in seen:
            seen.add(item.label)
            items.append(item)

    for item in _name_items(analysis, cursor):
        add(item)
    for name, definition in _rule_defs(analysis).items():
        add(Item(name, "rule", f"规则({', '.join(definition.params)})",
                 f"定义于 {_where(analysis, definition.span)}"))
    for english, spellings in FUNCTIONS.items():
        description = FUNCTION_DESCRIPTIONS.get(english, "")
        add(Item(english, "function", description))
        for spelling in spellings:
            add(Item(spelling, "function", f"{english}：{description}"))
    for keyword in KEYWORDS:
        add(Item(keyword.english, "keyword", "、".join(keyword.chinese), keyword.description))
        for spelling in keyword.chinese:
            add(Item(spelling, "keyword", keyword.english, keyword.description))
    return items, start


def _name_items(analysis: Analysis, cursor: Cursor) -> List[Item]:
    out: List[Item] = []
    rule = cursor.innermost(n.Rule)
    if rule is not None:
        for clause in rule.clauses:
            if isinstance(clause, n.Let):
                out.append(Item(clause.name, "let", clause.label or "中间值"))
    definition = cursor.innermost(n.RuleDef)
    if definition is not None:
        for param in definition.params:
            out.append(Item(param, "param", f"规则 {definition.name} 的参数"))
    checked = analysis.checked
    scope = None
    if checked is not None:
        code = cursor.owner_code
        if code is not None and code in checked.by_code:
            scope = checked.by_code[code].scope
        scope = scope or _root_scope(checked)
    if scope is not None:
        for name in scope.visible():
            binding = scope.lookup(name)
            out.append(_binding_item(name, binding))
    if checked is not None:
        for decl in checked.file.facts:
            for name in decl.names:
                out.append(_binding_item(name, _info_from_decl(decl, name)))
        for let in checked.file.lets:
            out.append(Item(let.name, "let", let.label or "中间值"))
    if analysis.tree is not None:  # this file's own declarations, checked or not
        for node in reversed(cursor.nodes):
            if isinstance(node, (n.Indicator, n.Override, n.Under)):
                for decl in node.facts:
                    for name in decl.names:
                        out.append(_binding_item(name, _info_from_decl(decl, name)))
                for let in node.lets:
                    out.append(Item(let.name, "let", let.label or "中间值"))
        for decl in analysis.tree.facts:
            for name in decl.names:
                out.append(_binding_item(name, _info_from_decl(decl, name)))
        for let in analysis.tree.lets:
            out.append(Item(let.name, "let", let.label or "中间值"))
    return out


def _binding_item(name: str, binding) -> Item:
    if isinstance(binding, LetInfo):
        return Item(name, "let", binding.label or "中间值")
    if isinstance(binding, FactInfo):
        if binding.kind == "any":
            return Item(name, "param", "规则参数")
        return Item(name, "fact", _fact_line(binding))
    return Item(name, "fact")


def _code_items(analysis: Analysis) -> List[Item]:
    checked = analysis.checked
    if checked is None:
        return []
    out = []
    for record in checked.walk():
        kind = "末级指标" if record.is_leaf else "上级指标"
        out.append(Item(record.code, "code", f"{record.name or ''} · {plain(record.weight)} 分",
                        f"{_level_name(record.depth)}，{kind}"))
    return out


# -------------------------------------------------------------------- symbols


@attrs.define
class Symbol:
    name: str
    kind: str  # group, leaf, rule, fact, let, edit, module
    detail: str
    span: n.Span
    selection: n.Span
    children: List["Symbol"] = attrs.Factory(list)


def symbols(analysis: Analysis, tree: n.SetFile, lines: Lines) -> List[Symbol]:
    checked = analysis.checked
    out: List[Symbol] = []

    def name_span(span: n.Span, word: str, after: int = 0) -> n.Span:
        line, column = lines.find_word(span, word, after)
        return n.Span(span.file, line, column, line, column + len(word))

    def facts_and_lets(facts, lets) -> List[Symbol]:
        found = []
        for decl in facts:
            if decl.span is None:
                continue
            for name in decl.names:
                found.append(Symbol(name, "fact", _fact_line(_info_from_decl(decl, name)),
                                    decl.span, name_span(decl.span, name, decl.span.column + 1)))
        for let in lets:
            if let.span is not None:
                found.append(Symbol(let.name, "let", let.label or "中间值", let.span,
                                    name_span(let.span, let.name, let.span.column + 1)))
        return found

    def indicator(node: n.Indicator) -> Optional[Symbol]:
        if node.span is None:
            return None
        record = checked.by_code.get(node.code) if checked is not None else None
        detail = _weight_text(record, node).replace("**", "")
        if node.bonus:
            detail += " · 加分项"
        symbol = Symbol(f"{node.code} {node.name or ''}".rstrip(),
                        "leaf" if node.is_leaf else "group", detail, node.span,
                        n.Span(node.span.file, node.span.line, node.span.column,
                               node.span.line, node.span.column + len(node.code)))
        for child in node.children:
            found = indicator(child)
            if found is not None:
                symbol.children.append(found)
        symbol.children.extend(facts_and_lets(node.facts, node.lets))
        return symbol

    for statement in tree.imports:
        if statement.span is not None:
            label = f"导入 {statement.path}" + (f" 作为 {statement.alias}"
                                                if statement.alias else "")
            out.append(Symbol(label, "module", "", statement.span, statement.span))
    if tree.extends is not None and tree.extends.span is not None:
        out.append(Symbol(f"继承 {tree.extends.path}", "module", "", tree.extends.span,
                          tree.extends.span))
    out.extend(facts_and_lets(tree.facts, tree.lets))
    for definition in tree.rule_defs:
        if definition.span is not None:
            out.append(Symbol(f"{definition.name}({', '.join(definition.params)})", "rule",
                              "规则", definition.span,
                              name_span(definition.span, definition.name,
                                        definition.span.column + 1)))
    for node in tree.indicators:
        found = indicator(node)
        if found is not None:
            out.append(found)
    for edit in tree.edits:
        if edit.span is None:
            continue
        if isinstance(edit, n.Remove):
            out.append(Symbol("删除 " + "、".join(edit.codes), "edit", "", edit.span, edit.span))
            continue
        record = checked.by_code.get(edit.code) if checked is not None else None
        verb = "修改" if isinstance(edit, n.Override) else "增加到"
        detail = f"{plain(record.weight)} 分" if record is not None else ""
        symbol = Symbol(f"{verb} {edit.code}", "edit", detail, edit.span,
                        name_span(edit.span, edit.code, edit.span.column + 1))
        for child in edit.children:
            found = indicator(child)
            if found is not None:
                symbol.children.append(found)
        symbol.children.extend(facts_and_lets(edit.facts, edit.lets))
        out.append(symbol)
    return out


# ------------------------------------------------------------------ formatting


def formatted(text: str, path: str) -> Optional[str]:
    """The file in the canonical layout, or None when it cannot be formatted safely: it
    does not parse, or the result would not say the same thing with the same comments."""
    from .formatter import find_comments, format_text

    try:
        result = format_text(text, path)
        if parse(result, path) != parse(text, path):
            return None
    except (IndicatorError, RecursionError):
        return None
    kept = [c for _, c, _ in find_comments(result).values()]
    if any(comment not in kept for _, comment, _ in find_comments(text).values()):
        return None
    return result


# ---------------------------------------------------------------------- server


class IndicatorServer(LanguageServer):
    """The pygls server with the state of the open buffers."""

    def __init__(self):
        super().__init__("indicator-dsl", __version__,
                         text_document_sync_kind=t.TextDocumentSyncKind.Full)
        self.analyses: Dict[str, Analysis] = {}
        self.last_good: Dict[str, Analysis] = {}
        self.pending: Dict[str, asyncio.Task] = {}

    # --- buffers
    def path_of(self, uri: str) -> str:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return path or f"<{uri}>"

    def open_text(self, path: Path) -> str:
        """Read an imported file: its open buffer if the editor has one, else the disk."""
        key = _key(str(path))
        for document in list(self.workspace.text_documents.values()):
            if document.uri.startswith("file:") and _key(self.path_of(document.uri)) == key:
                return document.source
        return read_source(path)

    def analysis(self, uri: str) -> Optional[Analysis]:
        # The workspace keys documents by their unquoted URI (pygls), so a path with
        # spaces or Chinese characters is found under its decoded form.
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:
            return None
        current = self.analyses.get(uri)
        text = document.source
        if current is not None and current.text == text:
            return current
        found = analyse(text, self.path_of(uri), document.version, self.open_text)
        self.analyses[uri] = found
        if found.ok:
            self.last_good[uri] = found
        return found

    def navigable(self, uri: str) -> Tuple[Optional[Analysis], Optional[n.SetFile]]:
        """The analysis to navigate with: the current one, or the last that could be read
        when the buffer is too broken for any tree (positions may then be a little off)."""
        current = self.analysis(uri)
        if current is None:
            return None, None
        if current.tree is not None and current.checked is not None:
            return current, current.tree
        good = self.last_good.get(uri)
        if good is not None:
            tree = current.tree or good.tree
            return attrs.evolve(current, tree=tree, checked=current.checked or good.checked,
                                plans=current.plans or good.plans, needs=None,
                                base=None), tree
        return current, current.tree

    def lines(self, text: str) -> Lines:
        codec = self.workspace.position_codec
        return Lines(text, codec.client_num_units)

    def log(self, message: str, kind=t.MessageType.Error) -> None:
        try:
            self.window_log_message(t.LogMessageParams(type=kind, message=message))
        except Exception:  # pragma: no cover - the connection itself is gone
            logging.getLogger(__name__).exception("cannot log to the client")

    # --- diagnostics
    def schedule(self, uri: str, delay: float = DEBOUNCE_SECONDS,
                 dependents: bool = True) -> None:
        """Publish the buffer's diagnostics once the author pauses; ``dependents`` also
        rechecks the open files that import it (only when its own text changed, so two
        files in an import cycle do not recheck each other for ever)."""
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.pending[uri] = asyncio.ensure_future(self._publish_later(uri, delay, dependents))

    async def _publish_later(self, uri: str, delay: float, dependents: bool) -> None:
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            return
        self.pending.pop(uri, None)
        self.publish(uri, dependents)

    def publish(self, uri: str, dependents: bool = True) -> None:
        try:
            found = self.analysis(uri)
            if found is None:
                return
            diagnostics = self.lsp_diagnostics(uri, found)
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=found.version))
        except Exception:
            self.log(f"indicator-dsl: 诊断失败 {uri}\n{traceback.format_exc()}")
            return
        if dependents:
            self.recheck_dependents(uri, found.path)

    def recheck_dependents(self, uri: str, path: str) -> None:
        """Check again the open files that import or extend ``path`` (its text changed)."""
        key = _key(path)
        for other, analysis in list(self.analyses.items()):
            if other != uri and key in analysis.files:
                del self.analyses[other]  # same text, other imports: not cached
                self.schedule(other, dependents=False)

    def lsp_diagnostics(self, uri: str, analysis: Analysis) -> List[t.Diagnostic]:
        lines = self.lines(analysis.text)
        statements = self._statements(analysis)
        chinese = _language(analysis) == "zh"
        out = []
        for d in analysis.diagnostics:
            if chinese:
                hint = d.hint_cn or d.hint
                message = (d.message_cn or d.message) + (f"\n提示：{hint}" if hint else "")
            else:
                message = d.message + (f"\n提示：{d.hint}" if d.hint else "")
            severity = t.DiagnosticSeverity.Error if d.severity == ERROR else \
                t.DiagnosticSeverity.Warning if d.severity == WARNING else \
                t.DiagnosticSeverity.Information
            related = None
            if d.file is None or _same_file(d.file, analysis.path):
                where = lines.diagnostic_range(d)
            else:
                span = self._statement_for(analysis, statements, d.file)
                where = lines.span_range(span) if span is not None else \
                    lines.diagnostic_range(attrs.evolve(d, line=None))
                place = _shown_path(d.file, analysis.path)
                if d.line:
                    place += f":{d.line}:{d.column or 1}"
                message = f"{place}: {message}"
                other = analysis.text_for(d.file)
                if other is not None and not d.file.startswith("<"):
                    related = [t.DiagnosticRelatedInformation(
                        location=t.Location(uri=from_fs_path(str(Path(d.file).resolve())),
                                            range=self.lines(other).diagnostic_range(d)),
                        message=(d.message_cn or d.message) if chinese else d.message)]
            out.append(t.Diagnostic(range=where, message=message, severity=severity,
                                    source=SOURCE, code=d.code,
                                    related_information=related))
        return out

    def _statements(self, analysis: Analysis) -> List[Tuple[n.Span, set]]:
        """Each import/extends of the buffer with every file reached through it."""
        tree = analysis.tree
        if tree is None:
            return []
        out = []
        for statement in list(tree.imports) + ([tree.extends] if tree.extends else []):
            if statement.span is None:
                continue
            found = resolve(statement.path, analysis.path)
            reached = set()
            if found is not None:
                self._reach(analysis, str(found), reached)
            out.append((statement.span, reached))
        return out

    def _reach(self, analysis: Analysis, path: str, reached: set) -> None:
        key = _key(path)
        if key in reached or len(reached) > 200:
            return
        reached.add(key)
        text = analysis.text_for(path)
        if text is None:
            return
        for name in _named_files(path, text):
            found = resolve(name, path)
            if found is not None:
                self._reach(analysis, str(found), reached)

    @staticmethod
    def _statement_for(analysis, statements, file: str) -> Optional[n.Span]:
        key = _key(file)
        for span, reached in statements:
            if key in reached:
                return span
        return statements[0][0] if statements else None


@functools.lru_cache(maxsize=64)
def _named_files(path: str, text: str) -> Tuple[str, ...]:
    """The files a file imports or extends (cached: libraries rarely change)."""
    try:
        tree, _ = parse_recovering(text, path)
    except IndicatorError:
        return ()
    if tree is None:
        return ()
    names = [statement.path for statement in tree.imports]
    if tree.extends is not None:
        names.append(tree.extends.path)
    return tuple(names)


def _guarded(default=None):
    """Run a handler; on any error, log it to the client and answer ``default``."""
    def wrap(handler):
        @functools.wraps(handler)
        def run(ls: IndicatorServer, params):
            try:
                return handler(ls, params)
            except Exception:
                ls.log(f"indicator-dsl: {handler.__name__} 出错（已忽略）\n"
                       f"{traceback.format_exc()}")
                return default() if callable(default) else default
        return run
    return wrap


_ITEM_KINDS = {
    "fact": t.CompletionItemKind.Field, "let": t.CompletionItemKind.Variable,
    "param": t.CompletionItemKind.Variable, "rule": t.CompletionItemKind.Function,
    "function": t.CompletionItemKind.Function, "keyword": t.CompletionItemKind.Keyword,
    "level": t.CompletionItemKind.EnumMember, "code": t.CompletionItemKind.Reference,
}
_SYMBOL_KINDS = {
    "group": t.SymbolKind.Namespace, "leaf": t.SymbolKind.Field, "rule": t.SymbolKind.Function,
    "fact": t.SymbolKind.Variable, "let": t.SymbolKind.Constant, "edit": t.SymbolKind.Property,
    "module": t.SymbolKind.Module,
}


def build_server() -> IndicatorServer:
    server = IndicatorServer()

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    @_guarded()
    def did_open(ls: IndicatorServer, params: t.DidOpenTextDocumentParams):
        ls.publish(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded()
    def did_change(ls: IndicatorServer, params: t.DidChangeTextDocumentParams):
        ls.schedule(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    @_guarded()
    def did_save(ls: IndicatorServer, params: t.DidSaveTextDocumentParams):
        ls.schedule(params.text_document.uri, 0)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded()
    def did_close(ls: IndicatorServer, params: t.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        closed = ls.analyses.pop(uri, None)
        ls.last_good.pop(uri, None)
        ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri,
                                                                        diagnostics=[]))
        if closed is not None:  # files that import it read the disk again
            ls.recheck_dependents(uri, closed.path)

    def cursor_for(ls: IndicatorServer, uri: str, position: t.Position):
        analysis, tree = ls.navigable(uri)
        if analysis is None:
            return None, None, None
        document_lines = ls.lines(ls.workspace.get_text_document(uri).source)
        line, index = document_lines.char_index(position)
        cursor = Cursor(analysis, tree, document_lines, line, index)
        return analysis, cursor, document_lines

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    @_guarded()
    def hover(ls: IndicatorServer, params: t.HoverParams):
        analysis, cursor, lines = cursor_for(ls, params.text_document.uri, params.position)
        if cursor is None:
            return None
        target = target_at(analysis, cursor)
        if target is None:
            return None
        text = hover_target(analysis, target)
        if not text:
            return None
        where = None
        if cursor.word:
            where = lines.word_range(cursor.line, cursor.word_start + 1, cursor.word)
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                       range=where)

    @server.feature(t.TEXT_DOCUMENT_COMPLETION,
                    t.CompletionOptions(trigger_characters=[".", '"', " "]))
    @_guarded(lambda: t.CompletionList(is_incomplete=False, items=[]))
    def completion(ls: IndicatorServer, params: t.CompletionParams):
        analysis, cursor, lines = cursor_for(ls, params.text_document.uri, params.position)
        if cursor is None:
            return t.CompletionList(is_incomplete=False, items=[])
        items, start = completions(analysis, cursor)
        context = params.context
        if context is not None and context.trigger_character == " " and \
                not all(item.kind == "code" for item in items):
            items = []  # a space opens the list only where codes are expected (override …)
        edit_range = t.Range(start=lines.position(cursor.line, start + 1),
                             end=lines.position(cursor.line, cursor.index + 1))
        out = []
        for order, item in enumerate(items):
            out.append(t.CompletionItem(
                label=item.label, kind=_ITEM_KINDS.get(item.kind), detail=item.detail or None,
                documentation=t.MarkupContent(kind=t.MarkupKind.Markdown,
                                              value=item.documentation)
                if item.documentation else None,
                sort_text=f"{order:05d}", filter_text=item.label,
                text_edit=t.TextEdit(range=edit_range, new_text=item.insert or item.label)))
        return t.CompletionList(is_incomplete=False, items=out)

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    @_guarded()
    def definition(ls: IndicatorServer, params: t.DefinitionParams):
        analysis, cursor, _ = cursor_for(ls, params.text_document.uri, params.position)
        if cursor is None:
            return None
        target = target_at(analysis, cursor)
        if target is None:
            return None
        found = definition_span(analysis, target)
        if found is None:
            return None
        path, span = found
        uri = params.text_document.uri if _same_file(path, analysis.path) else \
            from_fs_path(str(Path(path).resolve()))
        if span is None:
            start = t.Position(line=0, character=0)
            return t.Location(uri=uri, range=t.Range(start=start, end=start))
        text = analysis.text_for(path) or ""
        other = ls.lines(text)
        selected = selection_span(analysis, path, span, target.name)
        return t.Location(uri=uri, range=other.span_range(selected))

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_guarded(list)
    def document_symbol(ls: IndicatorServer, params: t.DocumentSymbolParams):
        analysis, tree = ls.navigable(params.text_document.uri)
        if analysis is None or tree is None:
            return []
        lines = ls.lines(analysis.text)

        def convert(symbol: Symbol) -> t.DocumentSymbol:
            whole = lines.span_range(symbol.span)
            chosen = lines.span_range(symbol.selection)
            if not _inside(chosen, whole):
                chosen = whole
            return t.DocumentSymbol(name=symbol.name or "?", detail=symbol.detail or None,
                                    kind=_SYMBOL_KINDS[symbol.kind], range=whole,
                                    selection_range=chosen,
                                    children=[convert(c) for c in symbol.children])
        return [convert(s) for s in symbols(analysis, tree, lines)]

    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    @_guarded()
    def formatting(ls: IndicatorServer, params: t.DocumentFormattingParams):
        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        text = document.source
        result = formatted(text, ls.path_of(uri))
        if result is None:
            ls.log("indicator-dsl: 文件有语法错误，未格式化（先修正错误）", t.MessageType.Info)
            return None
        if result == text:
            return []
        return [t.TextEdit(range=ls.lines(text).whole(), new_text=result)]

    return server


def _inside(inner: t.Range, outer: t.Range) -> bool:
    def key(p):
        return (p.line, p.character)
    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end)


def serve() -> int:
    """Run the server on stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    server = build_server()
    server.start_io()
    return 0
