"""评分标准 (a leaf's prose scoring standard) → a draft rule, for ``indicator-eval import``.

The drafter is a table of recognisers, one per pattern of the field guide
(``RECOGNISERS`` below; docs/import.md lists them). Every recogniser reads the same
:class:`Analysis` of a standard: its clauses, each a condition and an outcome
(得满分, 扣0.5分, 得权重的60% …), the modifiers that apply to the whole rule
(扣完为止, 最多扣2分, 不满1%按1%计算) and the sentences that carry no outcome (a
preamble, a definition). A recogniser returns a :class:`Draft` only when it accounts
for every clause; the first that does wins. A standard none accounts for is left to
the author, with the reason (:class:`Unrecognised`).

Outcomes, comparisons, steps and counted items are each read by one small table of
phrases (``OUTCOME_FORMS``, ``COMPARATORS``, ``STEP_FORMS``, ``ITEM_FORMS``), so a
new way of writing 扣分 is one table entry, not a new branch in every recogniser.
Numbers may be written in Chinese (一项, 两项, 三项及以上, 百分之五, 一个百分点).

Every draft is checked with the real checker before it is offered (:func:`verify`):
a draft that would not parse, names a wrong type or can leave [0, weight] is
rejected, so the importer writes it as a stub instead.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import attrs

# ---------------------------------------------------------------------- numbers

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}

_AR = r"\d+(?:\.\d+)?"
_CN = r"[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?"
NUM = rf"(?:{_AR}|{_CN})"
FRACTION = r"\d+/\d+"
# A percentage: 5%, 百分之五, 0.1个百分点, 一个百分点.
PCT = rf"(?:{_AR}%|百分之{NUM}|{NUM}个?百分点)"


def chinese_number(text: str) -> Decimal:
    """一 → 1, 十五 → 15, 二十 → 20, 一百二十 → 120, 两 → 2, 零点五 → 0.5."""
    whole, _, fraction = text.partition("点")
    total, section, digit = 0, 0, None
    for ch in whole:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            unit = CN_UNITS[ch]
            value = 1 if digit is None else digit
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section = 0
            else:
                section += value * unit
            digit = None
        else:
            raise ValueError(text)
    result = Decimal(total + section + (digit or 0))
    if fraction:
        result += Decimal("0." + "".join(str(CN_DIGITS[ch]) for ch in fraction))
    return result


def number_value(text: str) -> Decimal:
    text = text.strip()
    if re.fullmatch(_AR, text):
        return Decimal(text)
    if re.fullmatch(FRACTION, text):
        top, bottom = text.split("/")
        return Decimal(top) / Decimal(bottom)
    return chinese_number(text)


def percent_value(text: str) -> Decimal:
    """The fraction a percentage text means: 5% → 0.05, 百分之五 → 0.05, 一个百分点 → 0.01."""
    text = text.strip()
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    if text.startswith("百分之"):
        return number_value(text[3:]) / 100
    m = re.fullmatch(rf"({NUM})个?百分点", text)
    if m:
        return number_value(m.group(1)) / 100
    raise ValueError(text)


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 0.5, 5, 0.001."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@attrs.frozen
class Quantity:
    """A number as the standard wrote it: a percentage or a plain number."""

    value: Decimal  # a fraction for percentages (5% → 0.05)
    percent: bool

    def literal(self) -> str:
        return plain(self.value * 100) + "%" if self.percent else plain(self.value)


def quantity(text: str) -> Quantity:
    if re.fullmatch(PCT, text):
        return Quantity(percent_value(text), True)
    return Quantity(number_value(text), False)


# ------------------------------------------------------------------ normalising

_WIDE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDE.update({ord("　"): " ", ord("≧"): "≥", ord("≦"): "≤", ord("﹪"): "%", ord("—"): "-",
              ord("–"): "-", ord("―"): "-", ord("～"): "~", ord("…"): " ", ord("＊"): "*",
              ord("﹝"): "〔", ord("﹞"): "〕", ord("【"): "[", ord("】"): "]"})
_CITATION = re.compile(r"^财\w{0,2}〔\d{4}〕\d+号(?:《[^》]*》)?(?:第[一二三四五六七八九十百]+条"
                       r"(?:、第[一二三四五六七八九十百]+条)*)?(?:定性指标|定量指标)?:")
_REPORT_NOTE = re.compile(r"\([^()]*(?:报告|注:|按是否)[^()]*\)")


def normalise(text: str) -> str:
    """The text the recognisers read: ASCII digits and punctuation, no spaces, no
    citation prefix (财预〔2020〕10号第十六条：) and no editorial notes in brackets."""
    out = text.translate(_WIDE)
    out = re.sub(r"\s+", "", out)
    out = out.replace("≥", ">=").replace("≤", "<=").replace("＝", "=").replace("~", "-")
    out = out.replace("*", "×")
    out = _CITATION.sub("", out)
    out = _REPORT_NOTE.sub("", out)
    return out


def label_text(text: str) -> str:
    """A label for a fact, with the full-width punctuation Chinese text uses."""
    text = text.strip(" ,;:、.的")
    return text.translate({ord("("): "（", ord(")"): "）", ord(","): "，", ord(";"): "；",
                           ord(":"): "："})


# ------------------------------------------------------------------- outcomes

DECIDING = ("full", "zero", "points", "share", "deduct", "deduct_share", "assess", "formula",
            "proportional")
MODIFIERS = ("floor", "cap", "deduct_max", "started", "pro_rata")

# (kind, pattern): the phrases that say what a clause scores. Where two overlap, the
# one starting first wins, then the longer, then the earlier entry.
OUTCOME_FORMS: Tuple[Tuple[str, str], ...] = (
    ("deduct_max", rf"(?:最多|最高|至多)扣(?:除)?(?P<v>{NUM})分|扣满(?P<v2>{NUM})分为止"
                   rf"|扣分不超过(?P<v3>{NUM})分"),
    ("floor", r"扣完为止|扣完即止|扣满为止|直至扣完|直到扣完|最低(?:得分)?(?:为)?0分|扣完"),
    ("cap", r"(?:得)?满分为止|加满(?:\w{0,4}?分)?为止|最高不超过(?:该指标|本指标)?(?:分值|满分)"
            r"|不超过满分|以满分为限|得分不超过(?:该指标)?分值"),
    ("started", r"不满(?P<v>[^,按]+?)(?:的)?按\S+?(?:计算|计)|不足(?P<v2>[^,按]+?)(?:的)?按\S+?(?:计算|计)"
                r"|不足一档按一档计?"),
    ("pro_rata", r"按比例扣分|按实际(?:差距|比例)(?:计算|扣分)|按实际比例|连续计算|按比例扣减"),
    ("assess", rf"酌情(?:扣|减|给|得|计|打)分?(?:(?P<lo>{NUM})-(?P<hi>{NUM})分)?"
               r"|视情况(?:扣|给|打)分|由评价(?:组|人员|人|小组)酌情(?:打分|评分|给分|计分)"),
    ("full", r"(?:得|计|给|为|记)?满分|得全分|(?:记|得)该?指标(?:所赋)?全部分值"),
    ("zero", r"不得分|不计分|不给分|(?:得|计|记|为)0分|该(?:项|要点|指标)不得分|0分"),
    ("share", rf"(?:得|计|按)(?:该指标|本指标|该要点)?(?:权重|分值|指标分值|满分|权重分值)的?"
              rf"(?P<v>{PCT}|{FRACTION})(?!-)"),
    ("deduct_share", rf"扣(?:除|减)?(?:该指标|本指标|该要点|指标)?(?:权重|分值|权重分值|满分)的?"
                     rf"(?P<v>{PCT}|{FRACTION})"),
    ("points", rf"(?:得|计|给|记|加)(?P<v>{NUM})分"),
    ("deduct", rf"(?:扣|减)(?:除)?(?P<v>{NUM})分"),
    ("formula", r"得分=(?P<expr>.+)$|(?P<expr2>[^,;]+?)×(?:该|本)?(?:指标|要点)?(?:分值|权重)"
                r"(?:计分|得分|计算)?"),
    ("proportional", r"按(?:实际)?(?:完成)?比例(?:计算)?(?:得分|计分|计算得分|给分)"),
)
_OUTCOME_RES = tuple((kind, re.compile(pattern)) for kind, pattern in OUTCOME_FORMS)


@attrs.frozen
class Outcome:
    kind: str
    start: int
    end: int
    text: str
    value: Optional[Decimal] = None  # points for points/deduct, a fraction for shares
    lo: Optional[Decimal] = None  # assess: the deduction range 酌情扣lo-hi分
    hi: Optional[Decimal] = None
    expr: Optional[str] = None  # formula: the expression before ×分值 / after 得分=


def _outcome(kind: str, m: re.Match) -> Outcome:
    groups = {k: v for k, v in m.groupdict().items() if v}
    value = lo = hi = None
    raw = groups.get("v") or groups.get("v2") or groups.get("v3")
    if raw and kind in ("share", "deduct_share"):
        value = percent_value(raw) if re.fullmatch(PCT, raw) else number_value(raw)
    elif raw and kind in ("points", "deduct", "deduct_max"):
        value = number_value(raw)
    if kind == "assess" and groups.get("lo"):
        lo, hi = number_value(groups["lo"]), number_value(groups["hi"])
    expr = groups.get("expr") or groups.get("expr2")
    if expr:
        expr = re.sub(r"×(?:该|本)?(?:指标|要点)?(?:分值|权重)(?:计分|得分|计算)?$", "", expr)
    return Outcome(kind, m.start(), m.end(), m.group(0), value, lo, hi, expr)


def outcomes_in(segment: str) -> List[Outcome]:
    """Every outcome phrase of a segment, left to right, without overlaps."""
    found = []
    for order, (kind, regex) in enumerate(_OUTCOME_RES):
        for m in regex.finditer(segment):
            if m.end() > m.start():
                found.append((m.start(), -(m.end() - m.start()), order, _outcome(kind, m)))
    found.sort(key=lambda item: item[:3])
    out, reached = [], 0
    for start, _length, _order, outcome in found:
        if start >= reached:
            out.append(outcome)
            reached = outcome.end
    return out


# ------------------------------------------------------------------- analysis


@attrs.frozen
class Standard:
    """One leaf's standard with what the drafter may use around it."""

    text: str
    weight: Decimal
    name: str = ""
    explain: str = ""
    suffix: str = ""  # appended to fact names (points: ①'s facts end in 1)


@attrs.frozen
class Clause:
    cond: str  # the condition, as normalised text ('' when none is written)
    outcome: Outcome
    sentence: int


@attrs.define
class Analysis:
    source: Standard
    text: str
    clauses: List[Clause]
    modifiers: Dict[str, Outcome]
    preamble: List[str]

    @property
    def weight(self) -> Decimal:
        return self.source.weight

    def name(self, base: str) -> str:
        return base + self.source.suffix


def analyse(std: Standard) -> Analysis:
    text = normalise(std.text)
    clauses: List[Clause] = []
    modifiers: Dict[str, Outcome] = {}
    preamble: List[str] = []
    for index, sentence in enumerate(s for s in re.split(r"[;。\n]", text) if s):
        pending: List[str] = []
        for segment in (s for s in sentence.split(",") if s):
            found = outcomes_in(segment)
            for o in found:
                if o.kind in MODIFIERS:
                    modifiers.setdefault(o.kind, o)
            deciding = [o for o in found if o.kind in DECIDING]
            if not deciding:
                if found:  # modifiers only: what was pending was their context
                    preamble.extend(pending)
                    pending = []
                else:
                    pending.append(segment)
                continue
            cond = segment[:deciding[0].start]
            clauses.append(Clause(",".join(pending + [cond]).strip(","), deciding[0], index))
            pending = []
            for before, after in zip(deciding, deciding[1:]):
                clauses.append(Clause(segment[before.end:after.start].strip(","), after, index))
        preamble.extend(pending)
    return Analysis(std, text, clauses, modifiers, preamble)


# ----------------------------------------------------------------- conditions

# (pattern, operator): how a condition compares its subject with a number.
COMPARATORS: Tuple[Tuple[str, str], ...] = (
    (r"大于或等于|大于等于|不低于|不少于|不小于|达到|至少|>=", ">="),
    (r"小于或等于|小于等于|不高于|不超过|不大于|<=", "<="),
    (r"大于|高于|超过|超出|多于|>", ">"),
    (r"小于|低于|少于|不足|不满|<", "<"),
    (r"等于|==|=", "=="),
)
# Words after the number: (suffix, operator, reading note or None).
SUFFIXES: Tuple[Tuple[str, str, Optional[str]], ...] = (
    ("及以上", ">=", None), ("以上", ">=", None), ("及以下", "<=", None),
    ("以下", "<", "“{q}以下”按低于{q}（不含{q}）起草"), ("以内", "<=", None),
)
_CMP_WORDS = "|".join(p for p, _ in COMPARATORS)
_QTY = rf"(?:{PCT}|{_AR})"


@attrs.frozen
class Comparison:
    subject: str
    op: Optional[str]  # None: a bare number (完成率100%)
    q: Quantity
    note: Optional[str] = None


@attrs.frozen
class Band:
    subject: str
    lo: Quantity
    hi: Quantity
    lo_closed: bool
    hi_closed: bool
    note: Optional[str] = None


def _clean_subject(text: str) -> str:
    text = re.sub(r"^(?:若|如|当|如果|凡|对)", "", text)
    return re.sub(r"(?:在|为|是|的|达|应)$", "", text).strip(",")


def comparison(cond: str) -> Optional[Comparison]:
    m = re.search(rf"(?P<op>{_CMP_WORDS})?(?P<q>{_QTY})(?P<suf>及以上|以上|及以下|以下|以内)?"
                  r"(?P<incl>\(含\))?", cond)
    if not m:
        return None
    q = quantity(m.group("q"))
    op = None
    note = None
    if m.group("op"):
        op = next(o for p, o in COMPARATORS if re.fullmatch(p, m.group("op")))
    if m.group("suf"):
        for suffix, suffix_op, suffix_note in SUFFIXES:
            if m.group("suf") == suffix:
                if op is None:
                    op = suffix_op
                    if suffix_note and not m.group("incl"):
                        note = suffix_note.format(q=q.literal())
                break
    if m.group("incl"):
        op = {"<": "<=", ">": ">=", None: "=="}.get(op, op)
    return Comparison(_clean_subject(cond[:m.start()]), op, q, note)


def band(cond: str) -> Optional[Band]:
    m = re.search(rf"(?P<a>{_QTY})(?P<ai>\(含\))?(?:-|至|到)(?P<b>{_QTY})(?P<bi>\(含\))?", cond)
    if not m:
        return None
    a_text, b_text = m.group("a"), m.group("b")
    if a_text.endswith("%") != b_text.endswith("%"):  # 80-90%: both are percentages
        a_text, b_text = (a_text + "%" if not a_text.endswith("%") else a_text,
                          b_text + "%" if not b_text.endswith("%") else b_text)
    a, b = quantity(a_text), quantity(b_text)
    a_closed, b_closed = bool(m.group("ai")), bool(m.group("bi"))
    if a.value > b.value:
        a, b, a_closed, b_closed = b, a, b_closed, a_closed
    note = None
    if not (a_closed or b_closed):
        a_closed = True
        note = f"“{a.literal()}-{b.literal()}”未注明“含”，按含{a.literal()}、不含{b.literal()}起草"
    return Band(_clean_subject(cond[:m.start()]), a, b, a_closed, b_closed, note)


# Steps: (direction, pattern). `s` is the step size, `ref` an explicit reference.
STEP_FORMS: Tuple[Tuple[str, str], ...] = (
    ("above", rf"每比(?P<ref>{_QTY})高(?:出)?(?P<s>{PCT})"),
    ("below", rf"每比(?P<ref>{_QTY})低(?P<s>{PCT})"),
    ("yoy", rf"比上(?:一)?年(?:度)?每(?:提高|增加|增长|上升|高)(?P<s>{PCT})"),
    ("signed", rf"每高于或低于|每高\(低\)|加减|加\(减\)"),
    ("off", rf"每偏离\S*?(?P<s>{PCT})|每(?:相差|差)(?P<s2>{PCT})"),
    ("below", rf"每(?:下降|减少|降低|低于|低|少|下滑|减)了?(?P<s>{PCT})"),
    ("above", rf"每(?:超过|超出|高于|高出|提高|增加|增长|上升|高|多)了?(?P<s>{PCT})"),
)
_STEP_RES = tuple((d, re.compile(p)) for d, p in STEP_FORMS)


@attrs.frozen
class Step:
    direction: str  # below, above, off, yoy, signed
    size: Optional[Quantity]
    ref: Optional[Quantity]
    context: str  # the text before the step phrase (低于95%，…)


def step_of(cond: str) -> Optional[Step]:
    for direction, regex in _STEP_RES:
        m = regex.search(cond)
        if m:
            groups = {k: v for k, v in m.groupdict().items() if v}
            size = groups.get("s") or groups.get("s2")
            ref = groups.get("ref")
            return Step(direction, quantity(size) if size else None,
                        quantity(ref) if ref else None, cond[:m.start()])
    return None


# Counted items: 存在一项不合规, 每少一类, 活动每少进行一次, 对每个错填的节点, 三项及以上.
CLASSIFIERS = {"项": "项数", "例": "例数", "处": "处数", "个": "个数", "次": "次数", "类": "类数",
               "条": "条数", "件": "件数", "人": "人数", "户": "户数", "家": "家数", "名": "人数",
               "笔": "笔数", "份": "份数", "种": "种数"}
_CLS = "|".join(CLASSIFIERS)
ITEM_FORMS: Tuple[str, ...] = (
    rf"(?P<n>{NUM})(?P<c>{_CLS})(?P<more>及以上|以上)?",
    rf"每(?P<c>{_CLS})",
)
_ITEM_RES = tuple(re.compile(p) for p in ITEM_FORMS)
_ITEM_VERBS = re.compile(r"^(?:每|存在|发现|出现|有|对)+|(?:存在|发现|出现)$")


@attrs.frozen
class Item:
    phrase: str  # the counted thing as written (不合规), may be ''
    unit: str  # 项数, 次数, 类数 …
    n: Decimal
    at_least: bool  # 三项及以上
    per: bool  # 每…: a deduction per item


def item_of(cond: str) -> Optional[Item]:
    for regex in _ITEM_RES:
        m = regex.search(cond)
        if not m:
            continue
        groups = m.groupdict()
        n = number_value(groups["n"]) if groups.get("n") else Decimal(1)
        per = "每" in cond[:m.end()]
        rest = (cond[:m.start()] + cond[m.end():]).strip(",")
        rest = _ITEM_VERBS.sub("", rest.replace("每", "")).strip(",的")
        return Item(rest, CLASSIFIERS[groups["c"]], n, bool(groups.get("more")), per)
    return None


# ----------------------------------------------------------------- the drafts


@attrs.frozen
class FactSpec:
    name: str
    kind: str  # bool, count, percent, number, money, level
    label: str
    levels: Tuple[str, ...] = ()
    unit: Optional[str] = None

    def declaration(self) -> str:
        kind = self.kind
        if kind == "level":
            kind = "level(" + ", ".join(quote(v) for v in self.levels) + ")"
        elif kind == "money":
            kind = f"money({self.unit or '元'})"
        return f"fact {self.name}: {kind} {quote(self.label)}"

    @property
    def kind_cn(self) -> str:
        """What to write for the fact in a facts file, in words (Chinese)."""
        if self.kind == "level":
            return "填其一：" + " / ".join(self.levels)
        return {"bool": "填 是 或 否", "count": "填整数", "percent": "填百分比，如 95%",
                "number": "填数值",
                "money": f"填金额，单位{self.unit or '元'}，也可写 212.85万元"}[self.kind]


@attrs.frozen
class LetSpec:
    name: str
    label: str
    expr: str

    def declaration(self) -> str:
        return f"let {self.name} {quote(self.label)} = {self.expr}"


@attrs.frozen
class PointSpec:
    label: str  # ①
    weight: str  # "weight 7" or "share 1/4"
    rule: str


@attrs.frozen
class Draft:
    pattern: str  # the recogniser's id
    title: str  # its Chinese name, shown in the review comment
    facts: Tuple[FactSpec, ...]
    rule: Optional[str]  # the score rule; None when the leaf is scored by points
    lets: Tuple[LetSpec, ...] = ()
    points: Tuple[PointSpec, ...] = ()
    readings: Tuple[str, ...] = ()  # how ambiguous prose was read (Chinese)


@attrs.frozen
class Unrecognised:
    """No recogniser accounts for the standard; ``reason`` says why (Chinese)."""

    reason: str


class _Stop(Exception):
    """A recogniser saw a form the language cannot draft: stop, with the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\t", "\\t") + '"'


def value_text(o: Outcome, weight: Decimal) -> Optional[str]:
    """What a deciding outcome scores, as a rule expression (None: not a fixed value)."""
    if o.kind == "full":
        return "full"
    if o.kind == "zero":
        return "0"
    if o.kind == "points":
        return "full" if o.value == weight else ("0" if o.value == 0 else plain(o.value))
    if o.kind == "share":
        if o.value == 1:
            return "full"
        return f"{share_text(o)} of weight"
    return None


def share_text(o: Outcome) -> str:
    match = re.search(FRACTION, o.text)
    if match and "%" not in o.text:
        return match.group(0)
    return plain(o.value * 100) + "%"


def delta_text(o: Outcome) -> Optional[str]:
    """A step's or an item's change: 扣0.1分 → -0.1, 扣权重的3% → -3% of weight."""
    if o.kind == "deduct":
        return "-" + plain(o.value)
    if o.kind == "deduct_share":
        return f"-{share_text(o)} of weight"
    if o.kind == "points":
        return plain(o.value)
    return None


def _is_full(o: Outcome, weight: Decimal) -> bool:
    return value_text(o, weight) == "full"


def _is_zero(o: Outcome, weight: Decimal) -> bool:
    return value_text(o, weight) == "0"


def _pair_kinds(top: str, bottom: str):
    """The two sides of a ratio have one type: 预算执行数/预算数 are both amounts,
    实际满意度/指标值 both percentages."""
    kinds = [fact_kind(text) for text in (top, bottom)]
    for kind, unit in (("money", "元"), ("percent", None)):
        if any(k == kind for k, _ in kinds):
            return [(kind, unit)] * 2
    return kinds


def fact_kind(label: str) -> Tuple[str, Optional[str]]:
    """The type a fact named by ``label`` most likely has: counts, money, percentages,
    numbers."""
    if re.search(r"(?:率|满意度|占比|比例)(?:（[^）]*）)?$", label):
        return "percent", None
    if re.search(r"(?:人数|次数|户数|个数|项数|家数|人次|份数|场次|例数|类数|处数)$", label):
        return "count", None
    if re.search(r"金额|资金|经费|支出|拨款|成本|费用|收入|预算(?:数|额)?$", label):
        return "money", "元"
    return "number", None


# Generic one-word conditions (是，得满分): the label comes from the 指标解释 instead.
_GENERIC = {"是", "符合", "匹配", "合理", "合规", "规范", "完整", "达到", "齐全", "有", "相符",
            "一致", "明确", "健全", "完成", "满足", "通过", "达标", "及时", "适应",
            "充分", "有效", "准确", "到位", "不存在", "无", "否"}


def statement(a: Analysis, cond: str) -> str:
    """A yes/no fact's label: the condition, or the 指标解释's 「是否…」 when the
    condition is a single generic word."""
    cond = label_text(cond)
    if cond and cond not in _GENERIC and len(cond) > 1:
        return cond
    for part in re.split(r"[，,；;。]", a.source.explain or ""):
        if "是否" in part:
            text = re.sub(r"^(?:考察|考核|评价|反映|衡量|检查|判断|主要)+", "", part.strip())
            text = text.replace("是否", "", 1)
            if text:
                return label_text(text)
    name = a.source.name or "本指标"
    return f"{name}：{cond}" if cond else name


def _ratio_operands(expr: str) -> Optional[Tuple[str, str]]:
    """「实际完成值/年度指标值」 → (实际完成值, 年度指标值)."""
    expr = expr.split("=")[-1]
    expr = re.split(r"按|以", expr)[-1]
    expr = expr.replace("×100%", "").strip("()")
    m = re.fullmatch(r"\(?([^/()]+?)\)?/\(?([^/()]+?)\)?", expr)
    if not m:
        return None
    return m.group(1), m.group(2)


_TARGET_WORDS = re.compile(r"指标值|目标值|计划|预期|预算|标准|应|要求")


@attrs.frozen
class Subject:
    expr: str  # the name the rule compares
    facts: Tuple[FactSpec, ...]
    lets: Tuple[LetSpec, ...]
    label: str


_CATEGORY_NAMES = {"非常满意": "very", "很满意": "very", "比较满意": "fairly", "满意": "satisfied",
                   "基本满意": "basic", "一般": "neutral", "无感": "neutral",
                   "比较不满意": "fairly_not", "不满意": "not_satisfied",
                   "非常不满意": "not_at_all", "很不满意": "not_at_all"}


def resolve_subject(a: Analysis, phrase: str, fallback: str = "完成率") -> Subject:
    """What a rule compares: a ratio of two facts (「A与B的比例」, or a definition
    「X=A/B」 in the standard or the 指标解释), a weighted share of answers
    (「满意度=〔非常满意×100%+…〕/回答总数」), or one percentage fact."""
    phrase = label_text(phrase)
    m = re.fullmatch(r"(.+?)(?:与|和|占)(.+?)(?:的)?(?:比例|比值|之比|比率|的比)", phrase)
    if m:
        return _ratio_subject(a, m.group(1), m.group(2), phrase)
    sources = [a.text, normalise(a.source.explain or "")]
    for source in sources:
        for m in re.finditer(r"([^,;:。=]+?)=[〔\[(](.+?)[〕\])]/(回答总数|总数|样本数|问卷总数|"
                             r"总人数|回收问卷数|有效问卷数)", source):
            left = label_text(m.group(1))
            if _same_subject(left, phrase):
                return _weighted_subject(a, left, m.group(2))
    for source in sources:
        for m in re.finditer(r"([^,;:。=]+?)=([^=,;。]+?)/([^=,;。]+?)(?:×100%)?(?=[,;。]|$)",
                             source):
            left = label_text(m.group(1))
            if _same_subject(left, phrase):
                return _ratio_subject(a, label_text(m.group(2)), label_text(m.group(3)), left)
    if not phrase or re.fullmatch(r"(?:实际)?(?:完成|达成|执行)?(?:率|比例|程度)", phrase):
        # A generic 完成率: the 指标解释 may say of what (「实际完成值与年度指标值之比」).
        m = re.search(r"([^,;:。与和]+?)(?:与|和)([^,;:。与和]+?)(?:的)?(?:之比|比例|比值|比率)",
                      normalise(a.source.explain or ""))
        if m:
            return _ratio_subject(a, m.group(1), m.group(2), phrase or fallback)
    label = phrase or fallback
    name = a.name("rate")
    return Subject(name, (FactSpec(name, "percent", label),), (), label)


def _same_subject(defined: str, phrase: str) -> bool:
    """「预算执行率」 is what 「执行率」, 「实际执行率」 and 「项目预算执行率」 name."""
    phrase = re.sub(r"^(?:实际|该|本|项目)", "", phrase)
    if len(phrase) < 2:
        return False
    return defined.endswith(phrase) or phrase.endswith(defined)


def _ratio_subject(a: Analysis, top: str, bottom: str, label: str) -> Subject:
    top, bottom = label_text(top), label_text(bottom)
    names = (a.name("actual"), a.name("target"))
    kinds = _pair_kinds(top, bottom)
    facts = [FactSpec(name, kind, text, unit=unit)
             for name, text, (kind, unit) in zip(names, (top, bottom), kinds)]
    rate = a.name("rate")
    let = LetSpec(rate, label_text(label), f"ratio({names[0]}, {names[1]})")
    return Subject(rate, tuple(facts), (let,), label_text(label))


def _weighted_subject(a: Analysis, label: str, body: str) -> Subject:
    terms = re.findall(rf"([^+×]+?)×({PCT})", body)
    if not terms:
        raise _Stop("满意度计算式未能读出各档答案的权数")
    facts, used, parts = [], set(), []
    for index, (category, share) in enumerate(terms, start=1):
        category = label_text(category)
        base = _CATEGORY_NAMES.get(category, f"answer{index}")
        if base in used:
            base = f"answer{index}"
        used.add(base)
        name = a.name(base)
        facts.append(FactSpec(name, "count", f"回答“{category}”的人数"))
        parts.append((name, quantity(share).literal()))
    numerator = " + ".join(f"{n} * {s}" for n, s in parts)
    denominator = " + ".join(n for n, _ in parts)
    rate = a.name("rate")
    let = LetSpec(rate, label, f"({numerator}) / ({denominator})")
    return Subject(rate, tuple(facts), (let,), label)


# ---------------------------------------------------------------- recognisers


@attrs.frozen
class Recogniser:
    id: str
    title: str  # Chinese, shown in the review comment
    pattern: int  # the field guide's pattern number
    draft: Callable[[Analysis], Optional[Draft]]
    examples: Tuple[str, ...]  # verbatim standards from the field guide and the seeds


RECOGNISERS: List[Recogniser] = []


def recogniser(id: str, title: str, pattern: int, examples: Sequence[str]):
    def register(fn):
        RECOGNISERS.append(Recogniser(id, title, pattern, fn, tuple(examples)))
        return fn
    return register


def _kept(a: Analysis, clauses: Sequence[Clause]) -> bool:
    """True when ``clauses`` are all of the analysis's clauses (none left unexplained)."""
    return len(clauses) == len(a.clauses)


_MARKERS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


@recogniser("points", "分要点计分", 3, (
    "①活动顺利进行增加人民群众的幸福感，得7分；②构建和谐社会环境，得7分；③受益对象感受到关怀，得7分",
    "三个要点各占指标分值的1/3，每个要点得分=该要点完成率×要点分值",
    "要点①②③④各占指标分值的1/4；各要点中每出现一项不满足，扣除该要点权重分值的1/3，"
    "出现三项及以上不满足，该要点不得分",
))
def _points(a: Analysis) -> Optional[Draft]:
    if a.source.suffix:  # points do not nest
        return None
    text = a.text
    shared = re.search(rf"(?:要点)?(?P<marks>[{_MARKERS}]{{2,}})各占(?:指标|该指标)?(?:分值|权重)的?"
                       rf"(?P<share>{FRACTION}|{PCT})", text) or \
        re.search(rf"(?P<count>{NUM})个要点各占(?:指标|该指标)?(?:分值|权重)的?"
                  rf"(?P<share>{FRACTION}|{PCT})", text)
    if shared:
        count = len(shared.group("marks")) if shared.groupdict().get("marks") else \
            int(number_value(shared.group("count")))
        share_raw = shared.group("share")
        share = number_value(share_raw) if "/" in share_raw else percent_value(share_raw)
        body = text[shared.end():].strip(",;。")
        body = re.sub(r"^(?:各要点中|每个要点|各要点|每一要点|每要点)", "", body)
        if not body:
            return None
        labels = _MARKERS[:count]
        return _assemble_points(a, [(labels[i], body, a.weight * share, f"share {share_raw}")
                                    for i in range(count)])
    marks = [m for m in re.finditer(f"[{_MARKERS}]", text)]
    if len(marks) < 2 or [m.group() for m in marks] != list(_MARKERS[:len(marks)]):
        return None
    parts = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end].strip(",;。")
        scores = [o.value for o in outcomes_in(body) if o.kind == "points"]
        annotated = re.search(rf"\((?P<v>{NUM})分\)", body)
        if scores:
            point_weight = max(scores)
        elif annotated:
            point_weight = number_value(annotated.group("v"))
        else:
            return None
        parts.append((m.group(), body, point_weight, f"weight {plain(point_weight)}"))
    return _assemble_points(a, parts)


def _assemble_points(a: Analysis, parts) -> Optional[Draft]:
    facts: List[FactSpec] = []
    lets: List[LetSpec] = []
    points: List[PointSpec] = []
    readings: List[str] = []
    for index, (label, body, point_weight, weight_text) in enumerate(parts, start=1):
        sub = Standard(body, point_weight, a.source.name, a.source.explain, str(index))
        inner = analyse(sub)
        if len(inner.clauses) == 1 and inner.clauses[0].outcome.kind == "points" and \
                not inner.modifiers:
            cond = inner.clauses[0].cond
            name = inner.name("p")
            facts.append(FactSpec(name, "bool", label_text(cond) or f"要点{label}"))
            points.append(PointSpec(label, weight_text, f"{name} -> full; else -> 0"))
            continue
        result = draft_rule(sub)
        if not isinstance(result, Draft) or result.rule is None:
            return None
        facts.extend(result.facts)
        lets.extend(result.lets)
        readings.extend(r for r in result.readings if r not in readings)
        points.append(PointSpec(label, weight_text, result.rule))
    total = sum((Decimal(p[2]) for p in parts), Decimal(0))
    if total != a.weight:
        readings.append(f"各要点分值合计{plain(total)}，与指标分值{plain(a.weight)}不符，请核对")
    return Draft("points", "分要点计分", tuple(facts), None, tuple(lets), tuple(points),
                 tuple(readings))


@recogniser("assessor-band", "定性指标分档由评价人给分", 15, (
    "定性指标：达成年度指标、部分达成年度指标并具有一定效果、未达成年度指标且效果较差三档，"
    "分别按照该指标对应分值区间100%-80%（含）、80%-60%（含）、60%-0%合理确定分值",
    "财预〔2020〕10号第十六条定性指标：达成年度指标得分值的100%-80%，部分达成得80%-60%，未达成得60%-0%",
))
def _assessor_band(a: Analysis) -> Optional[Draft]:
    text = a.text
    pairs: List[Tuple[str, Decimal, Decimal]] = []
    listed = re.search(r"(?P<labels>[^:]+?)[二两三四五]档.*?区间(?P<ranges>[\d%(含)\-、]+)", text)
    if listed:
        labels = [s for s in listed.group("labels").split("、") if s]
        ranges = re.findall(rf"({PCT})(?:\(含\))?-({PCT})", listed.group("ranges"))
        if len(labels) != len(ranges) or len(labels) < 2:
            return None
        pairs = [(lab, percent_value(x), percent_value(y)) for lab, (x, y) in zip(labels, ranges)]
    else:
        for m in re.finditer(rf"(?:^|[,;])(?P<label>[^,;]+?)得(?:该指标)?(?:分值|权重)?的?"
                             rf"(?P<x>{PCT})(?:\(含\))?-(?P<y>{PCT})", text):
            pairs.append((m.group("label"), percent_value(m.group("x")), percent_value(m.group("y"))))
        if len(pairs) < 2:
            return None
    values = []
    for label, _x, _y in pairs:
        label = re.sub(r"^(?:定性指标|分别)", "", label)
        # 「部分达成年度指标并具有一定效果」 → 部分达成: the band's name, not its gloss.
        short = re.split(r"年度指标|并|且|，|,", label)[0] or label
        values.append(label_text(short))
    if len(set(values)) != len(values):
        return None
    band_name, assessed = a.name("band"), a.name("assessed")
    clauses = []
    for value, (_label, x, y) in zip(values, pairs):
        lo, hi = sorted((x, y))
        clauses.append(f"{band_name} == {quote(value)} -> assess({assessed}, {_share_of(lo)}, "
                       f"{_share_of(hi)})")
    facts = (FactSpec(band_name, "level", "目标达成情况", tuple(values)),
             FactSpec(assessed, "number", "评价人给分"))
    return Draft("assessor-band", "定性指标分档由评价人给分", facts, "; ".join(clauses),
                 readings=("评价人在所属档次的分值区间内给分，超出区间时报错",))


def _share_of(fraction: Decimal) -> str:
    if fraction == 1:
        return "weight"
    if fraction == 0:
        return "0"
    return f"{plain(fraction * 100)}% of weight"


@recogniser("timeliness", "按时完成，超时按比例扣分", 11, (
    "在计划时间内完成的，得满分，超过计划时间的，根据超计划时间占计划完成时间百分比扣分",
))
def _timeliness(a: Analysis) -> Optional[Draft]:
    if not re.search(r"计划(?:完成)?时间内完成", a.text) or \
            not re.search(r"超(?:过)?计划(?:完成)?时间.*?(?:百分比|比例)扣分", a.text):
        return None
    planned, actual = a.name("planned_days"), a.name("actual_days")
    facts = (FactSpec(planned, "count", "计划完成时间（天）"),
             FactSpec(actual, "count", "实际完成时间（天）"))
    rule = (f"{actual} <= {planned} -> full; else -> (1 - ({actual} - {planned}) / {planned}) "
            f"of weight; floor 0")
    return Draft("timeliness", "按时完成，超时按比例扣分", facts, rule,
                 readings=("超时部分按“超计划时间÷计划时间”连续扣减分值，最低0分",))


@recogniser("reverse-linear", "反向指标：超出目标后线性递减", 8, (
    "实际值不超过指标值得满分；超过指标值且低于2倍指标值的，得分=（1-（实际值-指标值）/指标值）×分值；"
    "达到2倍及以上不得分",
))
def _reverse_linear(a: Analysis) -> Optional[Draft]:
    full = re.search(r"(?P<actual>[^,;:]+?)不超过(?P<target>[^,;:]+?)(?:的)?(?:,)?得满分", a.text)
    twice = re.search(r"(?:达到|超过)?(?P<k>\d+)倍(?:及以上)?(?:的)?(?:,)?不得分", a.text)
    formula = re.search(r"1-\(", a.text)
    if not (full and twice and formula):
        return None
    k = twice.group("k")
    actual, target = a.name("actual"), a.name("target")
    facts = (FactSpec(actual, *_kind_pair(label_text(full.group("actual")))),
             FactSpec(target, *_kind_pair(label_text(full.group("target")))))
    rule = (f"{actual} <= {target} -> full; {actual} >= {k} * {target} -> 0; "
            f"else -> (1 - ({actual} - {target}) / {target}) * weight")
    return Draft("reverse-linear", "反向指标：超出目标后线性递减", facts, rule)


def _kind_pair(label: str):
    kind, unit = fact_kind(label)
    return kind, label, (), unit


@recogniser("linear-between", "两个阈值之间线性计分", 6, (
    "完成率小于60%为不及格，不得分；大于等于60%的，得分=（实际完成率-60%）／（1-60%）×指标分值",
))
def _linear_between(a: Analysis) -> Optional[Draft]:
    formulas = [c for c in a.clauses if c.outcome.kind == "formula"]
    if len(formulas) != 1:
        return None
    expr = (formulas[0].outcome.expr or "").replace("×", "")
    m = re.search(rf"\(?(?P<subj>[^()\-]*?)-(?P<lo>{PCT})\)?/\(?(?:1|100%)-(?P<lo2>{PCT})\)?", expr)
    if not m or m.group("lo") != m.group("lo2"):
        return None
    lo = quantity(m.group("lo"))
    zero = [c for c in a.clauses if c.outcome.kind == "zero"]
    if len(zero) > 1 or not _kept(a, formulas + zero):
        return None
    phrase = ""
    if zero:
        cmp_ = comparison(zero[0].cond)
        phrase = cmp_.subject if cmp_ else ""
    phrase = phrase or re.sub(r"^实际", "", m.group("subj"))
    subject = resolve_subject(a, phrase)
    rule = f"{subject.expr} < {lo.literal()} -> 0; else -> linear({subject.expr}, {lo.literal()}, 100%) of weight"
    return Draft("linear-between", "两个阈值之间线性计分", subject.facts, rule, subject.lets,
                 readings=(f"完成率高于100%按100%计；{lo.literal()}以下不得分",))


@recogniser("over-achievement", "达到目标得满分，未达到按比例，超出较多提示偏离度", 10, (
    "慰问驻村工作队预期值为≥20个；完成值高于指标值较多的，按偏离度分析原因",
))
def _over_achievement(a: Analysis) -> Optional[Draft]:
    if "偏离度" not in a.text or a.clauses:
        return None
    if not re.search(r"(?:预期值|目标值|指标值)为?(?:>=|>|不少于|不低于)?\d", a.text):
        return None
    draft = _proportional_draft(a, "实际完成值", "年度指标值", reverse=False, flag=True,
                                readings=("原文只写了预期值和偏离度：按财预〔2020〕10号第十六条起草"
                                         "（达到得满分，未达到按实际完成值/年度指标值×分值）",))
    return attrs.evolve(draft, pattern="over-achievement",
                        title="达到目标得满分，未达到按比例，超出较多提示偏离度")


@recogniser("proportional", "按完成比例计分", 7, (
    "全年实际值/年度指标值*该指标分值，满分为止",
    "年度指标值/全年实际值*该指标分值",
    "实际完成值达到年度指标值得满分，未达到按实际完成值/年度指标值×分值计分；超出较多的按偏离度提示",
))
def _proportional(a: Analysis) -> Optional[Draft]:
    main = [c for c in a.clauses if c.outcome.kind in ("formula", "proportional")]
    if len(main) != 1:
        return None
    full = [c for c in a.clauses if _is_full(c.outcome, a.weight)]
    if len(full) > 1 or not _kept(a, main + full):
        return None
    o = main[0].outcome
    flag = "偏离度" in a.text
    if o.kind == "proportional":
        phrase = main[0].cond or (full[0].cond if full else "")
        subject = resolve_subject(a, re.sub(r"^(?:未达到|未完成|否则)", "", phrase), "完成比例")
        return _rate_draft(a, subject, flag)
    operands = _ratio_operands(o.expr or "")
    if operands is None:
        single = label_text(re.split(r"按|以|=", o.expr or "")[-1])
        single = re.sub(r"^该", "", single)
        if not single or re.search(r"[+\-/]", single):
            return None
        return _rate_draft(a, resolve_subject(a, single), flag)
    top, bottom = operands
    reverse = bool(_TARGET_WORDS.search(top)) and not _TARGET_WORDS.search(bottom)
    if reverse:
        return _proportional_draft(a, bottom, top, reverse=True, flag=flag)
    return _proportional_draft(a, top, bottom, reverse=False, flag=flag)


def _rate_draft(a: Analysis, subject: Subject, flag: bool) -> Draft:
    s = subject.expr
    rule = f"{s} >= 100% -> full; else -> {s} of weight"
    readings = []
    if flag:
        rule += f"; flag over if {s} > 150%"
        readings.append("偏离度提示的阈值（超出目标50%）为起草时的选择，请按评分办法调整")
    return Draft("proportional", "按完成比例计分", subject.facts, rule, subject.lets,
                 readings=tuple(readings))


def _proportional_draft(a: Analysis, actual_label: str, target_label: str, reverse: bool,
                        flag: bool, readings=()) -> Draft:
    actual, target = a.name("actual"), a.name("target")
    (k1, u1), (k2, u2) = _pair_kinds(label_text(actual_label), label_text(target_label))
    facts = (FactSpec(actual, k1, label_text(actual_label), unit=u1),
             FactSpec(target, k2, label_text(target_label), unit=u2))
    rate = a.name("rate")
    readings = list(readings)
    if reverse:
        let = LetSpec(rate, f"{label_text(target_label)}与{label_text(actual_label)}之比",
                      f"ratio({target}, {actual})")
        # min(…, 1) changes nothing (actual > target here) but lets check see the bound.
        rule = f"{actual} <= {target} -> full; else -> min({rate}, 1) of weight"
        title = "反向指标：按目标值/实际值计分"
    else:
        let = LetSpec(rate, f"{label_text(actual_label)}与{label_text(target_label)}之比",
                      f"ratio({actual}, {target})")
        rule = f"{rate} >= 1 -> full; else -> {rate} of weight"
        title = "按完成比例计分"
        if flag:
            rule += f"; flag over if {rate} > 150%"
            readings.append("偏离度提示的阈值（超出目标50%）为起草时的选择，请按评分办法调整")
    return Draft("proportional", title, facts, rule, (let,), readings=tuple(readings))


@recogniser("steps", "达到阈值得满分，按档增减", 5, (
    "慰问人数与预期人数的比例达到100%，得满分，每减少5%，扣0.1分，扣完为止",
    "预算执行率95%以上，得满分；低于95%，每下降1%扣权重的1%；预算执行率60%以下，不计分",
    "完成率100%得满分，每低1%扣2分，不满1%按1%计算，扣完为止",
    "在职人员控制率≦100%,计5分;每超过一个百分点扣0.5分,扣完为止",
    "政府采购执行率=100%为达到要求，每偏离要求（高于或者低于）5个百分点扣1分",
    "税收占比达到85%以上（含）的，计15分；低于70%（含）的，计0分；…每比70%高0.1个百分点，计0.1分",
    "比上年每提高0.1个百分点，得0.01分，加满动态分为止；低于上年的，动态分为0分",
    "满意度=〔非常满意×100%+比较满意×75%+无感×50%+比较不满意×25%+非常不满意×0%〕/回答总数；"
    "满意度达到90%得满分，每降低1%扣除指标分值的5%",
))
def _steps(a: Analysis) -> Optional[Draft]:
    stepped = [(c, step_of(c.cond)) for c in a.clauses]
    stepped = [(c, s) for c, s in stepped if s is not None]
    if len(stepped) != 1:
        return None
    clause, step = stepped[0]
    if step.direction == "signed":
        raise _Stop("“每高于或低于…加减…分”（围绕基准加减分）的起草尚未支持，请手写规则")
    delta = delta_text(clause.outcome)
    if delta is None or step.size is None:
        return None
    w = a.weight
    full = [c for c in a.clauses if c is not clause and _is_full(c.outcome, w)]
    zero = [c for c in a.clauses if c is not clause and _is_zero(c.outcome, w)]
    if len(full) > 1 or len(zero) > 1 or not _kept(a, [clause] + full + zero):
        return None
    readings: List[str] = []
    full_cmp = comparison(full[0].cond) if full else None
    zero_cmp = comparison(zero[0].cond) if zero else None
    context_cmp = comparison(step.context) if step.context else None
    for cmp_ in (full_cmp, zero_cmp, context_cmp):
        if cmp_ is not None and cmp_.note:
            readings.append(cmp_.note)
    positive = not delta.startswith("-")
    kind = "per"
    if "started" in a.modifiers:
        kind = "per started"
    elif "pro_rata" in a.modifiers:
        kind = "pro rata"
    else:
        readings.append(f"按整档计（每满{step.size.literal()}为一档，不足一档不计）；"
                        "原文若按不足一档按一档或按比例计，请改为 per started 或 pro rata")
    size = step.size.literal()

    if step.direction == "yoy":
        if not positive:
            return None
        this_year, last_year = a.name("this_year"), a.name("last_year")
        phrase = (full_cmp.subject if full_cmp else "") or label_text(step.context) or "本指标"
        facts = (FactSpec(this_year, "percent", f"本年{phrase}" if phrase != "本指标" else "本年值"),
                 FactSpec(last_year, "percent", f"上年{phrase}" if phrase != "本指标" else "上年值"))
        rules = [f"{this_year} <= {last_year} -> 0",
                 f"{kind} {size} above {last_year} -> {delta}", "cap full"]
        return Draft("steps", "比上年每提高一档加分", facts, "; ".join(rules), readings=tuple(readings))

    phrase = next((c.subject for c in (full_cmp, zero_cmp, context_cmp) if c and c.subject), "")
    fallback = "完成率"
    if full and not full_cmp:
        target = label_text(full[0].cond)
        fallback = "实际与预期之比" if re.search(r"预期|目标|计划|要求", target) else \
            (target + "的程度" if target else "完成率")
        readings.append(f"“{target or '得满分'}”按{fallback}达到100%起草")
    subject = resolve_subject(a, phrase, fallback)
    s = subject.expr
    rules: List[str] = []
    if zero:
        if zero_cmp is None or zero_cmp.op not in ("<", "<="):
            return None  # 不得分 for what? Not a lower cut-off this recogniser can place
        rules.append(f"{s} {zero_cmp.op} {zero_cmp.q.literal()} -> 0")
    if step.direction == "below":
        if positive:
            return None
        threshold = _threshold(full_cmp, context_cmp, (">=", ">", "==", None))
        rules.append(f"{s} >= {threshold} -> full")
        rules.append(f"{kind} {size} below -> {delta}")
    elif step.direction == "above" and step.ref is None:
        if positive:
            return None
        threshold = _threshold(full_cmp, context_cmp, ("<=", "<", "==", None))
        rules.append(f"{s} <= {threshold} -> full")
        rules.append(f"{kind} {size} above -> {delta}")
    elif step.direction == "off":
        threshold = _threshold(full_cmp, context_cmp, ("==", ">=", None))
        rules.append(f"{s} == {threshold} -> full")
        rules.append(f"{kind} {size} off -> {delta}")
    elif step.direction == "above":  # 每比70%高0.1个百分点，计0.1分
        if not positive:
            return None
        ref = step.ref.literal()
        if full_cmp is not None and full_cmp.op in (">=", ">", None):
            rules.insert(0, f"{s} >= {full_cmp.q.literal()} -> full")
        if not zero:
            rules.append(f"{s} <= {ref} -> 0")
        rules.append(f"{kind} {size} above {ref} -> {delta}")
        rules.append("cap full")
    else:
        return None
    floor = "floor" in a.modifiers
    if "deduct_max" in a.modifiers:
        rules.append(f"deduct at most {plain(a.modifiers['deduct_max'].value)}")
    elif not positive and (floor or not zero):
        rules.append("floor 0")
        if not floor:
            readings.append("原文未写“扣完为止”，按得分不低于0起草")
    return Draft("steps", "达到阈值得满分，按档增减", subject.facts, "; ".join(rules),
                 subject.lets, readings=tuple(readings))


def _threshold(full_cmp: Optional[Comparison], context_cmp: Optional[Comparison],
               ops) -> str:
    for cmp_ in (full_cmp, context_cmp):
        if cmp_ is not None and cmp_.op in ops:
            return cmp_.q.literal()
        if cmp_ is not None and cmp_ is context_cmp and cmp_.op in ("<", "<="):
            return cmp_.q.literal()  # 低于95%，每下降1%…: the reference is 95%
    return "100%"


@recogniser("bands", "按区间分档计分", 4, (
    "重点支出安排率≥90%,计5分;80%(含)-90%,计4分;70%(含)-80%,计3分;60%(含)-70%,计2分;低于60%不得分",
    "满意度大于等于90%的得10分，大于等于80%的得8分，大于等于60%的得5分，小于60%不得分",
))
def _bands(a: Analysis) -> Optional[Draft]:
    if len(a.clauses) < 2 or any(step_of(c.cond) for c in a.clauses):
        return None
    w = a.weight
    clauses = list(a.clauses)
    # 101号: 「项目完成且执行数控制在预算内的，得10分；执行率80%（含）—100%，得7分；…」 —
    # a condition in words first, then the bands.
    lead = None
    if len(clauses) >= 3 and not re.search(r"\d|%", clauses[0].cond) and clauses[0].cond and \
            value_text(clauses[0].outcome, w) not in (None, "0"):
        lead, clauses = clauses[0], clauses[1:]
    read = []
    for c in clauses:
        value = value_text(c.outcome, w)
        if value is None:
            return None
        b = band(c.cond)
        cmp_ = None if b else comparison(c.cond)
        if b is None and (cmp_ is None or cmp_.op is None):
            return None
        read.append((b or cmp_, value))
    subjects = {x.subject for x, _ in read if x.subject}
    if len(subjects) > 1:
        # Later clauses often repeat the subject with fewer words: keep the longest.
        longest = max(subjects, key=len)
        if not all(longest.endswith(s) or s in longest for s in subjects):
            return None
    phrase = max(subjects, key=len) if subjects else ""
    percent = any((x.lo.percent if isinstance(x, Band) else x.q.percent) for x, _ in read)
    if percent:
        subject = resolve_subject(a, phrase, "比率")
    else:
        name = a.name("value")
        label = label_text(phrase) or "数值"
        subject = Subject(name, (FactSpec(name, "number", label),), (), label)
    s = subject.expr
    rules, readings = [], []
    facts = list(subject.facts)
    if lead is not None:
        met = a.name("met")
        facts.insert(0, FactSpec(met, "bool", statement(a, lead.cond)))
        rules.append(f"{met} -> {value_text(lead.outcome, w)}")
    for x, value in read:
        if isinstance(x, Band):
            left = "[" if x.lo_closed else "("
            right = "]" if x.hi_closed else ")"
            rules.append(f"{s} in {left}{x.lo.literal()}, {x.hi.literal()}{right} -> {value}")
        else:
            rules.append(f"{s} {x.op} {x.q.literal()} -> {value}")
        if x.note and x.note not in readings:
            readings.append(x.note)
    return Draft("bands", "按区间分档计分", tuple(facts), "; ".join(rules), subject.lets,
                 readings=tuple(readings))


@recogniser("one-strike", "出现一例即不得分", 1, (
    "资金拨付申请、审批手续完整，得满分；存在一例手续不完整，不得分。",
    "不存在，得满分；存在1例，不得分。",
    "符合相关要求，得满分；一项不符合，不得分。",
))
def _one_strike(a: Analysis) -> Optional[Draft]:
    w = a.weight
    if len(a.clauses) != 2:
        return None
    full, zero = a.clauses
    if not (_is_full(full.outcome, w) and _is_zero(zero.outcome, w)):
        return None
    item = item_of(zero.cond)
    if item is None or item.n != 1 or item.per:
        return None
    label = _item_label(a, item, full.cond)
    name = a.name("cases")
    return Draft("one-strike", "出现一例即不得分", (FactSpec(name, "count", label),),
                 f"{name} == 0 -> full; else -> 0")


def _item_label(a: Analysis, item: Item, full_cond: str) -> str:
    phrase, unit = item.phrase, item.unit
    full_cond = label_text(full_cond)
    if phrase and phrase.startswith("不") and full_cond.startswith(phrase[1:]) and \
            len(full_cond) > len(phrase) - 1:
        phrase = "不" + full_cond  # 一项不符合 (符合相关要求) → 不符合相关要求
    if not phrase or len(phrase) <= 1:
        for part in re.split(r"[，,；;。]", a.source.explain or ""):
            m = re.search(r"是否存在(.+)", part)
            if m:
                phrase = re.sub(r"(?:等)?(?:的)?情况$", "", m.group(1))
                break
    if not phrase or len(phrase) <= 1:
        phrase = {"少": "缺少", "缺": "缺少"}.get(phrase, phrase) or "问题"
    return label_text(f"{phrase}的{unit}")


@recogniser("per-item", "逐项扣分", 2, (
    "合规，得满分；存在一项不合规，扣1分，扣完为止",
    "合理得满分；存在一项不合理，扣0.5分，扣完为止",
    "发现一项扣1分，最多扣2分",
    "对每个错填、漏填的进度节点，扣0.2分",
    "全部覆盖，得满分；每少一类，扣1分，扣完为止。",
    "监管措施明确、完善，得满分；每存在一项需要完善的风险控制点，扣权重的30%，扣完为止。",
))
def _per_item(a: Analysis) -> Optional[Draft]:
    w = a.weight
    deducting = [c for c in a.clauses if c.outcome.kind in ("deduct", "deduct_share")]
    if len(deducting) != 1:
        return None
    clause = deducting[0]
    item = item_of(clause.cond)
    if item is None or step_of(clause.cond) is not None:
        return None
    if item.n != 1 and not item.per:
        return None
    full = [c for c in a.clauses if _is_full(c.outcome, w)]
    zero = [c for c in a.clauses if _is_zero(c.outcome, w)]
    if len(full) > 1 or len(zero) > 1 or not _kept(a, deducting + full + zero):
        return None
    limit = None
    if zero:
        z = item_of(zero[0].cond)
        if z is None or not z.at_least:
            return None
        limit = z.n
    name = a.name("items")
    label = _item_label(a, item, full[0].cond if full else "")
    rules = []
    if limit is not None:
        rules.append(f"{name} >= {plain(limit)} -> 0")
    rules.append(f"each {name} -> {delta_text(clause.outcome)}")
    readings = []
    if "deduct_max" in a.modifiers:
        rules.append(f"deduct at most {plain(a.modifiers['deduct_max'].value)}")
    elif "floor" in a.modifiers or limit is None:
        rules.append("floor 0")
        if "floor" not in a.modifiers:
            readings.append("原文未写“扣完为止”，按得分不低于0起草")
    return Draft("per-item", "逐项扣分", (FactSpec(name, "count", label),), "; ".join(rules),
                 readings=tuple(readings))


@recogniser("assess", "评价人酌情给分", 15, (
    "酌情扣0.5-2.0分",
    "资料齐全、规范的，得满分；存在问题的，酌情扣分",
))
def _assess(a: Analysis) -> Optional[Draft]:
    w = a.weight
    assessing = [c for c in a.clauses if c.outcome.kind == "assess"]
    if len(assessing) != 1:
        return None
    full = [c for c in a.clauses if _is_full(c.outcome, w)]
    if len(full) > 1 or not _kept(a, assessing + full):
        return None
    o = assessing[0].outcome
    assessed = a.name("assessed")
    if o.lo is not None:
        lo, hi = max(w - o.hi, Decimal(0)), max(w - o.lo, Decimal(0))
        bounds = f"{plain(lo)}, {plain(hi)}"
    else:
        bounds = "0, weight"
    facts = [FactSpec(assessed, "number", "评价人给分")]
    if full:
        met = a.name("met")
        facts.insert(0, FactSpec(met, "bool", statement(a, full[0].cond)))
        rule = f"{met} -> full; else -> assess({assessed}, {bounds})"
    else:
        rule = f"assess({assessed}, {bounds})"
    return Draft("assess", "评价人酌情给分", tuple(facts), rule,
                 readings=("评价人给出的分值须在区间内，超出时报错",))


@recogniser("levels", "按情形分档计分", 4, (
    "有效执行，得满分；部分执行，得权重的60%；未执行，不得分",
    "规范，得满分；部分规范，得一分；不规范，不得分",
))
def _levels(a: Analysis) -> Optional[Draft]:
    w = a.weight
    if len(a.clauses) < 2:
        return None
    values, outs = [], []
    for c in a.clauses:
        value = value_text(c.outcome, w)
        cond = label_text(re.sub(r"(?:的|者|时)$", "", c.cond))
        if value is None or not cond or re.search(r"\d|%", cond) or item_of(c.cond):
            return None
        values.append(cond)
        outs.append(value)
    if len(values) == 2 and set(outs) == {"full", "0"}:
        return None  # yes / no
    if len(set(values)) != len(values):
        return None
    name = a.name("status")
    label = label_text(a.source.name) or "评定情形"
    rule = "; ".join(f"{name} == {quote(v)} -> {o}" for v, o in zip(values, outs))
    return Draft("levels", "按情形分档计分", (FactSpec(name, "level", label, tuple(values)),), rule)


@recogniser("yes-no", "是否", 1, (
    "匹配，得满分；不匹配，不得分",
    "是，得满分；否，不得分。",
    "项目档案资料齐全的得2分，不齐全的扣2分",
    "按时完成得满分，未按时完成不得分",
))
def _yes_no(a: Analysis) -> Optional[Draft]:
    w = a.weight
    if not 1 <= len(a.clauses) <= 2:
        return None
    yes = a.clauses[0]
    if not _is_full(yes.outcome, w) or re.search(r"\d|%", yes.cond):
        return None
    readings = []
    if len(a.clauses) == 2:
        no = a.clauses[1].outcome
        if not (_is_zero(no, w) or (no.kind == "deduct" and no.value == w)):
            return None
        if re.search(r"\d|%", a.clauses[1].cond) and not re.search(r"扣\d", a.clauses[1].cond):
            if item_of(a.clauses[1].cond) or comparison(a.clauses[1].cond):
                return None
    else:
        readings.append("原文未写不满足时的得分，按不得分起草")
    name = a.name("met")
    return Draft("yes-no", "是否", (FactSpec(name, "bool", statement(a, yes.cond)),),
                 f"{name} -> full; else -> 0", readings=tuple(readings))


# ------------------------------------------------------------------ the entry


_NOT_APPLICABLE = re.compile(r"不适用|均摊|不考核该指标")


def draft_rule(std: Standard) -> Draft | Unrecognised:
    """The first recogniser's draft for ``std``, verified with the checker, or the
    reason none applies."""
    if not std.text or not std.text.strip():
        return Unrecognised("评分标准为空")
    if std.weight is None or std.weight <= 0:
        return Unrecognised("分值未读出，无法起草规则")
    try:
        a = analyse(std)
    except (ValueError, InvalidOperation):
        return Unrecognised("评分标准中的数字未能读出")
    if _NOT_APPLICABLE.search(a.text) and not a.clauses:
        return Unrecognised("不适用指标的处理写在上级指标或指标体系中（when na: …），请手写")
    for r in RECOGNISERS:
        try:
            draft = r.draft(a)
        except _Stop as stop:
            return Unrecognised(stop.reason)
        except (ValueError, InvalidOperation, ArithmeticError):
            continue
        if draft is not None:
            if std.suffix:  # a point's rule: checked as part of its leaf
                return draft
            problem = verify(draft, std.weight)
            if problem is None:
                return draft
            return Unrecognised(f"起草的规则（{r.title}）未通过检查：{problem}")
    return Unrecognised(_why_not(a))


def _why_not(a: Analysis) -> str:
    kinds = {c.outcome.kind for c in a.clauses}
    if not a.clauses:
        return "评分标准中没有读出得分或扣分的写法"
    if "formula" in kinds:
        return "计分公式未能识别"
    return "评分标准的写法未能对应到已识别的模式"


# Problems the author must settle in the table itself: a draft showing them is kept.
_TABLE_PROBLEMS = ("weights", "bands")


def render_leaf(draft: Draft, code: str, weight_text: str) -> str:
    """A leaf holding only the draft: what :func:`verify` checks."""
    lines = [f"{code} weight {weight_text} {{"]
    lines += ["  " + f.declaration() for f in draft.facts]
    lines += ["  " + let.declaration() for let in draft.lets]
    if draft.points:
        lines += [f"  point {p.label} {p.weight}: {p.rule}" for p in draft.points]
    else:
        lines.append(f"  score: {draft.rule}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def verify(draft: Draft, weight: Decimal) -> Optional[str]:
    """None when the draft checks (apart from problems of the table itself, such as
    point weights that do not add up); else the first problem, in the checker's words."""
    from .api import check_text
    from .errors import SetError

    text = render_leaf(draft, "X", plain(weight))
    try:
        checked = check_text(text, "<draft>")
    except SetError as exc:
        return exc.errors[0].message if exc.errors else "syntax error"
    for d in checked.errors:
        if d.code not in _TABLE_PROBLEMS:
            return d.message
    return None
