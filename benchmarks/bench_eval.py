"""Evaluation speed against hand-written Python computing the same scores with Decimal.

Run:  .venv/bin/python benchmarks/bench_eval.py [--projects N]

Prints, in one run and on the same fact sets:
  * the design card's C114 rule: indicator-dsl vs a hand-written Decimal function;
  * a 30-leaf set mixing the common patterns (steps, bands, levels, yes/no,
    per-item deductions): indicator-dsl vs hand-written functions for the 30 leaves;
  * both per leaf, and the ratio (indicator-dsl time / hand-written time);
  * the cold-start time of `indicator-eval eval` on the bundled example.
Every score is compared with the hand-written one before timing, so the two sides
compute the same thing.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

from indicator_dsl import Facts, loads_set

ROOT = Path(__file__).resolve().parents[1]
CENT = Decimal("0.01")

CARD = ("fact actual, target: count\n"
        "C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0\n")


def hand_steps(actual: Decimal, target: Decimal, weight: Decimal) -> Decimal:
    """The design card's rule by hand: full at 100%, 0.1 off per whole 5% below, floor 0."""
    if target == 0:
        raise ZeroDivisionError("target")
    ratio = actual / target
    if ratio >= 1:
        score = weight
    else:
        steps = ((1 - ratio) / Decimal("0.05")).to_integral_value(rounding=ROUND_FLOOR)
        score = max(weight - steps * Decimal("0.1"), Decimal(0))
    return score.quantize(CENT, rounding=ROUND_HALF_UP)


def hand_c114(actual: Decimal, target: Decimal) -> Decimal:
    return hand_steps(actual, target, Decimal(5))


# ----------------------------------------------------------- the 30-leaf set

LEVELS = ("有效执行", "部分执行", "未执行")


def thirty_leaf_set() -> str:
    lines = ['set "基准"', "total 100",
             'fact execution: level("有效执行", "部分执行", "未执行")']
    weights = []
    for i in range(6):  # steps
        lines.append(f"S{i} weight 4: ratio(a{i}, t{i}) >= 1 -> full; per 5% below -> -0.1; "
                     "floor 0")
        weights.append(4)
    for i in range(6):  # bands
        lines.append(f"N{i} weight 5: r{i} >= 90% -> 5; r{i} >= 80% -> 4; r{i} >= 70% -> 3; "
                     f"r{i} >= 60% -> 2; else -> 0")
    for i in range(6):  # levels
        lines.append(f'L{i} weight 3: e{i} == "有效执行" -> full; e{i} == "部分执行" -> '
                     f'60% of weight; else -> 0')
    for i in range(6):  # yes/no
        lines.append(f"Y{i} weight 2: y{i} -> full; else -> 0")
    for i in range(6):  # per item
        lines.append(f"D{i} weight {'3' if i < 4 else '4'}: each d{i} -> -0.5; floor 0")
    # weights: 24 + 30 + 18 + 12 + 20 = 104 → adjust the total
    text = "\n".join(lines) + "\n"
    text = text.replace("total 100", "total 104")
    decls = ["fact " + ", ".join(f"a{i}, t{i}" for i in range(6)) + ": count",
             "fact " + ", ".join(f"r{i}" for i in range(6)) + ": percent",
             "fact " + ", ".join(f"e{i}" for i in range(6)) +
             ': level("有效执行", "部分执行", "未执行")',
             "fact " + ", ".join(f"y{i}" for i in range(6)) + ": bool",
             "fact " + ", ".join(f"d{i}" for i in range(6)) + ": count"]
    return "\n".join(decls) + "\n" + text


def hand_thirty(f: dict) -> dict:
    out = {}
    for i in range(6):
        out[f"S{i}"] = hand_steps(f[f"S{i}"][f"a{i}"], f[f"S{i}"][f"t{i}"], Decimal(4))
    for i in range(6):
        r = f[f"N{i}"][f"r{i}"]
        s = Decimal(5) if r >= Decimal("0.9") else Decimal(4) if r >= Decimal("0.8") else \
            Decimal(3) if r >= Decimal("0.7") else Decimal(2) if r >= Decimal("0.6") else Decimal(0)
        out[f"N{i}"] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    for i in range(6):
        e = f[f"L{i}"][f"e{i}"]
        s = Decimal(3) if e == "有效执行" else Decimal("0.6") * 3 if e == "部分执行" else Decimal(0)
        out[f"L{i}"] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    for i in range(6):
        out[f"Y{i}"] = (Decimal(2) if f[f"Y{i}"][f"y{i}"] else Decimal(0)).quantize(CENT)
    for i in range(6):
        w = Decimal(3 if i < 4 else 4)
        s = max(w - f[f"D{i}"][f"d{i}"] * Decimal("0.5"), Decimal(0))
        out[f"D{i}"] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    return out


def random_thirty_facts(rng: random.Random) -> dict:
    ind = {}
    for i in range(6):
        ind[f"S{i}"] = {f"a{i}": Decimal(rng.randint(0, 130)), f"t{i}": Decimal(100)}
        ind[f"N{i}"] = {f"r{i}": Decimal(rng.randint(0, 10000)) / 10000}
        ind[f"L{i}"] = {f"e{i}": rng.choice(LEVELS)}
        ind[f"Y{i}"] = {f"y{i}": rng.random() < 0.7}
        ind[f"D{i}"] = {f"d{i}": Decimal(rng.randint(0, 8))}
    return ind


def timed(fn, repeat=5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=2000)
    args = parser.parse_args(argv)
    rng = random.Random(20201)

    # --- C114
    card = loads_set(CARD, "card.ind")
    c114_facts = [(Decimal(rng.randint(0, 130)), Decimal(100)) for _ in range(args.projects)]
    prepared = [Facts.from_mapping({"indicators": {"C114": {"actual": a, "target": t}}})
                for a, t in c114_facts]
    for (a, t), facts in zip(c114_facts, prepared):
        assert card.evaluate(facts).total == hand_c114(a, t), (a, t)
    dsl = timed(lambda: [card.evaluate(f) for f in prepared])
    dsl_scores = timed(lambda: [card.scores(f) for f in prepared])
    hand = timed(lambda: [hand_c114(a, t) for a, t in c114_facts])
    n = len(prepared)
    print(f"C114, {n} projects (1 leaf):")
    print(f"  hand-written Decimal      {hand / n * 1e6:8.2f} µs per leaf")
    print(f"  indicator-dsl scores()    {dsl_scores / n * 1e6:8.2f} µs per leaf   "
          f"ratio {dsl_scores / hand:5.2f}×")
    print(f"  indicator-dsl evaluate()  {dsl / n * 1e6:8.2f} µs per leaf   "
          f"ratio {dsl / hand:5.2f}×  (with justifications, groups, total, grade)")

    # --- 30 leaves
    thirty = loads_set(thirty_leaf_set(), "thirty.ind")
    raw = [random_thirty_facts(rng) for _ in range(max(1, args.projects // 10))]
    prepared = [Facts.from_mapping({"indicators": f}) for f in raw]
    for f, facts in zip(raw, prepared):
        expected = hand_thirty(f)
        got = {r.code: r.score for r in thirty.evaluate(facts).leaves()}
        assert got == expected, (f, got, expected)
    leaves = len(raw) * 30
    dsl = timed(lambda: [thirty.evaluate(f) for f in prepared])
    dsl_scores = timed(lambda: [thirty.scores(f) for f in prepared])
    hand = timed(lambda: [hand_thirty(f) for f in raw])
    print(f"\n30-leaf set, {len(raw)} projects ({leaves} leaves):")
    print(f"  hand-written Decimal      {hand / leaves * 1e6:8.2f} µs per leaf")
    print(f"  indicator-dsl scores()    {dsl_scores / leaves * 1e6:8.2f} µs per leaf   "
          f"ratio {dsl_scores / hand:5.2f}×")
    print(f"  indicator-dsl evaluate()  {dsl / leaves * 1e6:8.2f} µs per leaf   "
          f"ratio {dsl / hand:5.2f}×  (with justifications, groups, total, grade)")

    # --- cold start
    exe = [sys.executable, "-m", "indicator_dsl", "eval", str(ROOT / "examples/c114.ind"),
           str(ROOT / "examples/c114.facts.yaml")]
    baseline = [sys.executable, "-c", "pass"]
    cold = timed(lambda: subprocess.run(exe, capture_output=True, check=True), repeat=3)
    bare = timed(lambda: subprocess.run(baseline, capture_output=True, check=True), repeat=3)
    print(f"\ncold start of `indicator-eval eval` on the bundled example: {cold * 1000:.0f} ms "
          f"(bare Python start-up: {bare * 1000:.0f} ms, ratio {cold / bare:.1f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
