#!/usr/bin/env python3
"""An independent implementation of the bootstrap intervals described in docs/scoring.md.

It prints the intervals that `src/scoring/tests.rs`
(`intervals_match_the_reference_implementation`) pins. It needs nothing but Python 3: the
generator (SplitMix64) is written out below from its published definition, and the sums are
plain loops over the responses with their draw counts (not the server's integer shortcut).

    python3 scripts/scoring_reference.py
"""
import hashlib

RESAMPLES = 1000
# The test framework: function id -> indicator ids, in framework order.
FRAMEWORK = [("1", ["1.1", "1.2"]), ("2", ["2.1"]), ("3", ["3.1"])]


def seed_for_round(round_id):
    text = f"clusterpulse:scoring:bootstrap:v1:{round_id}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


MASK = (1 << 64) - 1


def u64_stream(seed, count):
    """SplitMix64 (Steele, Lea, Flood 2014) started at `seed`."""
    state = seed
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def percentile(values, p):
    """Linear interpolation between order statistics (numpy's default)."""
    v = sorted(values)
    h = (len(v) - 1) * p
    lo = int(h)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def fsum_in_order(values):
    total = 0.0
    for v in values:
        total += v
    return total


def intervals(items, seed):
    """items: (response index, question, indicator, score) tuples."""
    questions = sorted({q for _, q, _, _ in items})
    indicator_of = {q: i for _, q, i, _ in items}
    population = sorted({r for r, _, _, _ in items})
    n = len(population)
    answers = {r: {} for r in population}
    for r, q, _, s in items:
        answers[r][q] = s

    stream = u64_stream(seed, RESAMPLES * n)
    function_values = {f: [] for f, _ in FRAMEWORK}
    overall_values = []
    for _ in range(RESAMPLES):
        times = [0] * n
        for _ in range(n):
            times[(next(stream) * n) >> 64] += 1
        sums = {q: 0.0 for q in questions}
        counts = {q: 0.0 for q in questions}
        for pos, r in enumerate(population):
            if times[pos]:
                for q in questions:
                    if q in answers[r]:
                        sums[q] += times[pos] * answers[r][q]
                        counts[q] += float(times[pos])
        indicator_score = {}
        for _, indicators in FRAMEWORK:
            for i in indicators:
                qs = [sums[q] / counts[q] for q in questions if indicator_of[q] == i and counts[q] > 0]
                if qs:
                    indicator_score[i] = fsum_in_order(qs) / len(qs)
        present = []
        for f, indicators in FRAMEWORK:
            scores = [indicator_score[i] for i in indicators if i in indicator_score]
            if scores:
                fs = fsum_in_order(scores) / len(scores)
                function_values[f].append(fs)
                present.append(fs)
        if present:
            overall_values.append(fsum_in_order(present) / len(present))

    result = {}
    for f, _ in FRAMEWORK:
        v = function_values[f]
        result[f] = [percentile(v, 0.025), percentile(v, 0.975)] if v else None
    result["overall"] = [percentile(overall_values, 0.025), percentile(overall_values, 0.975)]
    return result


def main():
    hand = [
        (0, "a", "1.1", 100.0),
        (0, "b", "1.1", 50.0),
        (0, "c", "1.2", 0.0),
        (1, "a", "1.1", 50.0),
        (1, "c", "1.2", 100.0),
        (2, "b", "1.1", 100.0),
        (3, "d", "2.1", 75.0),
    ]
    print("hand-computed round, seed_for_round(1):", intervals(hand, seed_for_round(1)))

    defs = [("q1", "1.1"), ("q2", "1.1"), ("q3", "1.2"), ("q4", "2.1"),
            ("q5", "2.1"), ("q6", "2.1"), ("q7", "3.1"), ("q8", "3.1")]
    sixths = []
    for r in range(40):
        for qi, (q, i) in enumerate(defs):
            if (r * 7 + qi * 3) % 10 != 0:
                sixths.append((r, q, i, float((r * r + 3 * qi) % 7) * (100.0 / 6.0)))
    print("40 responses in sixths, seed_for_round(2):", intervals(sixths, seed_for_round(2)))

    # Eighths of 100 (12.5 steps): the server sums these as exact integers (scaled by 2).
    eighths = []
    for r in range(60):
        for qi, (q, i) in enumerate(defs):
            if (r * 5 + qi * 7) % 11 != 0:
                eighths.append((r, q, i, float((r * 3 + qi * qi + r * qi) % 9) * 12.5))
    print("60 responses in eighths, seed_for_round(3):", intervals(eighths, seed_for_round(3)))


if __name__ == "__main__":
    main()
