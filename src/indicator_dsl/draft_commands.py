"""The command-line parts of ``init`` and ``import``: their arguments, and the calls
into :mod:`indicator_dsl.scaffold` and :mod:`indicator_dsl.importer`, which are loaded
only when one of the two commands runs (so every other command starts as fast)."""

from __future__ import annotations


def add_parsers(sub) -> None:
    _add_init(sub)
    _add_import(sub)


def run_init(args) -> int:
    from .scaffold import run

    return run(args)


def run_import(args) -> int:
    from .importer import run

    return run(args)


def _add_init(sub) -> None:
    init = sub.add_parser(
        "init", help="新建一个指标体系（.ind、数据文件和黄金用例），可直接 check/eval/test",
        description="在 DIR（默认当前文件夹）中写入 NAME.ind、NAME.facts.yaml 和 NAME.cases.yaml："
                    "表头（等级按财预〔2020〕10号）、取舍、一个示例指标及其规则、数据和用例。"
                    "已有同名文件时不写任何文件。")
    init.add_argument("dir", metavar="DIR", nargs="?", default=".",
                      help="写到哪个文件夹（不存在时建立）")
    init.add_argument("--name", help="指标体系名称（默认：新建绩效评价指标体系）；也用作文件名")
    init.add_argument("--region", help="发布地区，如 云南省昆明市东川区")
    init.add_argument("--year", type=int, help="年度（默认：今年）")


def _add_import(sub) -> None:
    im = sub.add_parser(
        "import", help="从 Word/Excel 评分表起草指标体系（.ind）和数据文件",
        description="读取 Word（.docx）或 Excel（.xlsx）评分表，起草 .ind：指标树、编码、分值、"
                    "指标解释和评分标准原文，由评分标准起草的规则（标“待审核”）和无法起草的"
                    "指标（标“待编写”）；评分表的得分写入数据文件的 published。不覆盖已有文件。")
    im.add_argument("table_file", metavar="TABLE", help="评分表文件（.docx 或 .xlsx）")
    im.add_argument("-o", "--output", metavar="DRAFT.ind",
                    help="草稿写到哪里（默认：与评分表同名的 .ind）")
    im.add_argument("--facts", metavar="DRAFT.facts.yaml",
                    help="数据文件写到哪里（默认：草稿旁的 NAME.facts.yaml）")
    im.add_argument("--table", type=int, metavar="N",
                    help="文件中第 N 个表格（Excel：第 N 个工作表）是评分表（默认自动选择）")
    im.add_argument("--name", help="指标体系名称（默认：表格上方的标题或文件名）")
    im.add_argument("--region", help="发布地区，如 云南省昆明市东川区")
    im.add_argument("--year", type=int, help="年度（默认：从名称中的“2020年”读出）")
    im.add_argument("--keywords", choices=("en", "zh"), default="en",
                    help="草稿用英文关键字（en，默认）还是中文关键字（zh：权重、满分、每低于 …）")
