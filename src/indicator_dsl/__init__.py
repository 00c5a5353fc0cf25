"""indicator-dsl: performance-evaluation indicator tables (绩效评价指标体系) as data.

The pipeline, one module per stage::

    parser      .ind text → AST (nodes)
    checker     AST → checked set (names, weights, types, bands, ranges)
    compiler    checked set → closures, once per set
    evaluator   closures + facts → scores, justifications, total, grade
    render      evaluation → table, JSON, Markdown …

Typical use::

    from indicator_dsl import load_set, load_facts

    scorer = load_set("set.ind")          # parse, check and compile once
    result = scorer.evaluate(load_facts("facts.yaml"))
    print(result.total, result.grade)
"""

from .api import IndicatorSet, load_set, loads_set
from .errors import (Diagnostic, EvaluationError, FactsError, FileAccessError, IndicatorError,
                     SetError)
from .evaluator import Evaluation, IndicatorResult
from .facts import Facts, load_facts, loads_facts

__all__ = [
    "Diagnostic", "Evaluation", "EvaluationError", "Facts", "FactsError", "FileAccessError",
    "IndicatorError", "IndicatorResult", "IndicatorSet", "SetError", "load_facts", "load_set",
    "loads_facts", "loads_set",
]

__version__ = "0.1.0"
