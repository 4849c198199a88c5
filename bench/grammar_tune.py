#!/usr/bin/env python3
"""Pick grammar-mode thresholds offline from a bench_speech_grammar_accuracy run.

Run the bench on the TUNING set with every check logged, one recogniser per front end:

  build/bench/bench_speech_grammar_accuracy --cases bench/grammar_cases/tuning.txt \
      --tuning-voices --name grammar_measures_tuning \
      --config narrow:reject=log --config wide:reject=log,noise_band=wide \
      --config 8k:reject=log,decode_rate=8000

Each utterance then carries, per recogniser, the answer its best path reads as and every
check's measure (speech/turn_verdict.h describe()). This script replays the recogniser's
decision (judge_turn, and the second opinion of sphinx_recognizer.cpp) for many
thresholds and prints, per rule, the one with the most right answers whose wrong answers
and false accepts stay within the limits: by default no more than the current thresholds
give on the first decode alone (the same error budget, more right answers), or the
fractions given. Never point it at the held-out run: that one is for checking the choice.

  bench/grammar_tune.py bench/results/grammar_measures_tuning_a.json [--max-wrong 0.015]
      [--max-false 0.05]
"""
import argparse
import itertools
import json
import re
import sys


def parse(detail):
    """The measures of describe() ("phrase 3, gap 0.12 s, coverage 0.80, loop 12, ...")."""
    first = detail.split(";")[0]
    m = {"phrase": -1, "gap": 0.0, "coverage": 0.0, "words": True, "carriers": False,
         "loop": None, "answer": None, "margin_measured": False, "margin": None}
    for part in first.split(", "):
        k, _, v = part.partition(" ")
        if k == "phrase":
            m["phrase"] = int(v)
        elif k == "gap":
            m["gap"] = float(v.split()[0])
        elif k == "coverage":
            m["coverage"] = float(v)
        elif part == "no word":
            m["words"] = False
        elif part == "carriers":
            m["carriers"] = True
        elif k == "loop":
            m["loop"] = float(v)
        elif k == "answer":
            m["answer"] = float(v)
        elif k == "margin":
            m["margin_measured"] = True
            m["margin"] = None if v == "none" else float(v)
    return m


def judge(m, t, competitors):
    """judge_turn() of speech/turn_verdict.cpp. t = (gap, coverage, loop, answer, margin)."""
    gap, cov, loop, ans, margin = t
    if m["phrase"] < 0 or not m["words"]:
        return False
    if m["gap"] > gap or m["coverage"] < cov:
        return False
    if loop > 0:
        if m["loop"] is None:
            return False
        limit = min(loop, ans) if (m["carriers"] and ans > 0) else loop
        if m["loop"] > limit:
            return False
        if m["carriers"] and ans > 0 and m["answer"] is not None and m["answer"] > ans:
            return False
    if margin > 0 and competitors(m):
        if not m["margin_measured"] or m["margin"] is None or m["margin"] < margin:
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--max-wrong", type=float, default=None)
    ap.add_argument("--max-false", type=float, default=None)
    ap.add_argument("--primary", default=None, help="label of the first decode (default: first)")
    ap.add_argument("--check", nargs=4, metavar=("SECOND", "VETO", "STRICT", "AGREED"),
                    help="only score this rule, e.g. wide on 0.5,0.3,45,25,8 0.5,0.3,55,30,0 "
                         "(thresholds: gap, coverage, loop, answer gap, margin), per voice too")
    args = ap.parse_args()
    run = json.load(open(args.run))
    labels = [c["label"] for c in run["configs"]]
    primary = args.primary or labels[0]
    turns = []
    for u in run["utterances"]:
        res = u["results"]
        turns.append({"wanted": u["wanted_answer"], "voice": u["voice"],
                      "by": {l: (res[l]["answer"], parse(res[l]["detail"])) for l in labels}})
    n_in = sum(t["wanted"] >= 0 for t in turns)
    n_out = len(turns) - n_in
    # margin_measured is set whenever another answer exists (log mode measures all).
    competitors = lambda m: m["margin_measured"]

    def score(decide):
        right = wrong = fa = 0
        for t in turns:
            got = decide(t)
            if t["wanted"] < 0:
                fa += got >= 0
            elif got == t["wanted"]:
                right += 1
            elif got >= 0:
                wrong += 1
        return right, wrong, fa

    def fmt(r):
        right, wrong, fa = r
        return (f"right {right}/{n_in} ({100*right/n_in:.1f} %), wrong {wrong} "
                f"({100*wrong/n_in:.1f} %), false {fa}/{n_out} ({100*fa/n_out:.1f} %)")

    current = (0.5, 0.5, 55, 30, 6)
    base = None

    def single0(t):
        def decide(turn):
            a, m = turn["by"][primary]
            return a if judge(m, t, competitors) else -1
        return decide

    base = score(single0(current))
    max_wrong = args.max_wrong * n_in if args.max_wrong is not None else base[1]
    max_false = args.max_false * n_out if args.max_false is not None else base[2]
    ok = lambda r: r[1] <= max_wrong and r[2] <= max_false
    grid = list(itertools.product([0.3, 0.5, 0.7, 1.0], [0.3, 0.4, 0.5], [45, 55, 70, 90],
                                  [25, 30, 35, 45], [0, 2, 3, 4, 6, 8, 10]))

    def single(label, t):
        def decide(turn):
            a, m = turn["by"][label]
            return a if judge(m, t, competitors) else -1
        return decide

    print(f"{len(turns)} turns ({n_in} in grammar, {n_out} unrelated); limits wrong <= "
          f"{max_wrong:.1f}, false <= {max_false:.1f}\n")
    for label in labels:
        print(f"{label}, current thresholds {current}: {fmt(score(single(label, current)))}")
        best = None
        for t in grid:
            r = score(single(label, t))
            if ok(r) and (best is None or r[0] > best[1][0]):
                best = (t, r)
        if best:
            print(f"{label}, best single {best[0]}: {fmt(best[1])}")
    print()

    def vote(second, strict, agreed, veto):
        def decide(turn):
            a, m = turn["by"][primary]
            b, n = turn["by"][second]
            if a < 0:
                return -1
            if judge(m, strict, competitors):
                if veto and b >= 0 and b != a:
                    return -1
                return a
            if judge(m, agreed, competitors) and b == a and judge(n, agreed, competitors):
                return a
            return -1
        return decide

    if args.check:
        second, veto, strict, agreed = args.check
        strict = tuple(float(x) for x in strict.split(","))
        agreed = tuple(float(x) for x in agreed.split(","))
        rule = vote(second, strict, agreed, veto == "on")
        print(f"current, first decode alone: {fmt(base)}")
        print(f"{primary} + {second} (veto {veto}), strict {strict}, agreed {agreed}: "
              f"{fmt(score(rule))}")
        all_turns = list(turns)
        for voice in sorted({t["voice"] for t in all_turns}):
            turns[:] = [t for t in all_turns if t["voice"] == voice]
            print(f"  {voice} (right, wrong, false): current {score(single0(current))}, "
                  f"rule {score(rule)}")
        turns[:] = all_turns
        return 0

    agreed_grid = list(itertools.product([0.5, 0.7, 1.0], [0.3, 0.4, 0.5], [55, 70, 90, 120],
                                         [30, 35, 45, 60], [0, 1, 2, 3, 4, 6]))

    def better(r, best):
        return best is None or r[0] > best[0] or (r[0] == best[0] and r[1] + r[2] < best[1] + best[2])

    def vote_cost(second, strict, agreed, veto):
        """Second decodes per turn: close calls (and every answer with the veto)."""
        n = 0
        for t in turns:
            a, m = t["by"][primary]
            if a < 0:
                continue
            if judge(m, strict, competitors):
                n += veto
            elif judge(m, agreed, competitors):
                n += 1
        return n / len(turns)

    for second in labels:
        if second == primary:
            continue
        for veto in (False, True):
            strict, agreed, best = current, None, None
            for round_ in range(2):
                for agreed_try in agreed_grid:
                    r = score(vote(second, strict, agreed_try, veto))
                    if ok(r) and better(r, best):
                        best, agreed = r, agreed_try
                if agreed is None:
                    break
                for strict_try in grid:
                    r = score(vote(second, strict_try, agreed, veto))
                    if ok(r) and better(r, best):
                        best, strict = r, strict_try
            if best:
                print(f"{primary} + {second} (veto {veto}): strict {strict}, agreed {agreed}: "
                      f"{fmt(best)}; second decodes per turn "
                      f"{vote_cost(second, strict, agreed, veto):.2f}")
                # The same with the current strict thresholds (only the agreed set tuned).
                best0, agreed0 = None, None
                for agreed_try in agreed_grid:
                    r = score(vote(second, current, agreed_try, veto))
                    if ok(r) and better(r, best0):
                        best0, agreed0 = r, agreed_try
                if best0:
                    print(f"    with strict = current: agreed {agreed0}: {fmt(best0)}")
            else:
                print(f"{primary} + {second} (veto {veto}): nothing within the limits")
    # Exploratory: two second opinions, both must agree (not implemented in the recogniser).
    seconds = [l for l in labels if l != primary]
    for s1, s2 in itertools.combinations(seconds, 2):
        def vote2(strict, agreed, s1=s1, s2=s2):
            def decide(turn):
                a, m = turn["by"][primary]
                if a < 0:
                    return -1
                if judge(m, strict, competitors):
                    return a
                if not judge(m, agreed, competitors):
                    return -1
                for sl in (s1, s2):
                    b, n = turn["by"][sl]
                    if b != a or not judge(n, agreed, competitors):
                        return -1
                return a
            return decide
        best, agreed = None, None
        for agreed_try in agreed_grid:
            r = score(vote2(current, agreed_try))
            if ok(r) and better(r, best):
                best, agreed = r, agreed_try
        if best:
            print(f"{primary} + {s1} + {s2} (both agree), agreed {agreed}: {fmt(best)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
