"""The language's keywords in both spellings: English and the Chinese that reads like a 评分标准.

One table, read by the parser (Chinese spellings are aliases of the English
keyword), the formatter (``fmt --keywords zh|en`` converts), the language server
(completion, hover) and the docs. Each entry: the canonical English keyword, its
Chinese spellings (the first is the one ``fmt`` writes), and a short Chinese
description shown to authors.
"""

from __future__ import annotations

from typing import Dict, Tuple

import attrs


@attrs.frozen
class Keyword:
    english: str
    chinese: Tuple[str, ...]
    description: str  # Chinese: shown in completion and hover


KEYWORDS: Tuple[Keyword, ...] = (
    # --- the set header
    Keyword("set", ("指标体系",), "指标体系名称：set \"名称\""),
    Keyword("region", ("地区",), "发布地区"),
    Keyword("year", ("年度",), "适用年度：year 2020 或 year 2021 to 2025"),
    Keyword("to", ("至", "到"), "年度区间、取舍精度的“到”"),
    Keyword("source", ("依据",), "来源文件，如 财预〔2020〕10号"),
    Keyword("total", ("总分",), "总分（一级指标权重之和）"),
    Keyword("grades", ("等级",), "等级划分：grades 优 >= 90, 良 >= 80, 中 >= 60, 差"),
    Keyword("round", ("保留",), "得分取舍：round leaves to 0.1"),
    Keyword("leaves", ("末级",), "末级指标（round leaves to …）"),
    Keyword("groups", ("上级",), "上级指标（round groups to …）"),
    Keyword("decimals", ("位小数",), "小数位数：round leaves to 2 decimals"),
    # --- declarations
    Keyword("fact", ("数据",), "声明评价所需的数据（事实）"),
    Keyword("let", ("设",), "命名一个中间值：let r \"比例\" = ratio(a, t)"),
    Keyword("rule", ("规则",), "可复用的评分规则：rule 名称(参数): …"),
    Keyword("number", ("数值",), "数据类型：数值"),
    Keyword("percent", ("百分比",), "数据类型：百分比（93.5% 或 0.935）"),
    Keyword("count", ("个数",), "数据类型：非负整数"),
    Keyword("bool", ("是否",), "数据类型：是/否"),
    Keyword("text", ("文本",), "数据类型：文本（仅用于报告）"),
    Keyword("money", ("金额",), "数据类型：金额，可带单位 money(万元)"),
    Keyword("level", ("选项",), "数据类型：几个选项之一 level(\"有效执行\", \"部分执行\", \"未执行\")"),
    # --- indicators
    Keyword("weight", ("权重", "分值"), "指标分值：weight 5 或 weight 20%"),
    Keyword("bonus", ("加分项",), "加分指标：可高于分值或低于0"),
    Keyword("explain", ("指标解释",), "指标解释（原文）"),
    Keyword("standard", ("评分标准",), "评分标准（原文）"),
    Keyword("note", ("备注",), "备注"),
    Keyword("score", ("评分", "得分"), "末级指标的评分规则：score: …"),
    Keyword("point", ("要点",), "评分要点①②③：point ① weight 7: …"),
    Keyword("share", ("占",), "要点占指标分值的比例：point ① share 1/4: …"),
    Keyword("when", ("不适用时",), "下级指标不适用时的处理：when na: share equally"),
    Keyword("equally", ("均摊",), "不适用指标的分值均摊到其余指标"),
    Keyword("rescale", ("折算",), "按适用指标得分折算（默认）"),
    # --- rules
    Keyword("full", ("满分", "得满分"), "满分：本指标（或要点）的分值"),
    Keyword("else", ("否则", "其他", "其余"), "以上条件都不满足时"),
    Keyword("na", ("不适用",), "本指标不适用，上级指标折算"),
    Keyword("per", ("每低于", "每高于", "每偏离", "每高（低）", "每减少", "每下降", "每降低",
                    "每超过", "每提高", "每增加", "每相差"),
            "按档计分：per 5% below -> -0.1（每低于 5% -> 扣 0.1）"),
    Keyword("below", (), "低于参照值（每低于）"),
    Keyword("above", (), "高于参照值（每高于）"),
    Keyword("off", (), "偏离参照值，高于或低于都扣（每偏离）"),
    Keyword("around", (), "高于加、低于减（每高（低））：per 0.1% around avg -> 0.05 from 5"),
    Keyword("than", ("比",), "参照值：比 95% 每低 1% -> …（per 1% below 95%）"),
    Keyword("started", ("不足一档按一档",), "不满一档按一档计"),
    Keyword("pro rata", ("按比例",), "按比例连续计分"),
    Keyword("each", ("每项",), "按项计分：each 不合规项数 -> -1"),
    Keyword("from", ("从",), "按档计分的起点：from full"),
    Keyword("floor", ("最低",), "得分下限：floor 0（扣完为止）"),
    Keyword("floor 0", ("扣完为止",), "扣完为止：得分不低于0"),
    Keyword("cap", ("最高",), "得分上限：cap 5（最高 5）"),
    Keyword("cap full", ("加满为止", "以满分为限"), "加满为止：得分不高于满分"),
    Keyword("deduct at most", ("最多扣",), "最多扣分：deduct at most 2"),
    Keyword("flag", ("提示",), "提示：flag over if …（超额完成，偏离度）"),
    Keyword("over", ("超额",), "超额完成提示"),
    Keyword("if", ("如果", "若"), "提示的条件"),
    Keyword("expect", ("承诺",), "规则承诺的性质，由 props 检查"),
    Keyword("nondecreasing", ("不减",), "某数据增大时得分不降"),
    Keyword("nonincreasing", ("不增",), "某数据增大时得分不升"),
    Keyword("continuous", ("连续",), "得分在分界处连续"),
    Keyword("of", (), "A of B = A × B：60% of weight（权重的60%）"),
    Keyword("share of weight", ("权重的", "扣权重的", "满分的"), "权重的60% = 60% of weight"),
    Keyword("minus", ("扣",), "扣 0.1 = -0.1"),
    Keyword("plus", ("加",), "加 0.1 = 0.1"),
    Keyword("zero", ("不得分", "不计分"), "不得分 = 0"),
    Keyword("published", ("按公布得分",), "节选未列出的指标按报告公布得分计分（published）"),
    Keyword("require", ("要求",), "数据之间须满足的关系：require a + b == total \"说明\""),
    Keyword("after", ("排在",), "继承时新指标的位置：D weight 5 after B（排在 B 之后）"),
    Keyword("before", ("排在",), "继承时新指标的位置：D weight 5 before C（排在 C 之前）"),
    Keyword("and", ("且", "并且"), "并且"),
    Keyword("or", ("或", "或者"), "或者"),
    Keyword("not", ("非", "不是"), "否定"),
    Keyword("in", ("在", "属于"), "区间：rate in [80%, 90%)"),
    Keyword("true", ("是",), "是"),
    Keyword("false", ("否",), "否"),
    # --- modules
    Keyword("import", ("导入",), "导入规则库：import \"x.ind\" as 名称"),
    Keyword("as", ("作为",), "导入后的名称"),
    Keyword("extends", ("继承",), "在另一个指标体系的基础上修改"),
    Keyword("override", ("修改",), "修改继承来的指标"),
    Keyword("remove", ("删除",), "删除继承来的指标"),
    Keyword("under", ("增加到",), "在继承来的一级指标下增加指标"),
    Keyword("name", ("名称",), "修改指标名称：override X { name \"…\" }"),
)

# Function names in both spellings: English → Chinese spellings.
FUNCTIONS: Dict[str, Tuple[str, ...]] = {
    "ratio": ("比率", "比例"),
    "min": ("最小值",),
    "max": ("最大值",),
    "sum": ("合计", "求和"),
    "mean": ("平均", "平均值"),
    "abs": ("绝对值",),
    "clamp": ("限定",),
    "linear": ("线性",),
    "round": ("四舍五入",),
    "assess": ("评价人给分",),
}

FUNCTION_DESCRIPTIONS: Dict[str, str] = {
    "ratio": "ratio(a, b)：a ÷ b，b 为 0 时报错",
    "min": "min(x, …)：最小值",
    "max": "max(x, …)：最大值",
    "sum": "sum(x, …)：合计（可传入列表数据）",
    "mean": "mean(x, …)：算术平均",
    "abs": "abs(x)：绝对值",
    "clamp": "clamp(x, lo, hi)：把 x 限定在 [lo, hi] 内",
    "linear": "linear(x, lo, hi)：lo 及以下为0，hi 及以上为1，之间按直线",
    "round": "round(x, step)：四舍五入到 step 的整数倍",
    "assess": "assess(x, lo, hi)：评价人给出的值，须在 [lo, hi] 内",
}


def by_english() -> Dict[str, Keyword]:
    return {k.english: k for k in KEYWORDS}


def chinese_to_english() -> Dict[str, str]:
    """Every Chinese spelling (keywords and functions) → its English form."""
    out = {}
    for keyword in KEYWORDS:
        for spelling in keyword.chinese:
            out.setdefault(spelling, keyword.english)
    for english, spellings in FUNCTIONS.items():
        for spelling in spellings:
            out.setdefault(spelling, english)
    return out
