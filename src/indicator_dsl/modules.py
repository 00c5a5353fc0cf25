"""Linking: a file's imports and the set it extends, merged into one AST.

This stage sits between the parser and the checker:

* ``import "lib.ind" as lib`` makes the library's rule definitions and ``let``
  values available as ``lib.NAME``; ``from "lib.ind" import a, b`` as ``a`` and
  ``b``. Fact declarations of the library travel with them (a rule's facts are the
  project's, so they keep their names).
* ``extends "base.ind"`` starts from the base set (itself linked first) and applies
  this file's header statements, ``override``, ``remove`` and ``under`` edits, and
  appends its own top-level indicators.

Paths are relative to the file that names them, then looked up in the folders of
the ``INDICATOR_PATH`` environment variable, then in the standard library shipped
with the package (``national-rules.ind``, ``national/2020/…``). Import cycles and missing files are
errors at the statement that names them. Every node keeps the span of the file it
was written in, so later messages point at the right file; :class:`Sources` finds
the text of any of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import attrs

from . import nodes as n
from .errors import (ERROR, Bilingual, Diagnostic, IndicatorError, SetError, SourceText,
                     did_you_mean)
from .parser import parse_recovering, read_source

ENV_PATH = "INDICATOR_PATH"


class Sources(SourceText):
    """The texts of every file a linked set was built from, looked up by span."""

    def __init__(self, main: SourceText):
        super().__init__(main.path, main.text)
        self.files: Dict[str, SourceText] = {main.path: main}

    def add(self, source: SourceText) -> None:
        self.files.setdefault(source.path, source)

    def text_for(self, path: str) -> Optional[str]:
        source = self.files.get(path)
        return source.text if source else None

    def diagnostic(self, severity, message, span, hint=None, code=None, message_cn=None,
                   hint_cn=None) -> Diagnostic:
        if span is not None and span.file in self.files and span.file != self.path:
            return self.files[span.file].diagnostic(severity, message, span, hint, code,
                                                    message_cn, hint_cn)
        return super().diagnostic(severity, message, span, hint, code, message_cn, hint_cn)


@attrs.define
class Linked:
    tree: Optional[n.SetFile]
    sources: Sources
    diagnostics: List[Diagnostic]
    origins: Dict[str, List[str]]  # code -> "weight from county.ind:5" …
    # Every import/extends path as written, with the file it was found as and how
    # ("relative", "INDICATOR_PATH" or "library"): what `check` shows.
    found: List[Tuple[str, str, str]] = attrs.Factory(list)
    # file -> the lines its parse set aside after syntax errors
    dropped: Dict[str, Tuple[int, ...]] = attrs.Factory(dict)


def library_dir() -> Path:
    """The standard library shipped inside the package: the national rules and frames."""
    return Path(__file__).resolve().parent / "library"


def search_path(relative_to: str) -> List[Tuple[Path, str]]:
    """Where a statement's path is looked for, in order: (folder, what it is)."""
    base = Path(relative_to).parent if relative_to and not relative_to.startswith("<") \
        else Path(".")
    out = [(base, "relative")]
    for folder in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if folder:
            out.append((Path(folder), ENV_PATH))
    out.append((library_dir(), "library"))
    return out


def resolve(name: str, relative_to: str) -> Optional[Path]:
    """The file a statement names: beside the naming file, then on INDICATOR_PATH, then
    in the standard library."""
    found = resolve_with_origin(name, relative_to)
    return found[0] if found else None


def resolve_with_origin(name: str, relative_to: str) -> Optional[Tuple[Path, str]]:
    for folder, origin in search_path(relative_to):
        candidate = folder / name
        if candidate.is_file():
            return candidate, origin
    return None


def shipped_sets() -> List[Path]:
    """The sets of the standard library (files with indicators), for pickers and docs."""
    return sorted(p for p in library_dir().rglob("*.ind"))


def link(text: str, path: str, read_file=None) -> Linked:
    """Link ``text`` with the files it names. ``read_file(path) -> str`` reads them
    (default: from disk); an editor passes one that prefers its unsaved buffers."""
    linker = _Linker(read_file)
    main = SourceText(path, text)
    linker.sources = Sources(main)
    tree = linker.load_text(text, path, stack=())
    return Linked(tree, linker.sources, linker.diagnostics, linker.origins, linker.found,
                  linker.dropped)


class _Linker:
    def __init__(self, read_file=None):
        self.read_file = read_file or read_source
        self.sources: Sources = None
        self.diagnostics: List[Diagnostic] = []
        self.origins: Dict[str, List[str]] = {}
        self.loaded: Dict[str, Optional[n.SetFile]] = {}
        self.found: List[Tuple[str, str, str]] = []
        self.dropped: Dict[str, Tuple[int, ...]] = {}

    def error(self, message, span, hint=None, source: SourceText = None, *, cn=None,
              hint_cn=None):
        source = source or self.sources
        self.diagnostics.append(source.diagnostic(ERROR, message, span, hint, code="module",
                                                  message_cn=cn, hint_cn=hint_cn))

    # --- files
    def load_text(self, text: str, path: str, stack: Tuple[str, ...]) -> Optional[n.SetFile]:
        tree, syntax = parse_recovering(text, path)
        self.diagnostics.extend(syntax)
        if tree is None:
            return None
        if tree.dropped_lines:
            self.dropped[path] = tree.dropped_lines
        return self.link_tree(tree, path, stack + (str(Path(path).resolve()),))

    def load_file(self, name: str, statement, stack) -> Optional[n.SetFile]:
        here = statement.span.file if statement.span else self.sources.path
        located = resolve_with_origin(name, here)
        found = located[0] if located else None
        if found is None:
            searched = os.environ.get(ENV_PATH)
            folder = Path(here).parent or '.'
            self.error(f"cannot find {name!r}", statement.span,
                       f"the path is relative to {folder}" +
                       (f" and {ENV_PATH}={searched}" if searched else
                        f"; other folders are searched through {ENV_PATH}, then the standard library "
                        f"({library_dir()})"),
                       cn=f"找不到“{name}”",
                       hint_cn=f"路径相对于 {folder}" +
                       (f"，并在 {ENV_PATH}={searched} 中查找" if searched else
                        f"；其他文件夹可通过 {ENV_PATH} 指定，最后查找标准库（{library_dir()}）"))
            return None
        key = str(found.resolve())
        if (name, str(found), located[1]) not in self.found:
            self.found.append((name, str(found), located[1]))
        if key in stack:
            chain = " → ".join(Path(p).name for p in stack[stack.index(key):]) + \
                f" → {found.name}"
            self.error(f"import cycle: {chain}", statement.span,
                       "a file cannot import or extend itself, directly or through others",
                       cn=f"循环导入：{chain}",
                       hint_cn="文件不能直接或经由其他文件导入或继承它自己")
            return None
        if key in self.loaded:
            return self.loaded[key]
        try:
            text = self.read_file(found)
        except IndicatorError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return None
        self.sources.add(SourceText(str(found), text))
        tree = self.load_text(text, str(found), stack)
        self.loaded[key] = tree
        return tree

    # --- one tree
    def link_tree(self, tree: n.SetFile, path: str, stack) -> n.SetFile:
        facts = list(tree.facts)
        lets = list(tree.lets)
        defs = list(tree.rule_defs)
        for statement in tree.imports:
            library = self.load_file(statement.path, statement, stack)
            if library is None:
                continue
            got_facts, got_lets, got_defs = self.imported(library, statement)
            declared = {name for d in facts for name in d.names}
            facts.extend(d for d in got_facts if not set(d.names) & declared)
            lets.extend(got_lets)
            defs.extend(got_defs)
        tree = attrs.evolve(tree, facts=tuple(facts), lets=tuple(lets), rule_defs=tuple(defs),
                            imports=())
        if tree.extends is None:
            return tree
        base = self.load_file(tree.extends.path, tree.extends, stack)
        if base is None:
            return attrs.evolve(tree, extends=None, edits=())
        return self.apply(base, tree)

    def imported(self, library: n.SetFile, statement: n.Import):
        """The facts, lets and rule definitions an import brings, renamed as it says."""
        rules = {d.name: d for d in library.rule_defs}
        values = {let.name: let for let in library.lets}
        if statement.alias:
            prefix = statement.alias + "."
            # The library's own references to its rules and values follow the renaming.
            renamed = {name: prefix + name for name in list(rules) + list(values)}
            got_defs = [attrs.evolve(d, name=prefix + d.name, rule=_rename(d.rule, renamed))
                        for d in rules.values()]
            got_lets = [attrs.evolve(let, name=prefix + let.name,
                                     value=_rename(let.value, renamed))
                        for let in values.values()]
            return list(library.facts), got_lets, got_defs
        got_defs, got_lets = [], []
        for name in statement.names:
            if name in rules:
                got_defs.append(rules[name])
            elif name in values:
                got_lets.append(values[name])
            else:
                guess = did_you_mean(name, list(rules) + list(values))
                offered = sorted(list(rules) + list(values))
                self.error(f"{statement.path!r} has no rule or value named {name!r}",
                           statement.span, f"did you mean {guess!r}?" if guess else
                           "it offers: " + ", ".join(offered),
                           cn=f"“{statement.path}”中没有名为“{name}”的规则或中间值",
                           hint_cn=f"是否应为“{guess}”？" if guess else
                           "它提供：" + ("、".join(f"`{o}`" for o in offered) or "（无）"))
        return list(library.facts), got_lets, got_defs

    # --- extends
    def apply(self, base: n.SetFile, child: n.SetFile) -> n.SetFile:
        header = _merge_header(base.header, child.header)
        indicators = list(base.indicators)
        child_file = child.path
        for edit in child.edits:
            if isinstance(edit, n.Remove):
                for code in edit.codes:
                    indicators, found = _edit_tree(indicators, code, lambda node: None)
                    if not found:
                        self._unknown(code, base, edit)
                    else:
                        self._origin(code, Bilingual(f"removed by {_where(edit.span)}",
                                                     f"由 {_where(edit.span)} 删除"))
            elif isinstance(edit, n.Under):
                def add(node, edit=edit):
                    children = self._placed(list(node.children), edit.children)
                    return attrs.evolve(node, children=tuple(children),
                                        facts=node.facts + edit.facts,
                                        lets=node.lets + edit.lets)
                indicators, found = _edit_tree(indicators, edit.code, add)
                if not found:
                    self._unknown(edit.code, base, edit)
                for node in edit.children:
                    self._origin(node.code, _added(edit.span))
            elif isinstance(edit, n.Override):
                def change(node, edit=edit):
                    return _override(node, edit)
                indicators, found = _edit_tree(indicators, edit.code, change)
                if not found:
                    self._unknown(edit.code, base, edit)
                else:
                    self._origin(edit.code, _override_note(edit))
        for node in child.indicators:
            self._origin(node.code, _added(node.span))
        indicators = self._placed(indicators, child.indicators)
        declared = {name for d in child.facts for name in d.names}
        facts = [d for d in base.facts if not set(d.names) & declared] + list(child.facts)
        child_lets = {let.name for let in child.lets}
        lets = [let for let in base.lets if let.name not in child_lets] + list(child.lets)
        child_defs = {d.name for d in child.rule_defs}
        defs = [d for d in base.rule_defs if d.name not in child_defs] + list(child.rule_defs)
        return n.SetFile(header, tuple(facts), tuple(lets), tuple(defs), tuple(indicators),
                         (), None, (), base.requires + child.requires, path=child_file,
                         spelling=child.spelling)

    def _placed(self, siblings: List[n.Indicator], added) -> List[n.Indicator]:
        """``added`` among ``siblings``: where its `after X` / `before X` says, else last."""
        out = list(siblings)
        for node in added:
            if node.placement is None:
                out.append(node)
                continue
            side, code = node.placement
            codes = [sibling.code for sibling in out]
            if code not in codes:
                guess = did_you_mean(code, codes)
                side_cn = "之后" if side == "after" else "之前"
                self.error(f"{node.code} is placed {side} {code}, which is not beside it",
                           node.span, f"did you mean {guess!r}?" if guess else
                           f"place it among {', '.join(codes) or 'the indicators'}",
                           cn=f"{node.code} 排在 {code} {side_cn}，但 {code} 不是它的同级指标",
                           hint_cn=f"是否应为“{guess}”？" if guess else
                           f"请排在同级指标 {'、'.join(codes)} 之间" if codes else
                           "请排在同级指标之间")
                out.append(node)
                continue
            index = codes.index(code) + (1 if side == "after" else 0)
            out.insert(index, node)
        return out

    def _unknown(self, code, base: n.SetFile, edit):
        codes = []
        stack = list(base.indicators)
        while stack:
            node = stack.pop()
            codes.append(node.code)
            stack.extend(node.children)
        guess = did_you_mean(code, codes)
        self.error(f"the extended set has no indicator {code}", edit.span,
                   f"did you mean {guess!r}?" if guess else "check the code",
                   cn=f"所继承的指标体系中没有指标 {code}",
                   hint_cn=f"是否应为“{guess}”？" if guess else "请核对指标编码")

    def _origin(self, code: str, note: str) -> None:
        self.origins.setdefault(code, []).append(note)


def _rename(node, renamed: Dict[str, str]):
    """``node`` with names and called rules renamed (spans kept)."""
    if isinstance(node, n.Name) and node.name in renamed:
        return attrs.evolve(node, name=renamed[node.name])
    if isinstance(node, n.Call) and node.func in renamed:
        node = attrs.evolve(node, func=renamed[node.func])
    if not attrs.has(type(node)):
        return node
    changes = {}
    for field in attrs.fields(type(node)):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        if isinstance(value, tuple) and any(attrs.has(type(v)) for v in value):
            changes[field.name] = tuple(_rename(v, renamed) for v in value)
        elif attrs.has(type(value)):
            changes[field.name] = _rename(value, renamed)
    return attrs.evolve(node, **changes) if changes else node


def _added(span: Optional[n.Span]) -> Bilingual:
    return Bilingual(f"added by {_where(span)}", f"由 {_where(span)} 增加")


def _where(span: Optional[n.Span]) -> str:
    return f"{Path(span.file).name}:{span.line}" if span else "?"


def _override_note(edit: n.Override) -> Bilingual:
    where = _where(edit.span)
    fields = [f for f in ("weight", "name", "explain", "standard", "rule", "na_policy")
              if getattr(edit, f) is not None]
    if edit.points:
        fields.append("points")
    if edit.children:
        fields.append("children")
    if edit.notes or edit.facts or edit.lets:
        fields.append("notes/facts/values")
    if not fields:
        return Bilingual(f"overridden at {where}", f"在 {where} 修改")
    shown = "、".join(_FIELDS_CN.get(f, f) for f in fields)
    return Bilingual(f"{', '.join(fields)} from {where}", f"{shown}来自 {where}")


_FIELDS_CN = {"weight": "分值", "name": "名称", "explain": "指标解释", "standard": "评分标准",
              "rule": "评分规则", "na_policy": "不适用时的处理", "points": "要点",
              "children": "下级指标", "notes/facts/values": "备注、数据和中间值"}


def _override(node: n.Indicator, edit: n.Override) -> n.Indicator:
    changes = {}
    for field in ("weight", "name", "explain", "standard", "na_policy"):
        value = getattr(edit, field)
        if value is not None:
            changes[field] = value
    if edit.rule is not None:
        changes["rule"] = edit.rule
        changes["points"] = ()
    if edit.points:
        changes["points"] = edit.points
        changes["rule"] = None
    if edit.children:
        changes["children"] = edit.children
    if edit.notes:
        changes["notes"] = node.notes + edit.notes
    if edit.facts:
        redeclared = {name for decl in edit.facts for name in decl.names}
        kept = tuple(d for d in node.facts if not set(d.names) & redeclared)
        changes["facts"] = kept + edit.facts
    if edit.lets:
        replaced = {let.name for let in edit.lets}
        changes["lets"] = tuple(x for x in node.lets if x.name not in replaced) + edit.lets
    if edit.requires:
        changes["requires"] = node.requires + edit.requires
    return attrs.evolve(node, **changes)


def _edit_tree(indicators, code, change):
    """Apply ``change`` to the node with ``code`` (None removes it); (new list, found)."""
    out, found = [], False
    for node in indicators:
        if node.code == code:
            found = True
            replaced = change(node)
            if replaced is not None:
                out.append(replaced)
            continue
        children, inner = _edit_tree(list(node.children), code, change)
        if inner:
            found = True
            node = attrs.evolve(node, children=tuple(children))
        out.append(node)
    return out, found


def _merge_header(base: n.Header, child: n.Header) -> n.Header:
    changes = {}
    for field in ("name", "region", "year_from", "year_to", "source", "total", "na_policy"):
        value = getattr(child, field)
        if value is not None:
            changes[field] = value
    if child.grades:
        changes["grades"] = child.grades
    if child.rounding:
        targets = {r.target for r in child.rounding}
        changes["rounding"] = tuple(r for r in base.rounding if r.target not in targets) + \
            child.rounding
    spans = dict(base.spans)
    spans.update(child.spans)
    changes["spans"] = spans
    return attrs.evolve(base, **changes)


def link_or_raise(text: str, path: str) -> Linked:
    linked = link(text, path)
    if linked.tree is None and not linked.diagnostics:  # pragma: no cover - defensive
        raise SetError(Diagnostic(ERROR, "nothing could be read", file=path,
                                  message_cn="没有读出任何内容"))
    return linked
