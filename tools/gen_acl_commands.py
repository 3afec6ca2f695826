#!/usr/bin/env python3
"""Regenerates src/acl/commands.txt from Redis 7.0's src/commands/*.json.

Usage: tools/gen_acl_commands.py ~/.cache/redis-suite/redis-7.0.15/src/commands > src/acl/commands.txt

One line per command or subcommand:
  fullname|arity|categories|flags|keyspec;keyspec...
categories: Redis's ACL categories including the implicit ones (setImplicitACLCategories);
flags: the command flags that matter to ACL (no_auth, write, readonly, ...);
keyspec: FLAG,FLAG/begin/find with begin = i:POS or k:KEYWORD:STARTFROM and
find = r:LASTKEY:STEP:LIMIT or n:KEYNUMIDX:FIRSTKEY:STEP.
"""
import json, os, sys

d = sys.argv[1]
rows = []
def implicit(flags, cats):
    cats = [c.lower() for c in cats]
    f = set(x.upper() for x in flags)
    if "WRITE" in f: cats.append("write")
    if "READONLY" in f and "scripting" not in cats: cats.append("read")
    if "ADMIN" in f: cats += ["admin", "dangerous"]
    if "PUBSUB" in f: cats.append("pubsub")
    if "FAST" in f: cats.append("fast")
    if "BLOCKING" in f: cats.append("blocking")
    if "fast" not in cats: cats.append("slow")
    out = []
    for c in cats:
        if c not in out: out.append(c)
    return out

def spec(ks):
    fl = ",".join(ks.get("flags", []))
    b = ks["begin_search"]
    if "index" in b: bs = "i:%d" % b["index"]["pos"]
    elif "keyword" in b: bs = "k:%s:%d" % (b["keyword"]["keyword"], b["keyword"]["startfrom"])
    else: bs = "u"
    f = ks["find_keys"]
    if "range" in f: fs = "r:%d:%d:%d" % (f["range"]["lastkey"], f["range"]["step"], f["range"]["limit"])
    elif "keynum" in f: fs = "n:%d:%d:%d" % (f["keynum"]["keynumidx"], f["keynum"]["firstkey"], f["keynum"]["step"])
    else: fs = "u"
    return "%s/%s/%s" % (fl, bs, fs)

for fn in sorted(os.listdir(d)):
    if not fn.endswith(".json"): continue
    data = json.load(open(os.path.join(d, fn)))
    for name, c in data.items():
        full = name.lower()
        if "container" in c: full = c["container"].lower() + "|" + full
        flags = c.get("command_flags", [])
        cats = implicit(flags, c.get("acl_categories", []))
        specs = ";".join(spec(k) for k in c.get("key_specs", []))
        rows.append("%s|%d|%s|%s|%s" % (full, c["arity"], " ".join(cats), " ".join(x.lower() for x in flags), specs))
for r in sorted(rows): print(r)
