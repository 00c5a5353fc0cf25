"""Writes the TextMate grammar of .ind files from the keyword table (indicator_dsl.keywords).

    python editors/textmate/generate.py

writes editors/textmate/indicator.tmLanguage.json and the copy the VS Code extension
ships (editors/vscode/syntaxes/); tests/test_lsp.py checks that both are up to date, so
a keyword added to the language is highlighted in both spellings.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indicator_dsl.keywords import FUNCTIONS, KEYWORDS  # noqa: E402

TARGETS = [HERE / "indicator.tmLanguage.json",
           ROOT / "editors" / "vscode" / "syntaxes" / "indicator.tmLanguage.json"]

# Characters of a name: the grammar's NAME is [\w①-⑳]+; CJK ideographs are written out
# as a range so that Oniguruma and Python's re read the class alike.
NAME_CHAR = "A-Za-z0-9_\u4e00-\u9fff\u3400-\u4dbf①-⑳"
NAME = f"(?![0-9])[{NAME_CHAR}]+"
DOTTED = f"{NAME}(?:\\.{NAME})*"

CONTROL = {"full", "else", "na", "per", "below", "above", "off", "started", "pro rata", "each",
           "from", "floor", "cap", "deduct at most", "flag", "over", "if", "expect",
           "nondecreasing", "nonincreasing", "continuous", "when", "equally", "rescale",
           "share"}
OPERATOR_WORDS = {"and", "or", "not", "in", "of", "to"}
TYPES = {"number", "percent", "count", "bool", "text", "money", "level"}
CONSTANTS = {"true", "false"}


def _scope(english: str) -> str:
    if english in CONTROL:
        return "keyword.control.indicator"
    if english in OPERATOR_WORDS:
        return "keyword.operator.word.indicator"
    if english in TYPES:
        return "storage.type.indicator"
    if english in CONSTANTS:
        return "constant.language.indicator"
    return "keyword.other.indicator"


def _alternation(words) -> str:
    return "|".join(re.escape(w).replace("\\ ", "\\s+") for w in
                    sorted(set(words), key=lambda w: (-len(w), w)))


def _english(words) -> str:
    return f"\\b(?:{_alternation(words)})\\b"


def _chinese(words, run: bool = False) -> str:
    # A Chinese keyword is a whole name: not inside a longer run of letters or ideographs
    # (digits may follow: 权重5).
    around = "A-Za-z_\u4e00-\u9fff\u3400-\u4dbf①-⑳"
    repeat = "{2,}" if run else ""
    return f"(?<![{around}0-9])(?:{_alternation(words)}){repeat}(?![{around}])"


def grammar() -> dict:
    groups = {}
    for keyword in KEYWORDS:
        # `floor 0` is `floor` and a number in English; its Chinese 扣完为止 is one word.
        head = keyword.english.split()[0] if keyword.english[-1].isdigit() else keyword.english
        scope = _scope(head)
        english, chinese = groups.setdefault(scope, (set(), set()))
        if not keyword.english[-1].isdigit():
            english.add(keyword.english)
        chinese.update(keyword.chinese)
    keyword_patterns = []
    for scope in sorted(groups):
        english, chinese = groups[scope]
        keyword_patterns.append({"match": _english(english), "name": scope})
        keyword_patterns.append({"match": _chinese(chinese), "name": scope})
    # Chinese keywords written together (每低于 = 每 + 低于) read as one phrase.
    every = [s for k in KEYWORDS for s in k.chinese]
    keyword_patterns.append({"match": _chinese(every, run=True),
                             "name": "keyword.control.indicator"})
    builtins = set(FUNCTIONS) | {s for spellings in FUNCTIONS.values() for s in spellings}
    spellings = lambda english: [english] + [s for k in KEYWORDS if k.english == english
                                             for s in k.chinese]  # noqa: E731
    edits = spellings("override") + spellings("remove") + spellings("under")
    weight = spellings("weight")
    repository = {
        "comment": {"match": "#.*$", "name": "comment.line.number-sign.indicator"},
        "string": {
            "begin": "\"", "end": "\"|$", "name": "string.quoted.double.indicator",
            "patterns": [{"match": "\\\\[\"\\\\nt]", "name": "constant.character.escape.indicator"}],
        },
        "indicator": {
            # An indicator's code: the name that starts a line and is followed by its
            # (optional) quoted name and `weight`.
            "match": f"^\\s*({DOTTED})(?=\\s+(?:\"(?:[^\"\\\\]|\\\\.)*\"\\s*)?(?:"
                     f"{_alternation(weight)}))",
            "captures": {"1": {"name": "entity.name.type.indicator"}},
        },
        "edit": {
            "match": f"(?<![{NAME_CHAR}])({_alternation(edits)})\\s+({DOTTED}(?:\\s*[,，]\\s*"
                     f"{DOTTED})*)",
            "captures": {"1": {"name": "keyword.other.indicator"},
                         "2": {"name": "entity.name.type.indicator"}},
        },
        "declaration": {
            "match": f"(?<![{NAME_CHAR}])({_alternation(spellings('fact') + spellings('let'))})"
                     f"\\s+({NAME}(?:\\s*[,，]\\s*{NAME})*)",
            "captures": {"1": {"name": "keyword.other.indicator"},
                         "2": {"name": "variable.other.definition.indicator"}},
        },
        "rule-definition": {
            "match": f"(?<![{NAME_CHAR}])({_alternation(spellings('rule'))})\\s+({NAME})"
                     f"(?=\\s*[(（])",
            "captures": {"1": {"name": "keyword.other.indicator"},
                         "2": {"name": "entity.name.function.indicator"}},
        },
        "alias": {
            "match": f"(?<![{NAME_CHAR}])({_alternation(spellings('as'))})\\s+({NAME})",
            "captures": {"1": {"name": "keyword.other.indicator"},
                         "2": {"name": "entity.name.namespace.indicator"}},
        },
        "builtin-call": {
            "match": f"(?<![{NAME_CHAR}.])(?:{_alternation(builtins)})(?=\\s*[(（])",
            "name": "support.function.builtin.indicator",
        },
        "keywords": {"patterns": keyword_patterns},
        "rule-call": {
            "match": f"(?<![{NAME_CHAR}.])({DOTTED})(?=\\s*[(（])",
            "captures": {"1": {"name": "entity.name.function.indicator"}},
        },
        "number": {"patterns": [
            {"match": "(?<![A-Za-z0-9_.])[0-9]+(?:\\.[0-9]+)?[%％]",
             "name": "constant.numeric.percent.indicator"},
            {"match": "(?<![A-Za-z0-9_.])[0-9]+(?:\\.[0-9]+)?",
             "name": "constant.numeric.indicator"},
        ]},
        "operator": {"patterns": [
            {"match": "->|→", "name": "keyword.operator.arrow.indicator"},
            {"match": ">=|<=|==|!=|≥|≤|≠|>|<", "name": "keyword.operator.comparison.indicator"},
            {"match": "[-+*/×÷]", "name": "keyword.operator.arithmetic.indicator"},
            {"match": "=", "name": "keyword.operator.assignment.indicator"},
        ]},
        "punctuation": {"patterns": [
            {"match": "[;；]", "name": "punctuation.terminator.clause.indicator"},
            {"match": "[,，]", "name": "punctuation.separator.comma.indicator"},
            {"match": "[:：]", "name": "punctuation.separator.colon.indicator"},
        ]},
    }
    order = ["comment", "string", "indicator", "edit", "declaration", "rule-definition",
             "alias", "builtin-call", "keywords", "rule-call", "number", "operator", "punctuation"]
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "Indicator (.ind)",
        "scopeName": "source.indicator",
        "fileTypes": ["ind"],
        "comment": "Generated by editors/textmate/generate.py from indicator_dsl.keywords; "
                   "do not edit by hand.",
        "patterns": [{"include": f"#{name}"} for name in order],
        "repository": repository,
    }


def text() -> str:
    return json.dumps(grammar(), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    content = text()
    for target in TARGETS:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
