#!/usr/bin/env python3
"""Writes a copy of MovieLens-100k's u.data in which each rating carries the time of the user's
next rating (the last one keeps its own), for the "next-item time" diagnostic in BENCHMARKS.md.

The public HSTU code buckets ts(next item) - ts(j) for query position i, so the query that
predicts the target reads the target's own timestamp; tessera reads ts(i) - ts(j). With the
shifted copy, tessera's own-time bias sees the next item's time instead, with no code change.
Rows are written per user in time order (ties in file order, as `tessera prepare` sorts), so
the prepared dataset has the same item order as the original.

usage: scripts/ml100k_next_item_times.py ../shared/data/ml-100k/u.data OUT_DIR/ml-100k/u.data
"""
import collections
import os
import sys


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, target = sys.argv[1], sys.argv[2]
    rows = collections.defaultdict(list)
    with open(source) as f:
        for line_no, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 4:
                sys.exit(f"{source}:{line_no}: expected 4 tab-separated fields, got {len(fields)}")
            user, item, rating, ts = fields
            try:
                time = int(ts)
            except ValueError:
                sys.exit(f"{source}:{line_no}: field 4 (timestamp) is not an integer: {ts!r}")
            rows[user].append((time, line_no, item, rating))
    tmp = target + ".tmp"
    with open(tmp, "w") as out:
        for user, events in rows.items():
            events.sort(key=lambda e: (e[0], e[1]))
            times = [e[0] for e in events]
            shifted = times[1:] + times[-1:]
            for (_, _, item, rating), t in zip(events, shifted):
                out.write(f"{user}\t{item}\t{rating}\t{t}\n")
    os.replace(tmp, target)


if __name__ == "__main__":
    main()
