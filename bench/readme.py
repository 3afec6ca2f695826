#!/usr/bin/env python3
"""Rewrites the figures of README.md's Benchmarks section from
bench/results/latest.md (written by bench/bench.py).

Usage: python3 bench/readme.py [REPO_ROOT]   (default: the current directory)
"""
import re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "."
latest = open(root + "/bench/results/latest.md").read()
sections = {}
cur = None
for line in latest.splitlines():
    if line.startswith("### "):
        cur = line[4:].strip(); sections[cur] = []
    elif cur and line.startswith("|"):
        sections[cur].append([c.strip() for c in line.strip("|").split("|")])
    elif cur and not line.strip() and sections[cur] and sections[cur][-1] is not None:
        sections[cur].append(None)  # a blank line between two tables
def rows(title):
    return [r for r in sections.get(title, [])[2:] if r is not None]
machine = re.search(r"^Machine: (.*)$", latest, re.M).group(1)
end = re.search(r"Load average at end: (.*)\.", latest)
modes = ["50 clients", "50 clients, pipeline 16", "1 client"]
data = {m: {r[0]: r for r in rows(m)} for m in modes}
tests = [r[0] for r in rows("50 clients")]
out = ["Latest run: " + machine + (" Load average at end: %s." % end.group(1) if end else ""), "",
       "Throughput, ours/Redis (1.00 = as fast as Redis), and p99 latency in ms (ours / Redis):", "",
       "| test | 50 clients | p99 | pipeline 16 | p99 | 1 client | p99 |", "|---|---:|---:|---:|---:|---:|---:|"]
for t in tests:
    cells = [t]
    for m in modes:
        r = data[m].get(t)
        if r is None:
            cells += ["-", "-"]; continue
        p99o = r[4].split("/")[-1].strip(); p99r = r[5].split("/")[-1].strip()
        cells += [r[3], "%s / %s" % (p99o, p99r)]
    out.append("| " + " | ".join(cells) + " |")
out.append("")
for title in sections:
    if title in modes:
        continue
    out.append("**%s**" % title); out.append("")
    while sections[title] and sections[title][-1] is None:
        sections[title].pop()
    for r in sections[title]:
        out.append("" if r is None else "| " + " | ".join(r) + " |")
    out.append("")
    if title.startswith("Scaling"):
        out.insert(len(out) - len(sections[title]) - 3, "![ours/Redis throughput by number of clients and pipeline depth](bench/results/scaling.svg)\n")
readme = open(root + "/README.md").read()
start = readme.index("Latest run:")
stop = readme.index("## Supported commands")
readme = readme[:start] + "\n".join(out) + "\n" + readme[stop:]
open(root + "/README.md", "w").write(readme)
