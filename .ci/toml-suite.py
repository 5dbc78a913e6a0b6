#!/usr/bin/env python3
"""Runs toml-test's TOML 1.0 cases through a decoder binary (toml-test's decoder interface).

usage: toml-suite.py DECODER SUITE_DIR   (SUITE_DIR holds files-toml-1.0.0, valid/, invalid/)
"""
import json, math, subprocess, sys, os, re

def norm_dt(v):
    v = v.replace(" ", "T").replace("t", "T").replace("z", "Z")
    v = re.sub(r"\+00:00$|-00:00$", "Z", v)
    m = re.match(r"^(.*\d\d:\d\d:\d\d)(\.\d+)?(.*)$", v)
    if m and m.group(2):
        frac = m.group(2).rstrip("0")
        v = m.group(1) + ("" if frac == "." else frac) + m.group(3)
    return v

def same(a, b):
    if isinstance(a, dict) and set(a.keys()) == {"type", "value"} and isinstance(a.get("value"), str):
        if not (isinstance(b, dict) and b.get("type") == a["type"]):
            return False
        t, x, y = a["type"], a["value"], b.get("value")
        if t == "float":
            fx, fy = float(x), float(y)
            return (math.isnan(fx) and math.isnan(fy)) or fx == fy
        if t == "integer":
            return int(x) == int(y)
        if t.startswith("date") or t.startswith("time"):
            return norm_dt(x) == norm_dt(y)
        return x == y
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b

decoder, suite = sys.argv[1], sys.argv[2]
cases = [l.strip() for l in open(os.path.join(suite, "files-toml-1.0.0")) if l.strip().endswith(".toml")]
failed = []
for case in cases:
    data = open(os.path.join(suite, case), "rb").read()
    p = subprocess.run([decoder], input=data, capture_output=True)
    if case.startswith("valid/"):
        expected = json.load(open(os.path.join(suite, case[:-5] + ".json")))
        try:
            ok = p.returncode == 0 and same(expected, json.loads(p.stdout))
        except Exception:
            ok = False
        if not ok:
            failed.append(case + " :: " + p.stderr.decode(errors="replace").strip()[:150])
    elif p.returncode != 1:
        failed.append(case + " :: accepted (exit %d)" % p.returncode)
for f in failed:
    print("FAIL", f)
print("%d passed, %d failed" % (len(cases) - len(failed), len(failed)))
sys.exit(1 if failed else 0)
