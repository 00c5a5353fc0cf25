"""Speed and memory of indicator-dsl against hand-written Python, measured in one run.

Run:  .venv/bin/python benchmarks/bench_eval.py [--quick] [--only c114,thirty,seed,batch,memory,cold]

Sections:
  c114    the design card's single leaf (C114: full at 100%, 0.1 off per whole 5% below)
  thirty  a 30-leaf set mixing the common patterns (steps, bands, levels, yes/no, per item)
  seed    seed 001 (32 leaves, 54 indicators): facts from a mapping, scores(), evaluate()
  batch   throughput: --batch projects (default 100,000) of seed 001 from in-memory
          mappings (mapping → Facts → scores), in one process and in --jobs processes
  memory  bytes and GC-tracked objects per kept evaluate() result; RSS while streaming
  cold    the cold start of `indicator-eval eval` on the bundled example

How it measures. All sides of a comparison run on the same prepared inputs. A round
runs every side once, in an order that rotates from round to round, so a busy moment
on the shared machine falls on all sides alike. Each line shows the median over the
rounds of the time per leaf (or per project); a ratio is the median of the per-round
ratios against the anchor in the same round. The anchors are hand-written Python: with
float (the fastest possible, not exact) and with Decimal (exact, as the scores must
be), its dictionary keys and constants precomputed. Before anything is timed, every
side's scores are compared with the hand-written Decimal scores (the float anchor with
a tolerance of 1e-9).
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

from indicator_dsl import Facts, load_set, loads_set
from indicator_dsl.facts import _build, _plain_tree

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival"

CENT = Decimal("0.01")
D0, D1, D2, D3, D4, D5 = (Decimal(i) for i in range(6))
D_005, D_01, D_05, D_06 = Decimal("0.05"), Decimal("0.1"), Decimal("0.5"), Decimal("0.6")
D_09, D_08, D_07 = Decimal("0.9"), Decimal("0.8"), Decimal("0.7")

CARD = ("fact actual, target: count\n"
        "C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0\n")


# ------------------------------------------------------------- hand-written anchors


def hand_steps(actual: Decimal, target: Decimal, weight: Decimal) -> Decimal:
    """The design card's rule by hand: full at 100%, 0.1 off per whole 5% below, floor 0."""
    if target == 0:
        raise ZeroDivisionError("target")
    ratio = actual / target
    if ratio >= 1:
        score = weight
    else:
        steps = ((1 - ratio) / D_005).to_integral_value(rounding=ROUND_FLOOR)
        score = max(weight - steps * D_01, D0)
    return score.quantize(CENT, rounding=ROUND_HALF_UP)


def hand_steps_float(actual: float, target: float, weight: float) -> float:
    ratio = actual / target
    if ratio >= 1:
        score = weight
    else:
        steps = math.floor((1 - ratio) / 0.05 + 1e-9)
        score = max(weight - steps * 0.1, 0.0)
    return round(score, 2)


def hand_c114(actual, target):
    return hand_steps(actual, target, D5)


def hand_c114_float(actual, target):
    return hand_steps_float(actual, target, 5.0)


LEVELS = ("有效执行", "部分执行", "未执行")
S_KEYS = tuple((f"S{i}", f"a{i}", f"t{i}") for i in range(6))
N_KEYS = tuple((f"N{i}", f"r{i}") for i in range(6))
L_KEYS = tuple((f"L{i}", f"e{i}") for i in range(6))
Y_KEYS = tuple((f"Y{i}", f"y{i}") for i in range(6))
D_KEYS = tuple((f"D{i}", f"d{i}", D3 if i < 4 else D4) for i in range(6))
D_KEYS_FLOAT = tuple((code, name, float(w)) for code, name, w in D_KEYS)


def thirty_leaf_set() -> str:
    decls = ["fact " + ", ".join(f"a{i}, t{i}" for i in range(6)) + ": count",
             "fact " + ", ".join(f"r{i}" for i in range(6)) + ": percent",
             "fact " + ", ".join(f"e{i}" for i in range(6)) +
             ': level("有效执行", "部分执行", "未执行")',
             "fact " + ", ".join(f"y{i}" for i in range(6)) + ": bool",
             "fact " + ", ".join(f"d{i}" for i in range(6)) + ": count"]
    lines = ['set "基准"', "total 104"]  # 6×4 + 6×5 + 6×3 + 6×2 + 4×3 + 2×4
    for i in range(6):
        lines.append(f"S{i} weight 4: ratio(a{i}, t{i}) >= 1 -> full; per 5% below -> -0.1; "
                     "floor 0")
    for i in range(6):
        lines.append(f"N{i} weight 5: r{i} >= 90% -> 5; r{i} >= 80% -> 4; r{i} >= 70% -> 3; "
                     f"r{i} >= 60% -> 2; else -> 0")
    for i in range(6):
        lines.append(f'L{i} weight 3: e{i} == "有效执行" -> full; e{i} == "部分执行" -> '
                     f'60% of weight; else -> 0')
    for i in range(6):
        lines.append(f"Y{i} weight 2: y{i} -> full; else -> 0")
    for i in range(6):
        lines.append(f"D{i} weight {'3' if i < 4 else '4'}: each d{i} -> -0.5; floor 0")
    return "\n".join(decls + lines) + "\n"


def hand_thirty(f: dict) -> dict:
    out = {}
    for code, a, t in S_KEYS:
        table = f[code]
        out[code] = hand_steps(table[a], table[t], D4)
    for code, name in N_KEYS:
        r = f[code][name]
        s = D5 if r >= D_09 else D4 if r >= D_08 else D3 if r >= D_07 else \
            D2 if r >= D_06 else D0
        out[code] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    for code, name in L_KEYS:
        e = f[code][name]
        s = D3 if e == "有效执行" else D_06 * D3 if e == "部分执行" else D0
        out[code] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    for code, name in Y_KEYS:
        out[code] = (D2 if f[code][name] else D0).quantize(CENT, rounding=ROUND_HALF_UP)
    for code, name, w in D_KEYS:
        s = max(w - f[code][name] * D_05, D0)
        out[code] = s.quantize(CENT, rounding=ROUND_HALF_UP)
    return out


def hand_thirty_float(f: dict) -> dict:
    out = {}
    for code, a, t in S_KEYS:
        table = f[code]
        out[code] = hand_steps_float(table[a], table[t], 4.0)
    for code, name in N_KEYS:
        r = f[code][name]
        out[code] = 5.0 if r >= 0.9 else 4.0 if r >= 0.8 else 3.0 if r >= 0.7 else \
            2.0 if r >= 0.6 else 0.0
    for code, name in L_KEYS:
        e = f[code][name]
        out[code] = 3.0 if e == "有效执行" else round(0.6 * 3, 2) if e == "部分执行" else 0.0
    for code, name in Y_KEYS:
        out[code] = 2.0 if f[code][name] else 0.0
    for code, name, w in D_KEYS_FLOAT:
        out[code] = round(max(w - f[code][name] * 0.5, 0.0), 2)
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


def as_floats(facts: dict) -> dict:
    return {code: {k: float(v) if isinstance(v, Decimal) else v for k, v in table.items()}
            for code, table in facts.items()}


# ----------------------------------------------------------------- measuring


def interleaved(sides, rounds: int):
    """{label: [seconds per round]} with the sides alternating; each side is a thunk."""
    labels = list(sides)
    times = {label: [] for label in labels}
    for r in range(rounds):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            start = time.perf_counter()
            sides[label]()
            times[label].append(time.perf_counter() - start)
    return times


def report(title, times, units: int, unit: str, anchors=("hand-written Decimal",
                                                         "hand-written float")):
    print(f"\n{title}")
    present = [a for a in anchors if a in times]
    head = "  ".join(f"÷ {a[13:]:>7}" for a in present)
    print(f"  {'':58} {'median':>9}   {head}")
    for label, spent in times.items():
        per = statistics.median(spent) / units * 1e6
        ratios = []
        for anchor in present:
            ratio = statistics.median(s / a for s, a in zip(spent, times[anchor]))
            ratios.append(f"{ratio:7.2f}×")
        print(f"  {label:58} {per:7.2f} µs  " + "  ".join(ratios) + f"   per {unit}")


def leaf_scores(scores: dict, codes) -> dict:
    return {c: scores[c] for c in codes}


# ------------------------------------------------------------------- sections


def section_c114(args, rng):
    card = loads_set(CARD, "card.ind")
    pairs = [(Decimal(rng.randint(0, 130)), Decimal(100)) for _ in range(args.projects)]
    floats = [(float(a), float(t)) for a, t in pairs]
    prepared = [Facts.from_mapping({"indicators": {"C114": {"actual": a, "target": t}}})
                for a, t in pairs]
    ev = card._evaluator
    for (a, t), (fa, ft), facts in zip(pairs, floats, prepared):
        want = hand_c114(a, t)
        assert card.scores(facts)["C114"] == want, (a, t)
        assert card.evaluate(facts).total == want, (a, t)
        assert ev.scores_interpreted(facts)["C114"] == want, (a, t)
        assert abs(hand_c114_float(fa, ft) - float(want)) < 1e-9, (a, t)

    def read_all(facts, evaluate=card.evaluate):
        result = evaluate(facts)
        for r in result.indicators:
            r.explanation
        return result

    sides = {
        "hand-written float": lambda: [hand_c114_float(a, t) for a, t in floats],
        "hand-written Decimal": lambda: [hand_c114(a, t) for a, t in pairs],
        "scores(), generated code": lambda: [card.scores(f) for f in prepared],
        "evaluate(), generated code (worded when read)": lambda: [card.evaluate(f)
                                                                  for f in prepared],
        "evaluate() and read every justification": lambda: [read_all(f) for f in prepared],
        "scores(), closure interpreter (the previous engine)":
            lambda: [ev.scores_interpreted(f) for f in prepared],
        "evaluate(), closure interpreter (the previous engine)":
            lambda: [ev.evaluate_interpreted(f) for f in prepared],
        "the same, and read every justification":
            lambda: [read_all(f, ev.evaluate_interpreted) for f in prepared],
    }
    times = interleaved(sides, args.rounds)
    report(f"C114 (1 leaf), {len(pairs)} projects, facts prepared; time per leaf, {args.rounds} "
           "interleaved rounds:", times, len(pairs), "leaf")


def section_thirty(args, rng):
    thirty = loads_set(thirty_leaf_set(), "thirty.ind")
    raw = [random_thirty_facts(rng) for _ in range(max(1, args.projects // 10))]
    floats = [as_floats(f) for f in raw]
    prepared = [Facts.from_mapping({"indicators": f}) for f in raw]
    codes = [c for c in thirty.codes]
    ev = thirty._evaluator
    for f, ff, facts in zip(raw, floats, prepared):
        want = hand_thirty(f)
        assert leaf_scores(thirty.scores(facts), codes) == want
        assert leaf_scores(ev.scores_interpreted(facts), codes) == want
        assert {r.code: r.score for r in thirty.evaluate(facts).leaves()} == want
        got = hand_thirty_float(ff)
        assert all(abs(got[c] - float(want[c])) < 1e-9 for c in codes), (f, got, want)
    leaves = len(raw) * 30

    def read_all(facts, evaluate=thirty.evaluate):
        result = evaluate(facts)
        for r in result.indicators:
            r.explanation
        return result

    sides = {
        "hand-written float": lambda: [hand_thirty_float(f) for f in floats],
        "hand-written Decimal": lambda: [hand_thirty(f) for f in raw],
        "scores(), generated code": lambda: [thirty.scores(f) for f in prepared],
        "evaluate(), generated code (worded when read)": lambda: [thirty.evaluate(f)
                                                                  for f in prepared],
        "evaluate() and read every justification": lambda: [read_all(f) for f in prepared],
        "scores(), closure interpreter (the previous engine)":
            lambda: [ev.scores_interpreted(f) for f in prepared],
        "evaluate(), closure interpreter (the previous engine)":
            lambda: [ev.evaluate_interpreted(f) for f in prepared],
        "the same, and read every justification":
            lambda: [read_all(f, ev.evaluate_interpreted) for f in prepared],
    }
    times = interleaved(sides, args.rounds)
    report(f"30-leaf set, {len(raw)} projects ({leaves} leaves), facts prepared; time per "
           f"leaf, {args.rounds} interleaved rounds:", times, leaves, "leaf")


def seed_pool(scorer, count: int, seed: int = 1, published: bool = False):
    """Seed 001's facts with every count, yes/no and level drawn at random.

    The seed's facts file also records the score the published report gave each
    indicator, to show where the report contradicts its rules; a batch scores projects
    rather than checking reports, so those are left out unless ``published``."""
    base = yaml.safe_load(SEED.with_suffix(".facts.yaml").read_text(encoding="utf-8"))
    if not published:
        base.pop("published", None)
    infos = scorer.checked.facts
    rng = random.Random(seed)
    pool = []
    for _ in range(count):
        indicators = {}
        for code, table in base["indicators"].items():
            out = {}
            for name, value in table.items():
                info = infos.get(name)
                if name == "published":
                    if published:
                        out[name] = value
                elif info is None:
                    out[name] = value
                elif info.kind == "bool":
                    out[name] = rng.random() < 0.85
                elif info.kind == "level":
                    out[name] = rng.choice(info.levels)
                elif info.kind == "count" and isinstance(value, int):
                    out[name] = rng.randint(max(1, value // 2), value * 2 + 1) if value else \
                        rng.choice((0, 0, 0, 1, 2))
                else:
                    out[name] = value
            indicators[code] = out
        mapping = dict(base)
        mapping["indicators"] = indicators
        pool.append(mapping)
    return pool


def section_seed(args, rng):
    scorer = load_set(SEED.with_suffix(".ind"))
    ev = scorer._evaluator
    pool = seed_pool(scorer, max(50, args.projects // 10))
    prepared = [Facts.from_mapping(m) for m in pool]
    as_shipped = Facts.from_mapping(yaml.safe_load(SEED.with_suffix(".facts.yaml").read_text(
        encoding="utf-8")))
    for m, facts in zip(pool, prepared):
        careful = _build(_plain_tree(m, "<facts>"), "<facts>", ())
        assert scorer.scores(facts) == ev.scores_interpreted(careful)
        assert scorer.evaluate(facts).total == ev.evaluate_interpreted(careful).total
    n = len(pool)

    def read_all(facts, evaluate=scorer.evaluate):
        result = evaluate(facts)
        for r in result.indicators:
            r.explanation
        return result

    sides = {
        "Facts.from_mapping()": lambda: [Facts.from_mapping(m) for m in pool],
        "Facts from a mapping, the careful path (the previous way)":
            lambda: [_build(_plain_tree(m, "<facts>"), "<facts>", ()) for m in pool],
        "scores(), generated code": lambda: [scorer.scores(f) for f in prepared],
        "evaluate(), generated code (worded when read)": lambda: [scorer.evaluate(f)
                                                                  for f in prepared],
        "evaluate() and read every justification": lambda: [read_all(f) for f in prepared],
        "scores(), closure interpreter (the previous engine)":
            lambda: [ev.scores_interpreted(f) for f in prepared],
        "evaluate(), closure interpreter (the previous engine)":
            lambda: [ev.evaluate_interpreted(f) for f in prepared],
        "the same, and read every justification":
            lambda: [read_all(f, ev.evaluate_interpreted) for f in prepared],
        "evaluate(), the facts file as shipped (37 published scores compared)":
            lambda: [scorer.evaluate(as_shipped) for _ in prepared],
        "the same, closure interpreter": lambda: [ev.evaluate_interpreted(as_shipped)
                                                  for _ in prepared],
    }
    times = interleaved(sides, args.rounds)
    report(f"seed 001 (32 leaves, 54 indicators), {n} projects (published scores left out); time per project, "
           f"{args.rounds} interleaved rounds (no hand-written anchor):", times, n, "project",
           anchors=())


# --------------------------------------------------------------------- batch

_WORKER = {}


def _worker_init(path, pool_size, kind):
    _WORKER["scorer"] = load_set(path)
    _WORKER["pool"] = seed_pool(_WORKER["scorer"], pool_size)
    _WORKER["kind"] = kind


def _worker_ready(_):
    time.sleep(0.3)  # hold this worker so the other one takes the next task
    return os.getpid()


def _score_range(bounds):
    start, stop = bounds
    return _score_some(_WORKER["scorer"], _WORKER["pool"], start, stop, _WORKER["kind"])


def _score_some(scorer, pool, start, stop, kind):
    total = Decimal(0)
    grades = {}
    size = len(pool)
    if kind == "scores":
        for i in range(start, stop):
            total += scorer.scores(pool[i % size])["total"]
    else:
        for i in range(start, stop):
            result = scorer.evaluate(pool[i % size])
            total += result.total
            grades[result.grade] = grades.get(result.grade, 0) + 1
    return stop - start, total, grades


def section_batch(args, rng):
    path = SEED.with_suffix(".ind")
    pool_size = 1000
    count = args.batch
    print(f"\nbatch: {count} projects × seed 001 (32 leaves) from in-memory mappings, a pool of "
          f"{pool_size} distinct projects cycled; each project: mapping → Facts → result")
    scorer = load_set(path)
    pool = seed_pool(scorer, pool_size)
    results = {}
    for kind, label in (("scores", "scores()"), ("evaluate", "evaluate(), total and grade read")):
        start = time.perf_counter()
        done, total, _ = _score_some(scorer, pool, 0, count, kind)
        spent = time.perf_counter() - start
        results[kind] = total
        print(f"  1 process,  {label:34} {spent:6.2f} s  ({spent / count * 1e6:6.1f} µs a "
              f"project, {count / spent:8.0f} projects/s)")
    # The same projects as columns (CODE.fact → values), scored by score_table().
    columns = {}
    for row, mapping in enumerate(pool):
        for key, value in mapping.items():
            if key == "indicators":
                for code, table in value.items():
                    for name, fact in table.items():
                        columns.setdefault(f"{code}.{name}", [None] * pool_size)[row] = fact
            else:
                columns.setdefault(key, [None] * pool_size)[row] = value
    repeat = max(1, count // pool_size)
    table = {name: values * repeat for name, values in columns.items()}
    rows = pool_size * repeat
    import indicator_dsl.columnar as columnar

    for label, threshold in (("score_table(), whole columns", 1),
                             ("score_table(), row by row", 10 ** 12)):
        columnar._VECTOR_ROWS = threshold
        start = time.perf_counter()
        out = scorer.score_table(table)
        spent = time.perf_counter() - start
        total = sum((t for t in out["total"] if t is not None), Decimal(0))
        same = "same totals as scores()" if total * count == results["scores"] * rows else \
            "TOTALS DIFFER"
        print(f"  1 process,  {label:34} {spent:6.2f} s  ({rows / spent:8.0f} projects/s; "
              f"{rows} rows, {len(table)} columns; {same})")
    columnar._VECTOR_ROWS = 100
    if args.jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        for kind, label in (("scores", "scores()"),
                            ("evaluate", "evaluate(), total and grade read")):
            with ctx.Pool(args.jobs, initializer=_worker_init,
                          initargs=(path, pool_size, kind)) as workers:
                workers.map(_worker_ready, range(args.jobs), chunksize=1)
                chunks = [(count * k // args.jobs, count * (k + 1) // args.jobs)
                          for k in range(args.jobs)]
                start = time.perf_counter()
                parts = workers.map(_score_range, chunks, chunksize=1)
                spent = time.perf_counter() - start
            total = sum((p[1] for p in parts), Decimal(0))
            assert sum(p[0] for p in parts) == count
            same = "same totals as 1 process" if total == results[kind] else "TOTALS DIFFER"
            print(f"  {args.jobs} processes, {label:34} {spent:6.2f} s  "
                  f"({count / spent:8.0f} projects/s; {same}; sets loaded before timing)")


# -------------------------------------------------------------------- memory


def _rss_kb(field="VmRSS"):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _kept(scorer, pool, count, evaluate):
    gc.collect()
    objects_before = len(gc.get_objects())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = []
    for i in range(count):
        facts = Facts.from_mapping(pool[i % len(pool)])
        kept.append(evaluate(facts))
        del facts
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    objects = len(gc.get_objects()) - objects_before
    return kept, (after - before) / count, objects / count


def section_memory(args, rng):
    scorer = load_set(SEED.with_suffix(".ind"))
    pool = seed_pool(scorer, 1000)
    count = args.keep
    print(f"\nmemory: {count} kept evaluate() results of seed 001 (facts built from a mapping "
          "and dropped; tracemalloc bytes and GC-tracked objects per result)")
    kept, size, objects = _kept(scorer, pool, count, scorer.evaluate)
    print(f"  evaluate(), generated code                      {size / 1024:7.1f} KB  "
          f"{objects:7.1f} objects")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    objects_before = len(gc.get_objects())
    for result in kept:
        for r in result.indicators:
            r.explanation
            r.values
    gc.collect()
    grown = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    grown_objects = (len(gc.get_objects()) - objects_before) / count
    print(f"    … after reading every result and justification +{grown / 1024:6.1f} KB  "
          f"+{grown_objects:6.1f} objects")
    del kept
    kept, size, objects = _kept(scorer, pool, count, scorer._evaluator.evaluate_interpreted)
    print(f"  evaluate(), closure interpreter (previous)      {size / 1024:7.1f} KB  "
          f"{objects:7.1f} objects")
    del kept
    # Streaming, in a process of its own so that nothing above counts in its RSS.
    done = subprocess.run([sys.executable, __file__, "--stream-child", str(args.stream)],
                          capture_output=True, text=True, check=True)
    print(done.stdout.rstrip())


def stream_child(count: int):
    scorer = load_set(SEED.with_suffix(".ind"))
    pool = seed_pool(scorer, 1000)
    gc.collect()
    start_rss = _rss_kb()
    start = time.perf_counter()
    marks = []
    for i in range(count):
        result = scorer.evaluate(pool[i % len(pool)])
        result.total, result.grade
        if (i + 1) % (count // 4 or 1) == 0:
            marks.append(_rss_kb())
    spent = time.perf_counter() - start
    print(f"  streaming {count} projects through evaluate() in a fresh process (results "
          f"dropped): RSS {start_rss / 1024:.0f} MB after loading the set and a pool of 1000 "
          "projects, " + ", ".join(f"{m / 1024:.0f}" for m in marks) + " MB after each "
          f"quarter, peak {_rss_kb('VmHWM') / 1024:.0f} MB ({spent:.1f} s)")


def section_cold(args, rng):
    exe = [sys.executable, "-m", "indicator_dsl", "eval", str(ROOT / "examples/c114.ind"),
           str(ROOT / "examples/c114.facts.yaml")]
    bare = [sys.executable, "-c", "pass"]
    times = interleaved({"indicator-eval eval": lambda: subprocess.run(exe, capture_output=True,
                                                                        check=True),
                         "bare Python start-up": lambda: subprocess.run(bare,
                                                                         capture_output=True,
                                                                         check=True)},
                        max(3, args.rounds // 3))
    cold = statistics.median(times["indicator-eval eval"])
    base = statistics.median(times["bare Python start-up"])
    print(f"\ncold start of `indicator-eval eval` on the bundled example: {cold * 1000:.0f} ms "
          f"(bare Python start-up: {base * 1000:.0f} ms)")


SECTIONS = {"c114": section_c114, "thirty": section_thirty, "seed": section_seed,
            "batch": section_batch, "memory": section_memory, "cold": section_cold}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000,
                        help="projects per timing pass (C114; a tenth for the larger sets)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--batch", type=int, default=100_000, help="projects in the batch test")
    parser.add_argument("--jobs", type=int, default=2, help="processes in the batch test")
    parser.add_argument("--keep", type=int, default=2000, help="results kept, memory test")
    parser.add_argument("--stream", type=int, default=200_000,
                        help="projects streamed, memory test")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="sections to run, comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--stream-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stream_child:
        stream_child(args.stream_child)
        return 0
    if args.quick:
        args.projects, args.rounds, args.batch, args.keep, args.stream = 200, 3, 2000, 200, 2000
    rng = random.Random(20201)
    for name in args.only.split(","):
        SECTIONS[name.strip()](args, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
