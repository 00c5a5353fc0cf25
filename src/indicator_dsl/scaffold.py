"""``indicator-eval init``: a new indicator set that checks, scores and tests at once.

It writes three files into a folder: ``NAME.ind`` (the header with the grades of
财预〔2020〕10号, rounding, one example group and leaf with its 指标解释, 评分标准,
fact declarations and rule), ``NAME.facts.yaml`` (facts for the example leaf) and
``NAME.cases.yaml`` (golden cases that hold for them), so ``check``, ``eval`` and
``test`` pass before the author changes anything. An existing file is never
overwritten: if any of the three exists, nothing is written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, Optional

from .drafting import quote
from .errors import ERROR, Diagnostic, FileAccessError

DEFAULT_NAME = "新建绩效评价指标体系"

SET_TEMPLATE = """\
# {name}
# 由 indicator-eval init 建立。写法见 docs/language.md；改完后运行
#   indicator-eval check {stem}.ind
#   indicator-eval eval {stem}.ind {stem}.facts.yaml
#   indicator-eval test {stem}.cases.yaml
set {name_q}
{region_line}year {year}
source "财预〔2020〕10号《项目支出绩效评价管理办法》"
total 100
# 等级：财预〔2020〕10号第十八条，90分（含）以上优，80-90良，60-80中，60分以下差。
grades 优 >= 90, 良 >= 80, 中 >= 60, 差
# 每个末级指标的得分四舍五入到 0.01。
round leaves to 0.01

# 示例：一个一级指标，下设一个末级指标。增加指标时，同级指标的分值之和须等于上级
# 指标的分值，一级指标的分值之和须等于 total。
C "产出" weight 100 {{
  C1 "慰问人数完成率" weight 100 {{
    explain "考察实际慰问人数是否达到计划慰问人数。"
    standard "慰问人数与计划人数的比例达到100%，得满分；每减少5%，扣权重的2%，扣完为止。"
    fact visited: count "实际慰问人数"
    fact planned: count in [1, 10000000] "计划慰问人数"
    let completion "慰问人数完成率" = ratio(visited, planned)
    score: completion >= 100% -> full; per 5% below -> -2% of weight; floor 0
  }}
}}
"""

FACTS_TEMPLATE = """\
# {name}：一个项目的数据。indicators 下按指标编码填写各指标的数据。
name: 示例项目
year: {year}
indicators:
  C1:
    visited: 95      # 实际慰问人数
    planned: 100     # 计划慰问人数
"""

CASES_TEMPLATE = """\
# {name}：黄金用例。indicator-eval test {stem}.cases.yaml 逐条核对得分。
set: {stem}.ind
cases:
  - name: 慰问95人（计划100人）：比例95%，差5%为一档，扣权重的2%，得98分
    facts: {stem}.facts.yaml
    expect:
      total: 98
      grade: 优
      scores: {{C1: 98}}
  - name: 全部完成，得满分
    facts: {stem}.facts.yaml
    with: {{indicators: {{C1: {{visited: 100}}}}}}
    expect:
      total: 100
      grade: 优
  - name: 慰问70人：差30%为六档，扣12分，得88分，等级为良
    facts: {stem}.facts.yaml
    with: {{indicators: {{C1: {{visited: 70}}}}}}
    expect:
      total: 88
      grade: 良
"""


def file_stem(name: str) -> str:
    """A file name from the set's name: characters that file systems refuse are dropped."""
    stem = re.sub(r'[\\/:*?"<>|\s]+', "", name).strip(".")
    return stem[:60] or "指标体系"


def render(name: str, region: Optional[str], year: int, stem: str) -> Dict[str, str]:
    values = {"name": name, "name_q": quote(name), "year": year, "stem": stem,
              "region_line": f"region {quote(region)}\n" if region else ""}
    return {f"{stem}.ind": SET_TEMPLATE.format(**values),
            f"{stem}.facts.yaml": FACTS_TEMPLATE.format(**values),
            f"{stem}.cases.yaml": CASES_TEMPLATE.format(**values)}


def run(args) -> int:
    import datetime

    from .cli import write_atomic

    name = (args.name or DEFAULT_NAME).strip() or DEFAULT_NAME
    in_name = re.search(r"(19|20)\d\d(?=\s*年)", name)
    year = args.year or (int(in_name.group(0)) if in_name else datetime.date.today().year)
    if not 1900 <= year <= 2200:
        raise FileAccessError(Diagnostic(ERROR, f"年度 {year} 不合理", hint="例如 --year 2024"))
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        raise FileAccessError(Diagnostic(ERROR, "不是文件夹", file=str(folder),
                                         hint="给出一个文件夹，指标体系的三个文件写在其中"))
    files = render(name, args.region, year, file_stem(name))
    existing = [folder / n for n in files if (folder / n).exists()]
    if existing:
        raise FileAccessError([Diagnostic(
            ERROR, f"文件已存在，不会覆盖：{path}", file=str(path),
            hint="换一个 --name 或文件夹，或先移走这个文件") for path in existing])
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(Diagnostic(ERROR, f"无法建立文件夹：{exc.strerror}",
                                         file=str(folder))) from None
    for file_name, text in files.items():
        write_atomic(folder / file_name, text.encode("utf-8"))
        print(f"已写出 {folder / file_name}", file=sys.stderr)
    stem = file_stem(name)
    print(f"下一步：indicator-eval check {folder / (stem + '.ind')}", file=sys.stderr)
    return 0
