"""One indicator's documentation page: its place, weight, standard, rule as written,
the facts it reads, where an override or import came from, and its golden cases."""

from __future__ import annotations

from decimal import Decimal
from typing import List, Optional

from ..casefiles import CASE_SUFFIX, CaseRunner
from ..errors import IndicatorError, cn_of
from ..numbers import plain
from ..render import shown_score
from .form import KIND_CN, facts_yaml, field_specs


def indicator_doc(scorer, entry, node) -> dict:
    checked = scorer.checked
    chain = []
    parent = node.parent
    while parent is not None:
        chain.append({"code": parent.code, "name": parent.name or "",
                      "weight": plain(parent.weight)})
        parent = parent.parent
    chain.reverse()
    rules = []
    if node.is_leaf:
        if node.points:
            for point in node.points:
                rules.append({"label": point.label, "weight": plain(point.weight),
                              "text": checked.text_of(point.rule)})
        elif node.rule is not None:
            rules.append({"label": None, "weight": None, "text": checked.text_of(node.rule)})
    # The values the block defines (`let`), as written: the rule reads them by name.
    lets = [checked.text_of(let) for let in node.node.lets]
    specs = field_specs(scorer)
    leaves = {leaf.code for leaf in node.walk() if leaf.is_leaf}
    facts = []
    for spec in specs.values():
        readers = [r for r in spec.readers if r in leaves]
        if not readers:
            continue
        facts.append({"name": spec.name, "label": spec.label, "kind": KIND_CN.get(spec.kind,
                                                                                 spec.kind),
                      "unit": spec.unit, "levels": list(spec.levels), "range": spec.range,
                      "declared_in": spec.declared_in, "readers": readers,
                      "list": spec.is_list})
    total = checked.total
    share = None
    if total:
        share = plain((node.weight / total * 100).quantize(Decimal("0.01")).normalize())
    return {
        "code": node.code, "name": node.name or "", "weight": plain(node.weight),
        "share": share, "leaf": node.is_leaf, "bonus": node.bonus, "chain": chain,
        "children": [{"code": c.code, "name": c.name or "", "weight": plain(c.weight),
                      "leaf": c.is_leaf} for c in node.children],
        "explain": node.node.explain, "standard": node.node.standard,
        "notes": list(node.node.notes), "rules": rules, "lets": lets, "facts": facts,
        "origins": [cn_of(note) for note in checked.origins.get(node.code, ())],
        "source": _source(node, entry),
        "na_policy": node.node.na_policy,
        "cases": golden_cases(scorer, entry, node.code),
    }


def _source(node, entry) -> Optional[str]:
    span = node.span
    if span is None:
        return None
    from pathlib import Path

    name = entry.label if entry.kind == "upload" else Path(span.file).name
    if entry.path is not None and span.file == str(entry.path):
        name = entry.path.name
    return f"{name}:{span.line}"


def golden_cases(scorer, entry, code: str) -> List[dict]:
    """The set's golden cases (``NAME.cases.yaml``) that say something about ``code``,
    each run against the set: expected and computed values side by side."""
    path = entry.sibling(CASE_SUFFIX)
    if path is None:
        return []
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [{"name": f"无法读取 {path.name}：{exc}", "error": True}]
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        return []
    runner = CaseRunner("zh")  # the web app speaks Chinese
    out = []
    for index, case in enumerate(doc["cases"]):
        if not isinstance(case, dict) or not _mentions(case, code):
            continue
        expect = case.get("expect") or {}
        wanted = None
        for key in ("scores", "status", "warnings"):
            table = expect.get(key) or {}
            if code in table or (str(code) in {str(k) for k in table}):
                wanted = (key, table.get(code))
                break
        error = case.get("expect_error")
        outcome = runner.run_case(path, scorer, index, case)
        got = None
        try:
            result = scorer.evaluate(runner._facts(path, case)).by_code().get(code)
            if result is not None:
                got = {"score": shown_score(result), "explanation": result.explanation,
                       "status": result.status}
        except IndicatorError:
            got = None
        changes = case.get("with")
        out.append({
            "name": str(case.get("name") or f"#{index + 1}"),
            "facts": case.get("facts") if isinstance(case.get("facts"), str) else "（内联事实）",
            "with": facts_yaml(changes).strip() if changes else None,
            "expect": _shown(wanted),
            "expect_error": error if error else None,
            "total": expect.get("total"), "grade": expect.get("grade"),
            "got": got, "passed": outcome.passed, "lines": outcome.lines,
        })
    return out


def _mentions(case: dict, code: str) -> bool:
    expect = case.get("expect") or {}
    for key in ("scores", "status", "warnings"):
        if code in {str(k) for k in (expect.get(key) or {})}:
            return True
    error = case.get("expect_error")
    if isinstance(error, dict) and str(error.get("code")) == code:
        return True
    changes = case.get("with") or {}
    indicators = changes.get("indicators") if isinstance(changes, dict) else None
    return isinstance(indicators, dict) and code in {str(k) for k in indicators}


def _shown(wanted) -> Optional[str]:
    if wanted is None:
        return None
    key, value = wanted
    if key == "scores":
        return "不适用" if value is None else f"得分 {value}"
    if key == "status":
        return {"not_applicable": "不适用", "scored": "已评分", "error": "无法评分"}.get(
            value, str(value))
    return f"提示含“{value}”"
