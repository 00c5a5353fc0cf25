"""The facts form: a set's declared facts as fields, a browser's entries as facts.

The browser keeps a *state*: the facts file the user uploaded (kept byte for byte),
the fields typed since, and the 不适用 marks changed since. This module turns a
state into :class:`~indicator_dsl.facts.Facts` and the evaluation into what the page
shows. It holds no scoring logic: every score, justification and message comes
from :meth:`IndicatorSet.evaluate`.

* Unchanged upload → the uploaded file is read as it is (``loads_facts``), so the
  reports are the same bytes ``indicator-eval eval FILE -o …`` writes.
* Anything typed → the facts are written out as YAML (:func:`facts_yaml`) and read
  back with ``loads_facts``, so every value has a place and every message is the
  one the command line gives for that YAML.

A field is one place in a facts file: ``budget`` (project-wide) or
``indicators.C114.visited`` — the same dotted path the facts loader records as
``Where.path``, which is how a message is put at its field.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import re
from decimal import Decimal
from pathlib import PurePath
from typing import Dict, List, Optional, Tuple

import attrs

from ..errors import ERROR, Diagnostic, FactsError, IndicatorError
from ..evaluator import FAILED, NOT_APPLICABLE, SCORED, Evaluation
from ..facts import NOT_APPLICABLE_KEYS, Facts, loads_facts
from ..numbers import percent as show_percent, plain
from ..render import shown_score, subtotal_of, total_note

FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".xlsx", ".csv")
SPREADSHEET_SUFFIXES = (".xlsx", ".csv")
GENERATED_NAME = "事实.yaml"
MONEY_UNITS = ("元", "千元", "万元", "亿元")
KIND_CN = {"number": "数值", "percent": "百分比", "count": "个数", "money": "金额",
           "bool": "是/否", "level": "等级", "text": "文字"}
# Project-wide facts that describe the project (shown in the report's header).
PROJECT_INFO = (("name", "项目名称", "text"), ("unit", "单位", "text"),
                ("year", "年度", "number"))
_LIST_SEPARATORS = re.compile(r"[;；、\n]")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


class StateError(IndicatorError):
    """The browser sent a state this module cannot use (not a user's facts problem)."""

    exit_code = 2


# ------------------------------------------------------------------ the state


@attrs.frozen
class Source:
    """An uploaded facts file, kept exactly as it was uploaded."""

    name: str
    data: bytes

    @property
    def suffix(self) -> str:
        return PurePath(self.name).suffix.lower()


@attrs.frozen
class State:
    source: Optional[Source] = None
    edits: Dict[str, dict] = attrs.Factory(dict)  # path -> {"text": …, "unit": …}
    na: Dict[str, bool] = attrs.Factory(dict)  # code -> marked not applicable

    @property
    def edited(self) -> bool:
        return bool(self.edits or self.na)


def parse_state(raw, max_bytes: int) -> State:
    """The state as the page's script sends it (JSON): checked, never trusted."""
    if raw is None:
        return State()
    if not isinstance(raw, dict):
        raise StateError("状态数据格式不对：应为一个对象")
    source = None
    src = raw.get("source")
    if src:
        if not isinstance(src, dict) or not isinstance(src.get("name"), str) \
                or not isinstance(src.get("b64"), str):
            raise StateError("状态数据格式不对：source 应含 name 与 b64")
        try:
            data = base64.b64decode(src["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise StateError("上传文件的内容无法解码（base64）") from None
        if len(data) > max_bytes:
            raise StateError(f"上传的文件超过 {max_bytes // 1_000_000} MB 的上限")
        source = Source(safe_name(src["name"]), data)
    edits = {}
    for path, value in (raw.get("edits") or {}).items():
        if not isinstance(path, str) or not isinstance(value, dict):
            raise StateError("状态数据格式不对：edits")
        text = value.get("text", "")
        unit = value.get("unit")
        if not isinstance(text, str) or (unit is not None and not isinstance(unit, str)):
            raise StateError("状态数据格式不对：edits 的值应为文字")
        edits[path] = {"text": text, "unit": unit}
    na = {}
    for code, flag in (raw.get("na") or {}).items():
        if not isinstance(code, str) or not isinstance(flag, bool):
            raise StateError("状态数据格式不对：na")
        na[code] = flag
    return State(source, edits, na)


def safe_name(name: str) -> str:
    """A file name as shown and used in messages: the last part only, no folders."""
    base = re.split(r"[\\/]", name)[-1].strip().replace("\x00", "")
    return base[:120] or "facts.yaml"


def spreadsheets_supported() -> bool:
    return importlib.util.find_spec("indicator_dsl.tabular") is not None


def read_source(source: Source) -> Facts:
    """The uploaded file's facts, exactly as ``indicator-eval eval FILE`` reads it."""
    if source.suffix in SPREADSHEET_SUFFIXES and not spreadsheets_supported():
        raise FactsError(Diagnostic(
            ERROR, f"此版本还不能读取电子表格（{source.suffix}）：缺少 indicator_dsl.tabular 模块",
            file=source.name, hint="请把事实另存为 YAML、JSON 或 TOML 文件后上传",
            code="facts"))
    if source.suffix not in FACTS_SUFFIXES:
        raise FactsError(Diagnostic(
            ERROR, f"不支持的事实文件类型：{source.suffix or '（无扩展名）'}", file=source.name,
            hint="请上传 .yaml、.yml、.json、.toml、.xlsx 或 .csv 文件", code="facts"))
    return loads_facts(source.data, source.name, source.suffix)


# ------------------------------------------------------------ the facts tree


@attrs.define
class Tree:
    """A facts file as plain data: project-wide facts, each indicator's table, and the
    indicators marked not applicable (with their reason, or True)."""

    project: Dict[str, object] = attrs.Factory(dict)
    indicators: Dict[str, Dict[str, object]] = attrs.Factory(dict)
    na: Dict[str, object] = attrs.Factory(dict)

    @classmethod
    def from_facts(cls, facts: Facts) -> "Tree":
        tree = cls()
        tree.project = {name: fact.value for name, fact in facts.project.items()}
        tree.indicators = {code: {name: fact.value for name, fact in table.items()}
                           for code, table in facts.indicators.items()}
        tree.na = {code: reason or True for code, (reason, _where) in
                   facts.not_applicable.items()}
        return tree

    def get(self, place: Optional[str], name: str):
        table = self.indicators.get(place, {}) if place else self.project
        return table.get(name)

    def has(self, place: Optional[str], name: str) -> bool:
        table = self.indicators.get(place, {}) if place else self.project
        return name in table

    def put(self, place: Optional[str], name: str, value) -> None:
        table = self.indicators.setdefault(place, {}) if place else self.project
        table[name] = value

    def drop(self, place: Optional[str], name: str) -> None:
        table = self.indicators.get(place, {}) if place else self.project
        table.pop(name, None)

    def as_mapping(self, order: List[str]) -> dict:
        """The facts file's mapping: project-wide facts, then ``indicators:`` in the
        set's order (codes the set does not know keep their place at the end, so the
        loader reports them)."""
        out = dict(self.project)
        codes = [c for c in order if c in self.indicators or c in self.na]
        codes += [c for c in list(self.indicators) + list(self.na) if c not in codes]
        indicators = {}
        for code in dict.fromkeys(codes):
            table = dict(self.indicators.get(code, {}))
            reason = self.na.get(code)
            if reason is not None:
                if not table:
                    indicators[code] = "na" if reason is True else {"不适用": reason}
                    continue
                table["不适用"] = reason
            if table:
                indicators[code] = table
        if indicators:
            out["indicators"] = indicators
        return out


def facts_yaml(mapping: dict) -> str:
    """YAML for a facts mapping; numbers keep their exact digits."""
    import yaml

    return yaml.dump(mapping, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


def _dumper():
    import yaml

    class Dumper(yaml.SafeDumper):
        """Writes decimals with their exact digits, as plain YAML numbers."""

    def decimal(dumper, value: Decimal):
        text = plain(value)
        tag = "int" if _PLAIN_NUMBER.match(text) and "." not in text else "float"
        return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", text)

    def text(dumper, value: str):
        # YAML reads NEL and the Unicode line and paragraph separators as line breaks:
        # such texts are written double-quoted, where they are escaped.
        special = any(ch in "\x85\u2028\u2029" or (not ch.isprintable() and ch not in "\n")
                      for ch in value)
        return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                       style='"' if special else None)

    Dumper.add_representer(Decimal, decimal)
    Dumper.add_representer(str, text)
    return Dumper


_Dumper = _dumper()


# ------------------------------------------------------------------- fields


@attrs.frozen
class FieldSpec:
    """What an input needs to know about one fact (from :class:`FactNeed`)."""

    name: str
    label: str
    kind: str
    unit: Optional[str]
    levels: Tuple[str, ...]
    range: Optional[str]
    is_list: bool
    declared_in: Optional[str]
    readers: Tuple[str, ...]


def field_specs(scorer) -> Dict[str, FieldSpec]:
    out = {}
    for need in scorer.fact_needs():
        shown_range = None
        if need.domain is not None:
            fmt = show_percent if need.kind == "percent" else plain
            shown_range = need.domain.show(fmt)
        out[need.name] = FieldSpec(need.name, need.shown_name, need.kind, need.unit,
                                   tuple(need.levels), shown_range, need.is_list,
                                   need.declared_in, tuple(need.readers))
    return out


def path_of(place: Optional[str], name: str) -> str:
    return f"indicators.{place}.{name}" if place else name


def split_path(path: str) -> Tuple[Optional[str], str]:
    if path.startswith("indicators."):
        rest = path[len("indicators."):]
        if "." in rest:
            code, name = rest.split(".", 1)
            return code, name
    return None, path


def chain_of(checked, code: str) -> Tuple[str, ...]:
    return checked.by_code[code].chain


def lookup_place(tree: Tree, chain: Tuple[str, ...], name: str) -> Optional[object]:
    """Where a leaf finds ``name``: its own table, its ancestors', then the project's
    (the evaluator's own order). Returns the place (code, or "" for the project)."""
    for code in chain:
        if tree.has(code, name):
            return code
    if tree.has(None, name):
        return ""
    return None


# -------------------------------------------------------------- edits → tree


def typed_value(text: str, unit: Optional[str], spec: Optional[FieldSpec]):
    """What a field's text becomes in the facts file. The evaluator then checks it
    exactly as it would check the same value written in a YAML file."""
    text = text.strip()
    kind = spec.kind if spec else "text"
    if spec is not None and spec.is_list and _LIST_SEPARATORS.search(text):
        items = [t.strip() for t in _LIST_SEPARATORS.split(text) if t.strip()]
        return [typed_value(item, unit, attrs.evolve(spec, is_list=False)) for item in items]
    if kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("level", "text"):
        return text
    if kind == "percent":
        if _PLAIN_NUMBER.match(text):
            return f"{text}%"  # the field is in percent: 93.5 means 93.5%
        return text
    if kind == "money":
        if _PLAIN_NUMBER.match(text.replace(",", "").replace("，", "")):
            declared = spec.unit or "元"
            chosen = unit if unit in MONEY_UNITS else declared
            if chosen == declared and _PLAIN_NUMBER.match(text):
                return Decimal(text)
            return f"{text}{chosen}"
        return text
    if _PLAIN_NUMBER.match(text):
        return Decimal(text)
    return text


def apply_state(tree: Tree, state: State, specs: Dict[str, FieldSpec]) -> Tree:
    for path, edit in state.edits.items():
        place, name = split_path(path)
        text = edit.get("text", "")
        if not text.strip():
            tree.drop(place, name)
            continue
        spec = specs.get(name)
        if spec is None:
            info = {p[0]: p[2] for p in PROJECT_INFO}
            spec = FieldSpec(name, name, info.get(name, "text"), None, (), None, False,
                             None, ()) if place is None else None
        tree.put(place, name, typed_value(text, edit.get("unit"), spec))
    for code, flag in state.na.items():
        if flag:
            tree.na.setdefault(code, True)
        else:
            tree.na.pop(code, None)
    return tree


# ------------------------------------------------------------ the evaluation


@attrs.define
class Prepared:
    """A state made into facts: what was evaluated and how to show it."""

    facts: Facts
    tree: Tree
    edited: bool
    source_name: Optional[str]
    yaml_text: Optional[str] = None  # the facts as evaluated, when written out


def prepare(scorer, state: State) -> Prepared:
    """Facts for a state. Raises FactsError when the uploaded file cannot be read."""
    specs = field_specs(scorer)
    order = scorer.codes
    if state.source is not None:
        base = read_source(state.source)
        if not state.edited:
            return Prepared(base, Tree.from_facts(base), False, state.source.name)
        tree = Tree.from_facts(base)
    else:
        tree = Tree()
    tree = apply_state(tree, state, specs)
    text = facts_yaml(tree.as_mapping(order))
    facts = loads_facts(text, GENERATED_NAME, ".yaml")
    return Prepared(facts, Tree.from_facts(facts), True,
                    state.source.name if state.source else None, text)


def facts_download(scorer, state: State) -> Tuple[str, bytes]:
    """The facts as a YAML file: an unchanged YAML upload as it was, byte for byte;
    otherwise the facts written out."""
    prepared = prepare(scorer, state)
    src = state.source
    if src is not None and not prepared.edited and src.suffix in (".yaml", ".yml"):
        return src.name, src.data
    text = prepared.yaml_text or facts_yaml(prepared.tree.as_mapping(scorer.codes))
    name = GENERATED_NAME
    if src is not None and not prepared.edited:
        name = PurePath(src.name).stem + ".yaml"
    return name, text.encode("utf-8")


def fields_for(scorer, tree: Tree) -> List[dict]:
    """Every field the form shows for these facts, in the tree's order.

    A fact has a field at the place its declaration puts it (the indicator that
    declares it, or the project), and one at every place where the facts give it
    for a leaf that reads it (a group's fact given leaf by leaf). A place no reader
    would ever look at, because every reader finds its own value first, is left
    out unless it holds a value."""
    checked = scorer.checked
    specs = field_specs(scorer)
    rank = {code: i for i, code in enumerate(scorer.codes)}
    found: Dict[str, dict] = {}
    for name, spec in specs.items():
        places = [spec.declared_in]
        for reader in spec.readers:
            for code in chain_of(checked, reader):
                if tree.has(code, name):
                    places.append(code)
        if tree.has(None, name):
            places.append(None)
        for place in dict.fromkeys(places):
            users = [r for r in spec.readers if place is None or place in
                     chain_of(checked, r)]
            would_use = [r for r in users if _first_place(tree, checked, r, name, place)]
            if not tree.has(place, name) and not would_use:
                continue
            path = path_of(place, name)
            found[path] = _field(path, place, spec, tree.get(place, name),
                                 tree.has(place, name), would_use)
    for name, label, kind in PROJECT_INFO:
        if name not in found:
            spec = FieldSpec(name, label, kind, None, (), None, False, None, ())
            found[name] = _field(name, None, spec, tree.get(None, name), tree.has(None, name),
                                 [], info=True)
    return sorted(found.values(), key=lambda f: (f["place"] is not None,
                                                  rank.get(f["place"], len(rank)),
                                                  not f.get("info")))


def _first_place(tree: Tree, checked, reader: str, name: str, place) -> bool:
    """Whether ``reader`` would read ``name`` at ``place`` (nothing nearer holds it)."""
    for code in chain_of(checked, reader):
        if code == place:
            return True
        if tree.has(code, name):
            return False
    return place is None


def _field(path, place, spec: FieldSpec, value, given: bool, readers, info=False) -> dict:
    text, unit = shown_value(value, spec) if given else ("", None)
    return {"path": path, "place": place, "name": spec.name, "label": spec.label,
            "kind": spec.kind, "kind_cn": KIND_CN.get(spec.kind, spec.kind),
            "unit": unit or spec.unit or ("元" if spec.kind == "money" else None),
            "units": list(MONEY_UNITS) if spec.kind == "money" else [],
            "levels": list(spec.levels), "range": spec.range, "list": spec.is_list,
            "readers": list(readers), "text": text, "given": given, "info": info}


def shown_value(value, spec: FieldSpec) -> Tuple[str, Optional[str]]:
    """A fact's value as its field shows it: percentages in percent, money as number
    and unit, yes/no as true/false."""
    if isinstance(value, list):
        parts = [shown_value(v, spec) for v in value]
        return "；".join(p[0] for p in parts), parts[0][1] if parts else None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if value is None:
        return "", None
    if isinstance(value, Decimal):
        if spec.kind == "percent" and abs(value) <= 10:
            return plain(value * 100), None
        return plain(value), None
    if isinstance(value, dict):
        return facts_yaml(value).strip(), None
    text = str(value)
    if spec.kind == "percent" and text.strip().endswith(("%", "％")):
        return text.strip()[:-1].strip(), None
    if spec.kind == "money":
        for unit in sorted(MONEY_UNITS, key=len, reverse=True):
            if text.strip().endswith(unit):
                return text.strip()[: -len(unit)].strip(), unit
    return text, None


def result_view(scorer, prepared: Prepared, evaluation: Evaluation) -> dict:
    """What the page shows for one evaluation (JSON)."""
    checked = scorer.checked
    tree = prepared.tree
    facts = prepared.facts
    specs = field_specs(scorer)
    names_of: Dict[str, List[str]] = {}
    for name, spec in specs.items():
        for reader in spec.readers:
            names_of.setdefault(reader, []).append(name)

    field_errors: Dict[str, List[dict]] = {}
    leaf_errors: Dict[str, dict] = {}
    stakes: Dict[str, dict] = {}
    placed = set()
    for r in evaluation.leaves():
        if r.status != FAILED or r.error is None:
            continue
        d = r.error
        chain = chain_of(checked, r.code)
        names = names_of.get(r.code, [])
        target = _field_of(d, r.code, names, chain, facts)
        if target is not None:
            field_errors.setdefault(target, []).append(_message(d))
            placed.add(id(d))
        missing = [n for n in names if lookup_place(tree, chain, n) is None]
        for name in missing:
            spec = specs[name]
            path = path_of(spec.declared_in, name)
            entry = stakes.setdefault(path, {"path": path, "label": spec.label,
                                             "name": name, "codes": [], "stake": Decimal(0)})
            if r.code not in entry["codes"]:
                entry["codes"].append(r.code)
                entry["stake"] += r.weight
        if target is None:
            if missing:  # listed under "still needed", at the fields to fill
                placed.add(id(d))
            else:  # no clause applies, a division by zero …: the rule's own message
                leaf_errors[r.code] = _message(d)
    rank = {code: i for i, code in enumerate(scorer.codes)}
    missing_list = sorted(stakes.values(), key=lambda e: (-e["stake"],
                                                          rank.get(e["codes"][0], 0)))
    for entry in missing_list:
        entry["stake"] = plain(entry["stake"])

    # A leaf that fails only because facts are still to be entered is "pending", and
    # so is a group whose failures are all pending: the page says 待填写, not 无法评分.
    waiting = {code for entry in stakes.values() for code in entry["codes"]}
    pending = set()
    results = evaluation.by_code()
    for r in reversed(evaluation.indicators):
        if r.status != FAILED:
            continue
        if r.is_leaf:
            if r.code in waiting and r.code not in leaf_errors and not any(
                    p for p, msgs in field_errors.items()
                    if any(m["en"].startswith(f"{r.code}:") for m in msgs)):
                pending.add(r.code)
        else:
            node = checked.by_code[r.code]
            failed = [c.code for c in node.children if results[c.code].status == FAILED]
            if failed and all(c in pending for c in failed):
                pending.add(r.code)
    by_code = {}
    for r in evaluation.indicators:
        by_code[r.code] = {
            "pending": r.code in pending,
            "score": shown_score(r), "status": r.status, "weight": plain(r.weight),
            # A failed leaf's message is shown at its field or under the leaf instead.
            "explanation": "" if r.is_leaf and r.status == FAILED else r.explanation
            if (r.is_leaf or r.status != SCORED or r.rescaled) else "",
            "subtotal": "" if r.is_leaf else subtotal_of(r),
            "warnings": list(r.warnings),
            "lost": plain(r.lost) if r.is_leaf and r.status == SCORED else "0",
        }
    leaves = evaluation.leaves()
    # Rule flags and differences from a published score are shown at their leaf; the
    # rule file's own warnings are the set author's business (``indicator-eval check``).
    set_warnings = set(map(id, checked.warnings))
    problems = [_message(d) for d in evaluation.diagnostics
                if id(d) not in placed and id(d) not in set_warnings
                and d.code not in ("flag", "published")]
    return {
        "ok": evaluation.ok,
        "total": plain(evaluation.total) if evaluation.total is not None else None,
        "max": plain(evaluation.max),
        "grade": evaluation.grade,
        "rescaled": evaluation.rescaled,
        "total_note": total_note(evaluation),
        "counts": {"leaves": len(leaves),
                   "scored": sum(1 for r in leaves if r.status == SCORED),
                   "not_applicable": sum(1 for r in leaves if r.status == NOT_APPLICABLE),
                   "failed": sum(1 for r in leaves if r.status == FAILED)},
        "indicators": by_code,
        "fields": fields_for(scorer, tree),
        "na": {code: (reason if isinstance(reason, str) else "")
               for code, reason in tree.na.items()},
        "field_errors": field_errors,
        "leaf_errors": leaf_errors,
        "missing": missing_list,
        "problems": problems,
        "edited": prepared.edited,
        "source": prepared.source_name,
    }


def _field_of(d: Diagnostic, code: str, names, chain, facts: Facts) -> Optional[str]:
    """The field a leaf's error is about: the fact value the message was raised at."""
    for name in names:
        fact = None
        for place in chain:
            fact = facts.indicators.get(place, {}).get(name)
            if fact is not None:
                break
        else:
            fact = facts.project.get(name)
        if fact is None:
            continue
        where = fact.where
        if d.file == where.file and d.line == where.line and d.column == where.column \
                and d.message.startswith(f"{code}: fact {name!r}"):
            return where.path
    return None


def _message(d: Diagnostic) -> dict:
    """A diagnostic for the page, which speaks Chinese: the command line's Chinese message
    and hint, its full text as ``indicator-eval --lang zh`` prints it, and the English
    message (``en``)."""
    return {"severity": d.severity, "message": d.message_cn or d.message,
            "hint": d.hint_cn or d.hint or "", "location": d.location,
            "text": d.render("zh"), "en": d.message, "cn": d.message_cn or ""}


def source_error_view(exc: IndicatorError) -> dict:
    return {"source_error": [_message(d) for d in exc.diagnostics]}
