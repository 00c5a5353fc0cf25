"""Plan + facts → :class:`Evaluation`: every indicator's score, the total and the grade."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Dict, List, Optional

import attrs

from .checker import CheckedIndicator, CheckedSet
from .compiler import Frame, LeafPlan, RuleFailure, compile_requires, compile_set
from .errors import ERROR, WARNING, Diagnostic, EvaluationError, did_you_mean
from .facts import Facts, Where
from .explain import DEFAULT as DEFAULT_STYLE, POINTS, TEXT, Style
from .nodes import NA_SHARE
from .numbers import CONTEXT, ZERO, plain, round_half_up, round_in_context

SCORED = "scored"
NOT_APPLICABLE = "not_applicable"
FAILED = "error"


@attrs.define(eq=False)
class IndicatorResult:
    code: str
    name: Optional[str]
    parent: Optional[str]
    level: int
    weight: Decimal
    is_leaf: bool
    status: str
    score: Optional[Decimal] = None
    unrounded: Optional[Decimal] = None
    clause: Optional[str] = None
    values_source: object = None  # a function giving {name: (label, value, kind)}
    explanation_source: object = ""  # the text, or a function that words it on demand
    warnings: List[str] = attrs.Factory(list)
    error: Optional[Diagnostic] = None
    explain: Optional[str] = None
    standard: Optional[str] = None
    notes: List[str] = attrs.Factory(list)
    rescaled: bool = False
    source: Optional[str] = None
    line: Optional[int] = None
    origin: List[str] = attrs.Factory(list)  # for extended sets: which file changed what
    published: Optional[Decimal] = None  # the score a published report gives, if stated
    style: object = None  # the set's explain.Style: how values are shown

    @property
    def explanation(self) -> str:
        """The one-line justification (评分说明), in Chinese."""
        if callable(self.explanation_source):
            self.explanation_source = self.explanation_source()
        return self.explanation_source

    @explanation.setter
    def explanation(self, text: str) -> None:
        self.explanation_source = text

    @property
    def values(self) -> Dict[str, str]:
        """The facts read and the intermediate values (ratio, shortfall, steps …), by name
        (a fact's or value's name, or subject/reference/distance/steps … of a step), as
        they are shown; :attr:`value_labels` gives the Chinese words for each."""
        style = self.style or DEFAULT_STYLE
        return {name: style.shown(value, kind)
                for name, (_, value, kind) in self.raw_values.items()}

    @property
    def value_labels(self) -> Dict[str, str]:
        """The Chinese words for each of :attr:`values` (实际慰问人数, 档数 …)."""
        return {name: label for name, (label, _, _) in self.raw_values.items()}

    @property
    def raw_values(self) -> Dict[str, tuple]:
        """The values as they were computed: name -> (label, value, kind)."""
        if callable(self.values_source):
            self.values_source = self.values_source()
        return self.values_source or {}

    @property
    def lost(self) -> Decimal:
        if self.score is None:
            return ZERO
        return self.weight - self.score


class Evaluation:
    """The result of scoring one project with one set.

    An evaluation made by the generated code (:mod:`indicator_dsl.fastpath`) is
    compact: it keeps one record of what its leaves decided, and makes ``indicators``,
    ``diagnostics`` and ``project`` the first time they are read (the justifications
    later still, when read). Either way the attributes are the same.
    """

    __slots__ = ("set_name", "region", "years", "source", "set_path", "facts_path", "total",
                 "max", "grade", "rescaled", "unrounded_total", "_project", "_indicators",
                 "_diagnostics", "_lazy", "_record", "_sparse", "_groups")

    def __init__(self, set_name: Optional[str], region: Optional[str], years: Optional[tuple],
                 source: Optional[str], set_path: str, facts_path: str,
                 project: Dict[str, object], total: Optional[Decimal], max: Decimal,
                 grade: Optional[str], indicators: List[IndicatorResult],
                 diagnostics: List[Diagnostic], rescaled: bool = False,
                 unrounded_total: Optional[Decimal] = None):
        self.set_name = set_name
        self.region = region
        self.years = years
        self.source = source
        self.set_path = set_path
        self.facts_path = facts_path
        self._project = project
        self.total = total
        self.max = max
        self.grade = grade
        self._indicators = indicators
        self._diagnostics = diagnostics
        self.rescaled = rescaled
        self.unrounded_total = unrounded_total
        self._lazy = None  # what makes the parts not yet made (fastpath.FastPath)
        self._record = None
        self._sparse = None
        self._groups = None

    _FIELDS = ("set_name", "region", "years", "source", "set_path", "facts_path", "project",
               "total", "max", "grade", "indicators", "diagnostics", "rescaled",
               "unrounded_total")

    def replaced(self, **changes) -> "Evaluation":
        """A copy with some fields changed (what attrs.evolve did when this was attrs)."""
        values = {field: getattr(self, field) for field in self._FIELDS}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"Evaluation has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return Evaluation(**values)

    @property
    def project(self) -> Dict[str, object]:
        if self._project.__class__ is not dict:
            self._project = dict(zip(self._project[::2], self._project[1::2]))
        return self._project

    @project.setter
    def project(self, value: Dict[str, object]) -> None:
        self._project = value

    @property
    def indicators(self) -> List[IndicatorResult]:
        if self._indicators is None:
            self._indicators = self._lazy.indicators(self)
        return self._indicators

    @indicators.setter
    def indicators(self, value: List[IndicatorResult]) -> None:
        self._indicators = value

    @property
    def diagnostics(self) -> List[Diagnostic]:
        if self._diagnostics.__class__ is not list:
            self._diagnostics = self._lazy.diagnostics(self)
        return self._diagnostics

    @diagnostics.setter
    def diagnostics(self, value: List[Diagnostic]) -> None:
        self._diagnostics = value

    def __reduce__(self):
        # Pickled as plain data, everything worded (for other processes, files, caches).
        for r in self.indicators:
            r.explanation
            r.raw_values
        return (Evaluation, (self.set_name, self.region, self.years, self.source,
                             self.set_path, self.facts_path, self.project, self.total, self.max,
                             self.grade, self.indicators, self.diagnostics, self.rescaled,
                             self.unrounded_total))

    def __repr__(self) -> str:
        return (f"Evaluation(set_name={self.set_name!r}, facts_path={self.facts_path!r}, "
                f"total={self.total!r}, grade={self.grade!r}, "
                f"errors={len(self.errors)}, warnings={len(self.warnings)})")

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        if self._diagnostics.__class__ is tuple:  # compact: the set's own are warnings
            return not any(d.is_error for d in self._diagnostics)
        return not self.errors

    def by_code(self) -> Dict[str, IndicatorResult]:
        return {r.code: r for r in self.indicators}

    def brief(self) -> List[tuple]:
        """(status, score, warnings) of every indicator, in order: what a summary row
        needs, without making the results when the evaluation is compact."""
        if self._indicators is None and self._lazy is not None:
            return self._lazy.brief(self)
        return [(r.status, r.score, r.warnings) for r in self.indicators]

    def leaves(self) -> List[IndicatorResult]:
        return [r for r in self.indicators if r.is_leaf]

    @property
    def depth(self) -> int:
        return max((r.level for r in self.indicators), default=0)


# Project-wide keys that describe the project rather than feed a rule.
PROJECT_INFO_KEYS = {"name", "year", "region", "department", "unit", "project", "budget",
                     "evaluator", "assessor", "date", "remark", "remarks", "note", "notes",
                     "published", "published_remark", "项目名称", "年度", "单位"}


class Evaluator:
    """A checked set compiled once, ready to score any number of projects."""

    def __init__(self, checked: CheckedSet, generated: bool = True):
        self.checked = checked
        self.style = Style(checked.leaf_step)
        self.plans: Dict[str, LeafPlan] = compile_set(checked)
        self.requires = compile_requires(checked)
        self.order: List[CheckedIndicator] = list(checked.walk())
        self.codes = set(checked.by_code)
        self.used_names = set(checked.facts)
        self._allowed_names = frozenset(self.used_names | PROJECT_INFO_KEYS)
        # Precomputed walks for scores(): leaves, then groups bottom-up, then the top.
        self._leaf_plans = list(self.plans.items())
        self._groups = [(node.code, node.weight, [(c.weight, c.code) for c in node.children],
                         node.node.na_policy)
                        for node in reversed(self.order) if not node.is_leaf]
        self._roots = [(r.weight, r.code) for r in checked.roots]
        # The same rules as generated code (codegen.py), run by fastpath.py; the
        # closures above stay the interpreter that words justifications and errors.
        self.fast = None
        if generated:
            from .fastpath import fast_path

            self.fast = fast_path(self)

    def evaluate(self, facts: Facts) -> Evaluation:
        if self.fast is not None and not facts.points:  # points' own tables: interpreted
            return self.fast.evaluate(facts)
        return self.evaluate_interpreted(facts)

    def evaluate_interpreted(self, facts: Facts) -> Evaluation:
        """evaluate() by the closure interpreter alone (the reference the generated code
        is tested against)."""
        with decimal.localcontext(CONTEXT):
            return self._evaluate(facts)

    def scores(self, facts: Facts) -> Dict[str, Optional[Decimal]]:
        """Every indicator's score by code, and ``"total"``: the numbers alone.

        The fast path for scoring many projects: no justification is worded and no
        result objects are built. A not-applicable indicator maps to None; an
        indicator that cannot be scored raises :class:`EvaluationError`.
        """
        if self.fast is not None and not facts.points:
            return self.fast.scores(facts)
        return self.scores_interpreted(facts)

    def scores_interpreted(self, facts: Facts) -> Dict[str, Optional[Decimal]]:
        """scores() by the closure interpreter alone."""
        with decimal.localcontext(CONTEXT):
            checked = self.checked
            out: Dict[str, Optional[Decimal]] = {}
            na = facts.not_applicable
            step = checked.leaf_step
            self.check_requires(facts)
            for code, plan in self._leaf_plans:
                if na and any(c in na for c in plan.chain):
                    out[code] = None
                    continue
                try:
                    decision = plan.run(Frame(plan, facts))
                    out[code] = None if decision.na else round_in_context(decision.score, step)
                except RuleFailure as failure:
                    raise EvaluationError(_failure_diagnostic(failure, checked, facts)) from None
                except ArithmeticError as exc:
                    raise EvaluationError(checked.source.diagnostic(
                        ERROR, f"{code}: the numbers overflow or are invalid "
                        f"({exc.__class__.__name__})", plan.indicator.span,
                        "check the facts for absurdly large values",
                        message_cn=f"{code}：数值溢出或无效，无法计算",
                        hint_cn="请检查数据中是否有异常大的数")) from None
            group_step = checked.group_step
            for code, weight, children, policy in self._groups:
                out[code] = _combine_scores([(w, out[c]) for w, c in children], weight,
                                            group_step, policy=policy)
            total = _combine_scores(self._roots, checked.total, group_step, out,
                                    policy=checked.header.na_policy)
            if total is not None and checked.total_step is not None:
                total = round_in_context(total, checked.total_step)
            out["total"] = total
            return out

    # --- checks of the facts against the set
    def _facts_diagnostics(self, facts: Facts) -> List[Diagnostic]:
        out = []
        lines = facts.source_lines
        for code, table in facts.indicators.items():
            if code not in self.codes:
                where = _first_where(table) or facts.not_applicable.get(code, (None, None))[1]
                guess = did_you_mean(code, self.codes)
                out.append(attrs.evolve(_facts_diag(
                    ERROR, f"unknown indicator code {code!r} in the facts", where, lines,
                    f"did you mean {guess!r}?" if guess else
                    "the set has no indicator with this code", facts.path),
                    message_cn=f"数据中的指标编码“{code}”在本指标体系中不存在",
                    hint_cn=f"是否应为“{guess}”？" if guess else "请核对指标编码"))
                continue
            if self._allowed_names.issuperset(table):
                continue  # (the common case, checked at once)
            for name, fact in table.items():
                if name not in self.used_names and name not in PROJECT_INFO_KEYS:
                    guess = did_you_mean(name, self.used_names)
                    out.append(attrs.evolve(_facts_diag(
                        WARNING, f"fact {name!r} of {code} is not used by any rule", fact.where,
                        lines, f"did you mean {guess!r}?" if guess else None, facts.path),
                        message_cn=f"{code}的事实“{name}”未被任何评分规则使用"))
        for (code, label), where in facts.point_places.items():
            node = self.checked.by_code.get(code)
            if node is None:
                continue  # an unknown code: reported above
            labels = [p.label for p in node.points]
            if label not in labels:
                guess = did_you_mean(label, labels)
                out.append(attrs.evolve(_facts_diag(
                    ERROR, f"{code} has no point {label!r}; only a point's facts are written "
                    "as a table under a leaf", where, lines,
                    f"did you mean {guess!r}?" if guess else
                    (f"{code}'s points are {', '.join(labels)}" if labels else
                     f"write {code}'s facts as name: value"), facts.path),
                    message_cn=f"{code}没有要点“{label}”：只有要点的数据才写成指标下的一组数据",
                    hint_cn=f"是否应为“{guess}”？" if guess else
                    (f"{code}的要点为{'、'.join(labels)}" if labels else
                     f"请把{code}的数据写成“名称: 值”")))
        for code, (_, where) in facts.not_applicable.items():
            if code not in self.codes and code not in facts.indicators:
                guess = did_you_mean(code, self.codes)
                out.append(attrs.evolve(_facts_diag(
                    ERROR, f"unknown indicator code {code!r} in the facts", where, lines,
                    f"did you mean {guess!r}?" if guess else None, facts.path),
                    message_cn=f"数据中的指标编码“{code}”在本指标体系中不存在",
                    hint_cn=f"是否应为“{guess}”？" if guess else "请核对指标编码"))
        header = self.checked.header
        year = facts.project.get("year")
        if header.year_from is not None and year is not None:
            try:
                y = int(Decimal(str(year.value)))
            except (decimal.InvalidOperation, ValueError):
                y = None
            if y is not None and not header.year_from <= y <= header.year_to:
                period = str(header.year_from) if header.year_from == header.year_to else \
                    f"{header.year_from}–{header.year_to}"
                out.append(attrs.evolve(_facts_diag(
                    WARNING, f"the project's year {y} is outside the set's validity ({period})",
                    year.where, lines, "is this the right table for the year?", facts.path),
                    message_cn=f"项目年度{y}不在本指标体系的适用期（{period}）内"))
        return out

    # --- what both the interpreter and the generated code do around the scores
    def project_diagnostics(self, facts: Facts) -> List[Diagnostic]:
        """The facts checked against the set (unknown codes, years, points) and its
        `require`s: the problems of a project before any indicator is scored."""
        out = self._facts_diagnostics(facts)
        for require in self.requires:
            failure = require.failure(facts)
            if failure is not None:
                out.append(_failure_diagnostic(failure, self.checked, facts))
        return out

    def check_requires(self, facts: Facts) -> None:
        """Raise EvaluationError when the facts break a `require` (for scores())."""
        for require in self.requires:
            failure = require.failure(facts)
            if failure is not None:
                raise EvaluationError(_failure_diagnostic(failure, self.checked, facts))

    def grade_of(self, total: Decimal, diagnostics: List[Diagnostic]) -> Optional[str]:
        """The grade of a (rounded) total; a total below every bound is an error."""
        checked = self.checked
        if not checked.grades:
            return None
        grade = grade_for(total, checked.grades)
        if grade is None:
            diagnostics.append(Diagnostic(
                ERROR, f"the total {plain(total)} is below every grade's bound",
                file=checked.source.path, hint="end the grade list with a catch-all grade, "
                "e.g. `grades 优 >= 90, 良 >= 80, 中 >= 60, 差`",
                message_cn=f"总分{plain(total)}低于所有等级的下限，无法定级",
                hint_cn="请在等级划分末尾加上兜底等级，如 grades 优 >= 90, 良 >= 80, 中 >= 60, 差",
                code="grade"))
        return grade

    @staticmethod
    def keeps_no_total(diagnostics) -> bool:
        """A result with errors has no total: a total beside an error would be handed in
        as if it counted (docs/api.md). A total below every grade keeps its total."""
        return any(d.is_error and d.code != "grade" for d in diagnostics)

    def _evaluate(self, facts: Facts) -> Evaluation:
        checked = self.checked
        diagnostics = list(checked.warnings) + self.project_diagnostics(facts)
        results: Dict[str, IndicatorResult] = {}
        for node in self.order:
            results[node.code] = self._blank(node)
        # Leaves first, then groups bottom-up.
        for node in self.order:
            if node.is_leaf:
                self._score_leaf(node, results[node.code], facts, diagnostics)
        for node in reversed(self.order):
            if not node.is_leaf:
                self._score_group(node, results, facts)
        total, unrounded, rescaled, status = self._combine(
            [results[r.code] for r in checked.roots], checked.total, checked.group_step,
            checked.header.na_policy)
        grade = None
        if total is not None and checked.total_step is not None:
            total = round_half_up(total, checked.total_step)
        if total is not None:
            grade = self.grade_of(total, diagnostics)
        self._compare_published(facts, results, total, grade, diagnostics)
        if self.keeps_no_total(diagnostics):
            total = unrounded = grade = None
        project = {k: v.value for k, v in facts.project.items()}
        header = checked.header
        years = (header.year_from, header.year_to) if header.year_from else None
        return Evaluation(header.name, header.region, years, header.source, checked.source.path,
                          facts.path, project, total, checked.total, grade,
                          [results[node.code] for node in self.order], diagnostics,
                          rescaled=rescaled, unrounded_total=unrounded)

    def _compare_published(self, facts: Facts, results, total, grade, diagnostics) -> None:
        """Set what a published report says beside what the rules give, and warn of any
        difference: a report that contradicts its own rules is shown, never followed."""
        lines = facts.source_lines
        for code, table in facts.indicators.items():
            fact = table.get("published")
            result = results.get(code)
            if fact is None or result is None:
                continue
            value = _as_decimal(fact.value)
            if value is None:
                diagnostics.append(attrs.evolve(_facts_diag(
                    ERROR, f"published score of {code} must be a number", fact.where, lines,
                    "write the score the report publishes, e.g. published: 4.5", facts.path),
                    message_cn=f"{code}的公布得分应为数值",
                    hint_cn="请填写报告公布的得分，如 `published: 4.5`"))
                continue
            result.published = value
            if result.status == SCORED and result.score != value:
                message = (f"the report publishes {plain(value)} for {code}, the rules give "
                           f"{plain(result.score)}")
                result.warnings.append(f"与公布得分不一致：公布{plain(value)}分，按规则应得"
                                       f"{plain(result.score)}分")
                diagnostics.append(attrs.evolve(_facts_diag(
                    WARNING, message, fact.where, lines, "the published figure is kept for "
                    "comparison only; check the facts or the report", facts.path),
                    code="published", message_cn=f"{code}：{result.warnings[-1]}"))
        published = facts.project.get("published")
        if published is None:
            return
        value = published.value if isinstance(published.value, dict) else {
            "total": published.value}
        want_total = _as_decimal(value.get("total"))
        if want_total is not None and total is not None and want_total != total:
            diagnostics.append(attrs.evolve(_facts_diag(
                WARNING, f"the report publishes a total of {plain(want_total)}, the rules give "
                f"{plain(total)}", published.where, lines, None, facts.path),
                code="published-total",
                message_cn=f"报告公布总分{plain(want_total)}分，按规则应得{plain(total)}分"))
        want_grade = value.get("grade")
        if want_grade is not None and grade is not None and str(want_grade) != grade:
            diagnostics.append(attrs.evolve(_facts_diag(
                WARNING, f"the report publishes the grade {want_grade}, the rules give {grade}",
                published.where, lines, None, facts.path), code="published-total",
                message_cn=f"报告公布等级为“{want_grade}”，按规则应为“{grade}”"))

    def _blank(self, node: CheckedIndicator) -> IndicatorResult:
        span = node.span
        return IndicatorResult(
            node.code, node.name, node.parent.code if node.parent else None, node.depth,
            node.weight, node.is_leaf, SCORED, explain=node.node.explain,
            standard=node.node.standard, notes=list(node.node.notes),
            source=span.file if span else None, line=span.line if span else None,
            origin=list(self.checked.origins.get(node.code, ())), style=self.style)

    def _score_leaf(self, node: CheckedIndicator, result: IndicatorResult, facts: Facts,
                    diagnostics: List[Diagnostic], frame: Optional[Frame] = None):
        for code in node.chain:
            if code in facts.not_applicable:
                reason, _ = facts.not_applicable[code]
                result.status = NOT_APPLICABLE
                why = f"（{reason}）" if reason else ""
                own = code == node.code
                result.explanation = (f"不适用{why}，不参与评分" if own else
                                      f"{code}不适用{why}，不参与评分")
                return
        plan = self.plans[node.code]
        if frame is None:  # (given: a replay with the fact values already read)
            frame = Frame(plan, facts)
        try:
            decision = plan.run(frame)
            if not decision.na:
                score = round_in_context(decision.score, self.checked.leaf_step)
        except RuleFailure as failure:
            result.status = FAILED
            diag = _failure_diagnostic(failure, self.checked, facts)
            result.error = diag
            result.explanation = failure.message_cn or failure.message
            diagnostics.append(diag)
            return
        except (decimal.InvalidOperation, decimal.Overflow, ArithmeticError) as exc:
            result.status = FAILED
            diag = self.checked.source.diagnostic(
                ERROR, f"{node.code}: the numbers overflow or are invalid ({exc.__class__.__name__})",
                node.span, "check the facts for absurdly large values",
                message_cn=f"{node.code}：数值溢出或无效，无法计算", hint_cn="请检查数据中是否有异常大的数")
            result.error = diag
            result.explanation = diag.message_cn
            diagnostics.append(diag)
            return
        result.clause = decision.clause
        assessor = plan.assessor(facts) if plan.uses_assess else None

        def values():
            shown = plan.fact_values_shown(frame)
            shown.update(frame.values)
            if decision.details is not None:
                shown.update(decision.details())
            if assessor:
                shown["assessor"] = ("评价人", assessor, TEXT)
            return shown

        result.values_source = values
        result.warnings = decision.warnings
        if decision.na:
            result.status = NOT_APPLICABLE
            result.explanation = decision.text
            return
        raw = decision.score
        result.unrounded = raw
        result.score = score

        def word():
            text = decision.text
            if assessor:
                text += f"（评价人：{assessor}）"
            if raw != score:
                return text + f"，得{style.points(raw)}，四舍五入为{plain(score)}分"
            if not decision.stated:
                return text + f"，得{plain(score)}分"
            return text

        style = self.style
        result.explanation = word
        for warning in decision.warnings:
            diagnostics.append(Diagnostic(WARNING, f"{node.code}: {warning}",
                                          file=self.checked.source.path,
                                          line=node.span.line if node.span else None,
                                          column=node.span.column if node.span else None,
                                          code="flag", message_cn=f"{node.code}：{warning}"))

    def _score_group(self, node: CheckedIndicator, results, facts: Facts):
        result = results[node.code]
        if node.code in facts.not_applicable and all(
                results[c.code].status == NOT_APPLICABLE for c in node.children):
            reason, _ = facts.not_applicable[node.code]
            result.status = NOT_APPLICABLE
            result.explanation = f"不适用（{reason}），不参与评分" if reason else "不适用，不参与评分"
            return
        children = [results[c.code] for c in node.children]
        score, unrounded, rescaled, status = self._combine(children, node.weight,
                                                           self.checked.group_step,
                                                           node.node.na_policy)
        result.status = status
        result.score = score
        result.unrounded = unrounded
        result.rescaled = rescaled
        if status == FAILED:
            failed = [c.code for c in children if c.status == FAILED]
            result.explanation = f"{'、'.join(failed)}无法评分，本组无得分"
        elif status == NOT_APPLICABLE:
            result.explanation = "下级指标均不适用，本组不参与评分"
        elif rescaled:
            na = [c for c in children if c.status == NOT_APPLICABLE]
            scored = [c for c in children if c.status == SCORED]
            applicable = sum((c.weight for c in scored), ZERO)
            got = sum((c.score for c in scored), ZERO)
            if node.node.na_policy == NA_SHARE:
                freed = sum((c.weight for c in na), ZERO)
                result.explanation = (
                    f"{'、'.join(c.code for c in na)}不适用，其{plain(freed)}分均摊到其余"
                    f"{len(scored)}项，每项加{self.style.points(freed / len(scored))}，各项按新分值"
                    f"折算后合计{plain(score)}分")
            else:
                result.explanation = (f"{'、'.join(c.code for c in na)}不适用；适用指标得"
                                      f"{plain(got)}分（满分{plain(applicable)}分），按"
                                      f"{plain(node.weight)}分折算为{plain(score)}分")
        else:
            result.explanation = f"下级指标得分合计{plain(score)}分"

    @staticmethod
    def _combine(children: List[IndicatorResult], weight: Decimal, step: Decimal,
                 policy: Optional[str] = None):
        """(score, unrounded, rescaled, status) of a group from its children."""
        if any(c.status == FAILED for c in children):
            return None, None, False, FAILED
        pairs = [(c.weight, c.score if c.status == SCORED else None) for c in children]
        if all(x is None for _, x in pairs):
            return None, None, False, NOT_APPLICABLE
        exact = _rescaled(pairs, weight, policy)
        if exact is None:
            return None, None, False, NOT_APPLICABLE
        if all(x is not None for _, x in pairs):
            return exact, exact, False, SCORED
        return round_half_up(exact, step), exact, True, SCORED


def _rescaled(pairs, weight: Decimal, policy: Optional[str]) -> Optional[Decimal]:
    """A group's exact score from (weight, score or None for not applicable) pairs.

    With every child applicable it is the sum. Otherwise the applicable children are
    re-scaled to the group's weight in proportion (the default), or — `when na: share
    equally` — the weight left by the others is split equally among them and each
    child's score scaled to its enlarged weight."""
    scored = [(w, x) for w, x in pairs if x is not None]
    if not scored:
        return None
    got = sum((x for _, x in scored), ZERO)
    if len(scored) == len(pairs):
        return got
    applicable = sum((w for w, _ in scored), ZERO)
    if applicable == 0:
        return None
    if policy == NA_SHARE and all(w > 0 for w, _ in scored):
        extra = (weight - applicable) / len(scored)
        return sum((x * (w + extra) / w for w, x in scored), ZERO)
    return got * weight / applicable


def _combine_scores(children, weight: Decimal, step: Decimal, by_code=None,
                    policy: Optional[str] = None) -> Optional[Decimal]:
    if by_code is not None:
        children = [(w, by_code[c]) for w, c in children]
    exact = _rescaled(children, weight, policy)
    if exact is None or all(x is not None for _, x in children):
        return exact
    return round_in_context(exact, step)


def _as_decimal(value) -> Optional[Decimal]:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except decimal.InvalidOperation:
            return None
    return None


def grade_for(total: Decimal, grades) -> Optional[str]:
    for grade in grades:
        if grade.lower is None or total >= grade.lower:
            return grade.label
    return None


def _first_where(table) -> Optional[Where]:
    for fact in table.values():
        return fact.where
    return None


def _facts_diag(severity, message, where: Optional[Where], lines, hint, path) -> Diagnostic:
    if where is None:
        return Diagnostic(severity, message, file=path, hint=hint, code="facts")
    line = where.line
    source_line = lines[line - 1] if line and 1 <= line <= len(lines) else None
    return Diagnostic(severity, message, file=where.file, line=line, column=where.column,
                      source_line=source_line, hint=hint, code="facts")


def _failure_diagnostic(failure: RuleFailure, checked: CheckedSet, facts: Facts) -> Diagnostic:
    if failure.where is not None:
        diag = _facts_diag(ERROR, failure.message, failure.where, facts.source_lines,
                           failure.hint, facts.path)
    else:
        diag = checked.source.diagnostic(ERROR, failure.message, failure.span, failure.hint,
                                         code="evaluation")
    return attrs.evolve(diag, message_cn=failure.message_cn, hint_cn=failure.hint_cn)
