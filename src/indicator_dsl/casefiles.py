"""Golden cases next to sets: ``indicator-eval test``.

A case file ``NAME.cases.yaml`` sits beside ``NAME.ind`` (or names its set with
``set:``) and lists cases, each facts → what the set must give::

    set: spring-festival.ind            # optional; default: the file's own stem
    cases:
      - name: the report's own facts
        facts: spring-festival.facts.yaml   # a file beside this one, or a mapping
        expect:
          total: 93.4
          grade: 优
          scores: {C112: 5.9, C1115: 5.5}
          status: {C12: not_applicable}
          warnings: {C11: 偏离度}           # a text each leaf's warnings contain
      - name: a budget of zero cannot be scored
        facts: spring-festival.facts.yaml
        with: {indicators: {C1115: {budget: 0}}}   # changes merged into the facts
        expect_error: {code: C1115, contains: division by zero}

A failure is shown as a readable diff: indicator, expected, got, and the
justification, so the reader sees why.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import attrs

from .errors import ERROR, Diagnostic, FactsError, IndicatorError, SetError
from .facts import Facts, _yaml_problem_cn, load_facts, loads_facts

CASE_SUFFIX = ".cases.yaml"


@attrs.define
class CaseOutcome:
    file: str
    name: str
    passed: bool
    lines: List[str] = attrs.Factory(list)  # the diff, when it failed


def find_case_files(paths: Iterable[str]) -> List[Path]:
    """The case files under ``paths``; a path that is none raises FactsError."""
    found: List[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{CASE_SUFFIX}")))
        elif path.name.endswith(CASE_SUFFIX):
            found.append(path)
        elif path.suffix == ".ind":
            sibling = path.with_name(path.stem + CASE_SUFFIX)
            if sibling.is_file():
                found.append(sibling)
            else:
                raise FactsError(Diagnostic(ERROR, f"no case file beside {path}", file=str(path),
                                            hint=f"write {sibling.name} next to it",
                                            message_cn=f"{path} 旁边没有用例文件",
                                            hint_cn=f"请在它旁边写一个 {sibling.name}"))
        elif not path.exists():
            raise FactsError(Diagnostic(ERROR, "no such file or folder", file=str(path),
                                        hint="check the path", message_cn="没有这个文件或文件夹",
                                        hint_cn="请检查路径"))
        else:
            raise FactsError(Diagnostic(ERROR, "not a case file", file=str(path),
                                        hint=f"case files end in {CASE_SUFFIX}",
                                        message_cn="不是用例文件",
                                        hint_cn=f"用例文件的文件名以 {CASE_SUFFIX} 结尾"))
    return found


# What a case file may say, so a misspelt key is an error, never a silently passing case.
FILE_KEYS = ("set", "cases")
CASE_KEYS = ("name", "facts", "with", "expect", "expect_error", "note")
EXPECT_KEYS = ("total", "grade", "scores", "status", "warnings")
ERROR_KEYS = ("code", "contains")
STATUSES = ("scored", "not_applicable", "error")


class CaseFileError(Exception):
    """A case file that says something the runner cannot check (at file:line:col), in
    English and Chinese."""

    def __init__(self, message: str, where: str, hint: Optional[str] = None, *,
                 cn: str, hint_cn: Optional[str] = None):
        super().__init__(message)
        self.message, self.where, self.hint = message, where, hint
        self.message_cn, self.hint_cn = cn, hint_cn

    def lines(self, lang: str = "en") -> List[str]:
        if lang == "zh":
            hint = self.hint_cn or self.hint
            return [f"{self.where}: 错误：{self.message_cn}"] + ([f"  提示：{hint}"] if hint else [])
        return [f"{self.where}: error: {self.message}"] + \
            ([f"  hint: {self.hint}"] if self.hint else [])


class _Marked(dict):
    """A YAML mapping that remembers where it and each of its keys were written."""

    line: int = 0
    column: int = 0
    keys_at: Dict[str, tuple]


def _marked_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        loader.flatten_mapping(node)
        out = _Marked()
        out.line, out.column = node.start_mark.line + 1, node.start_mark.column + 1
        out.keys_at = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            out[key] = loader.construct_object(value_node, deep=True)
            out.keys_at[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return Loader


class CaseRunner:
    """Runs case files; ``lang`` ("auto", "zh" or "en") says in which language each file's
    report is written: with "auto", that of its set's keywords or the locale."""

    def __init__(self, lang: str = "auto"):
        self._sets: Dict[str, object] = {}
        self._loader = _marked_loader()
        self.wanted = lang
        self.lang = "en"  # of the file being run

    def _set(self, path: Path):
        from .api import load_set

        key = str(path.resolve())
        if key not in self._sets:
            self._sets[key] = load_set(path)
        return self._sets[key]

    def _say(self, english: str, chinese: str) -> str:
        return chinese if self.lang == "zh" else english

    def run_file(self, path: Path) -> List[CaseOutcome]:
        import yaml

        from .messages import resolve, spelling_of_error, spelling_of_file

        where = str(path)
        stem = path.name[: -len(CASE_SUFFIX)]
        beside = path.parent / f"{stem}.ind"
        # Until the set is loaded, its file (when it is beside) says the language.
        self.lang = resolve(self.wanted, spelling_of_file(str(beside))
                            if self.wanted == "auto" and beside.is_file() else None)
        say = self._say
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=self._loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
            problem = exc.problem or exc.context
            return [CaseOutcome(where, "(file)", False,
                                [say(f"{at}: error: broken YAML: {problem}",
                                     f"{at}: 错误：{_yaml_problem_cn(problem or '')}")])]
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            return [CaseOutcome(where, "(file)", False,
                                [say(f"cannot read the case file: {exc}",
                                     f"无法读取用例文件：{exc}")])]
        if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
            return [CaseOutcome(where, "(file)", False,
                                [say(f"{where}:1:1: error: a case file is a mapping with a "
                                     "`cases:` list",
                                     f"{where}:1:1: 错误：用例文件应是含有 `cases:` 列表的映射")])]
        try:
            _known_keys(doc, FILE_KEYS, where, "the case file", "用例文件")
        except CaseFileError as exc:
            return [CaseOutcome(where, "(file)", False, exc.lines(self.lang))]
        set_path = path.parent / str(doc.get("set") or f"{stem}.ind")
        try:
            scorer = self._set(set_path)
        except IndicatorError as exc:
            text = None
            try:
                text = set_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                pass
            self.lang = resolve(self.wanted, spelling_of_error(exc, text))
            return [CaseOutcome(where, "(set)", False,
                                [self._say(f"the set {set_path} cannot be loaded:",
                                           f"无法载入指标体系 {set_path}：")] +
                                [d.render(self.lang) for d in exc.diagnostics if d.is_error])]
        self.lang = resolve(self.wanted, scorer.checked.file.spelling)
        if not doc["cases"]:
            at = _at(where, doc, "cases")
            return [CaseOutcome(where, "(file)", False,
                                [self._say(f"{at}: error: the file lists no cases",
                                           f"{at}: 错误：文件中没有列出用例")])]
        return [self.run_case(path, scorer, i, case) for i, case in enumerate(doc["cases"])]

    def run_case(self, path: Path, scorer, index: int, case) -> CaseOutcome:
        where = str(path)
        say = self._say
        if not isinstance(case, dict):
            return CaseOutcome(where, f"#{index + 1}", False,
                               [say("a case is a mapping", "每个用例应是一个映射（键: 值）")])
        name = str(case.get("name") or f"#{index + 1}")
        try:
            self._validate(where, scorer, case)
        except CaseFileError as exc:
            return CaseOutcome(where, name, False, exc.lines(self.lang))
        try:
            facts = self._facts(path, case)
        except IndicatorError as exc:
            return CaseOutcome(where, name, False,
                               [d.render(self.lang) for d in exc.diagnostics])
        result = scorer.evaluate(facts)
        if "expect_error" in case:
            return CaseOutcome(where, name, *self._check_error(result, case["expect_error"]))
        lines = []
        for d in result.errors:
            lines.append(say(f"unexpected error: {d.render()}",
                             f"意外的错误：{d.render('zh')}"))
        lines.extend(self._check_expect(result, case["expect"]))
        return CaseOutcome(where, name, not lines, lines)

    def _validate(self, where: str, scorer, case) -> None:
        """Every key known, every code in the set, and something to check."""
        _known_keys(case, CASE_KEYS, where, "a case", "用例")
        has_expect, has_error = "expect" in case, "expect_error" in case
        if has_expect and has_error:
            raise CaseFileError("a case has either `expect:` or `expect_error:`, not both",
                                _at(where, case, "expect_error"),
                                cn="一个用例只能有 `expect:` 或 `expect_error:` 之一，不能两者都有",
                                hint="keep one of them", hint_cn="请删去其中一个")
        if not has_expect and not has_error:
            raise CaseFileError("the case expects nothing, so it could never fail",
                                _at(where, case), "add `expect:` (total, grade, scores, "
                                "status, warnings) or `expect_error:`",
                                cn="这个用例没有写预期结果，永远不会失败",
                                hint_cn="请加上 `expect:`（`total`、`grade`、`scores`、`status`、"
                                        "`warnings`）或 `expect_error:`")
        codes = scorer.codes
        if has_error:
            expect = case["expect_error"]
            if isinstance(expect, dict):
                _known_keys(expect, ERROR_KEYS, where, "`expect_error:`", "`expect_error:`")
                code = expect.get("code")
                if code is not None:
                    _known_code(str(code), codes, where, expect, "code")
            elif not expect:
                raise CaseFileError("`expect_error:` is empty", _at(where, case, "expect_error"),
                                    "give a text the error must contain, or "
                                    "{code: …, contains: …}", cn="`expect_error:` 是空的",
                                    hint_cn="请写出错误信息应包含的文字，或写成 "
                                            "`{code: …, contains: …}`")
            return
        expect = case["expect"]
        if not isinstance(expect, dict) or not expect:
            raise CaseFileError("`expect:` is empty, so the case could never fail",
                                _at(where, case, "expect"),
                                "say what the set must give: total, grade, scores, status or "
                                "warnings", cn="`expect:` 是空的，这个用例永远不会失败",
                                hint_cn="请写出指标体系应给出的结果：`total`、`grade`、`scores`、"
                                        "`status` 或 `warnings`")
        for key in expect:
            if key not in EXPECT_KEYS and str(key) in codes:
                raise CaseFileError(f"{key!r} is an indicator code, not something `expect:` "
                                    "checks", _at(where, expect, key),
                                    f"put it under `scores:`, e.g. scores: {{{key}: "
                                    f"{expect[key]}}}",
                                    cn=f"“{key}”是指标编码，不能直接写在 `expect:` 下",
                                    hint_cn=f"请写在 `scores:` 下，如 `scores: {{{key}: "
                                            f"{expect[key]}}}`")
        _known_keys(expect, EXPECT_KEYS, where, "`expect:`", "`expect:`")
        for section in ("scores", "status", "warnings"):
            table = expect.get(section)
            if section not in expect:
                continue
            if not isinstance(table, dict) or not table:
                raise CaseFileError(f"`{section}:` must map indicator codes to values",
                                    _at(where, expect, section),
                                    f"e.g. {section}: {{C114: …}}",
                                    cn=f"`{section}:` 应是“指标编码: 值”的映射",
                                    hint_cn=f"如 `{section}: {{C114: …}}`")
            for code in table:
                _known_code(str(code), codes, where, table, code)
            if section == "status":
                for code, value in table.items():
                    if value not in STATUSES:
                        raise CaseFileError(f"unknown status {value!r} for {code}",
                                            _at(where, table, code),
                                            f"a status is one of {', '.join(STATUSES)}",
                                            cn=f"{code} 的状态“{value}”无法识别",
                                            hint_cn="状态只能是 " + "、".join(
                                                f"`{s}`" for s in STATUSES) + " 之一")
            if section == "scores":
                for code, value in table.items():
                    if value is not None and _decimal(value) is None:
                        raise CaseFileError(f"the expected score of {code} is not a number: "
                                            f"{value!r}", _at(where, table, code),
                                            "write a number, or null for not applicable",
                                            cn=f"{code} 的预期得分“{value}”不是数",
                                            hint_cn="请写一个数；不适用时写 `null`")
        if "total" in expect and expect["total"] is not None and \
                _decimal(expect["total"]) is None:
            raise CaseFileError(f"the expected total is not a number: {expect['total']!r}",
                                _at(where, expect, "total"), "write a number",
                                cn=f"预期总分“{expect['total']}”不是数", hint_cn="请写一个数")

    def _facts(self, path: Path, case) -> Facts:
        import yaml

        raw = _plain(case.get("facts", {}))
        changes = _plain(case.get("with"))
        if isinstance(raw, str):
            facts_path = path.parent / raw
            if not changes:
                return load_facts(facts_path)  # read directly: messages keep their lines
            if facts_path.suffix not in (".yaml", ".yml"):
                raise FactsError(Diagnostic(ERROR, "`with:` works with YAML facts files",
                                            file=str(path),
                                            hint="give the facts as a .yaml file",
                                            message_cn="`with:` 只能用于 YAML 数据文件",
                                            hint_cn="请把数据写成 .yaml 文件"))
            try:
                base = _plain(yaml.safe_load(facts_path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return load_facts(facts_path)  # let the loader say what is wrong
            # Messages point into the merged facts, not at the file's own lines.
            source_name = f"{facts_path} + `with:` of {path.name}: {case.get('name', '')}"
        elif isinstance(raw, dict):
            base = raw
            source_name = f"{path}:{case.get('name', '')}"
        else:
            raise FactsError(Diagnostic(ERROR, "`facts:` is a file name or a mapping",
                                        file=str(path),
                                        hint="e.g. facts: project.facts.yaml",
                                        message_cn="`facts:` 应是文件名或数据映射",
                                        hint_cn="如 facts: project.facts.yaml"))
        merged = _merge(base or {}, changes or {})
        text = yaml.dump(merged, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
        return loads_facts(text, source_name, ".yaml")

    def _check_error(self, result, expect) -> tuple:
        expect = expect if isinstance(expect, dict) else {"contains": str(expect)}
        code = expect.get("code")
        wanted = expect.get("contains", "")
        wanted = wanted if isinstance(wanted, list) else [wanted]
        errors = result.errors
        if code is not None:
            errors = [d for d in errors if d.message.startswith(f"{code}:") or
                      (result.by_code().get(code) and result.by_code()[code].error is d)]
        for d in errors:
            if all(str(w) in d.render() or str(w) in d.render("zh") for w in wanted):
                return True, []
        if self.lang == "zh":
            got = [d.message_cn or d.message for d in result.errors] or ["没有错误"]
            return False, [f"预期{code + ' ' if code else ''}出现包含 "
                           f"{'、'.join(map(repr, wanted))} 的错误", *(f"  实际：{g}" for g in got)]
        got = [d.message for d in result.errors] or ["no error"]
        return False, [f"expected an error{' for ' + code if code else ''} containing "
                       f"{', '.join(map(repr, wanted))}", *(f"  got: {g}" for g in got)]

    def _check_expect(self, result, expect: dict) -> List[str]:
        lines = []
        say = self._say
        row = functools.partial(_row, lang=self.lang)
        if "total" in expect:
            want = _decimal(expect["total"])
            if result.total != want:
                lines.append(row(say("total", "总分"), expect["total"], result.total, ""))
        if "grade" in expect and result.grade != expect["grade"]:
            lines.append(row(say("grade", "等级"), expect["grade"], result.grade, ""))
        by_code = result.by_code()
        missing = say("missing", "没有")
        for code, want in (expect.get("scores") or {}).items():
            got = by_code.get(str(code))
            if got is None:
                lines.append(say(f"{code}: the set has no such indicator",
                                 f"{code}：指标体系中没有这个指标"))
            elif want is None:
                if got.status != "not_applicable":
                    lines.append(row(code, say("not applicable", "不适用"), got.score,
                                     got.explanation))
            elif got.score != _decimal(want):
                lines.append(row(code, want, got.score if got.score is not None else got.status,
                                 got.explanation))
        for code, want in (expect.get("status") or {}).items():
            got = by_code.get(str(code))
            if got is None or got.status != want:
                lines.append(row(say(f"{code} status", f"{code} 状态"), want,
                                 got.status if got else missing,
                                 got.explanation if got else ""))
        for code, text in (expect.get("warnings") or {}).items():
            got = by_code.get(str(code))
            if got is None or not any(str(text) in w for w in got.warnings):
                lines.append(row(say(f"{code} warning", f"{code} 提示"), text,
                                 got.warnings if got else missing, ""))
        return lines


def _at(where: str, mapping, key=None) -> str:
    """file:line:col of a key of a marked mapping (or of the mapping itself)."""
    if isinstance(mapping, _Marked):
        if key is not None and key in mapping.keys_at:
            line, column = mapping.keys_at[key]
        else:
            line, column = mapping.line, mapping.column
        return f"{where}:{line}:{column}"
    return where


def _known_keys(mapping, allowed, where: str, what: str, what_cn: str) -> None:
    from .errors import did_you_mean

    for key in mapping:
        if key not in allowed:
            guess = did_you_mean(str(key), allowed)
            raise CaseFileError(f"unknown key {key!r} in {what}", _at(where, mapping, key),
                                f"did you mean {guess!r}?" if guess else
                                f"{what} may have: {', '.join(allowed)}",
                                cn=f"{what_cn}中有无法识别的键“{key}”",
                                hint_cn=f"是否应为“{guess}”？" if guess else
                                f"{what_cn}中可以有：" + "、".join(f"`{a}`" for a in allowed))


def _known_code(code: str, codes, where: str, mapping, key) -> None:
    from .errors import did_you_mean

    if code not in codes:
        guess = did_you_mean(code, codes)
        raise CaseFileError(f"the set has no indicator {code!r}", _at(where, mapping, key),
                            f"did you mean {guess!r}?" if guess else "check the code",
                            cn=f"指标体系中没有指标“{code}”",
                            hint_cn=f"是否应为“{guess}”？" if guess else "请核对指标编码")


def _row(what, expected, got, why, lang: str = "en") -> str:
    from .numbers import plain

    shown = plain(got) if isinstance(got, Decimal) else got
    if lang == "zh":
        shown = "（无）" if shown is None else shown
        expected = "（无）" if expected is None else expected
        text = f"{what}：预期 {expected}，实际 {shown}"
    else:
        text = f"{what}: expected {expected}, got {shown}"
    return text + (f"\n      {why}" if why else "")


def _decimal(value) -> Optional[Decimal]:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _plain(value):
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _merge(base, changes):
    if isinstance(base, dict) and isinstance(changes, dict):
        out = dict(base)
        for key, value in changes.items():
            out[key] = _merge(base.get(key), value) if key in base else value
        return out
    return changes


def _dumper():
    import yaml

    class Dumper(yaml.SafeDumper):
        """Writes decimals with their exact digits."""

    Dumper.add_representer(
        Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float",
                                                               str(value)))
    return Dumper


_Dumper = _dumper()


def run(paths: Iterable[str], out, lang: str = "auto") -> tuple:
    """Run every case under ``paths``; write the report to ``out``.

    (passed, failed, language): each file's report is in the language ``lang`` gives for
    its set; the language returned is the one for a summary of them all (Chinese when
    every file's was)."""
    from .messages import resolve

    runner = CaseRunner(lang)
    passed = failed = 0
    shown = []
    for path in find_case_files(paths):
        for outcome in runner.run_file(path):
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            head = "未通过" if runner.lang == "zh" else "FAIL"
            print(f"{head} {outcome.file}: {outcome.name}", file=out)
            for line in outcome.lines:
                print("    " + line.replace("\n", "\n    "), file=out)
        shown.append(runner.lang)
    summary = "zh" if shown and all(x == "zh" for x in shown) else resolve(lang)
    return passed, failed, summary
