#!/usr/bin/env python3
"""The figures README.md and docs/*.md quote, computed from what produces them.

A quoted figure is written between markers, invisible once rendered:

    threshold <!-- fact model.threshold -->0.16<!-- /fact -->

and this script computes each named fact from its source: the example bundle
(examples/model.json), the script that made it (examples/make_model.py) and
the demo (scripts/demo.sh). Standard library only.

    scripts/readme_facts.py              check: exit 1 naming every figure that differs
    scripts/readme_facts.py --write      rewrite every figure from its source
    scripts/readme_facts.py --list       print every fact and its value
    scripts/readme_facts.py --model B    check the model.* figures against bundle B
                                         (a rerun of make_model.py, say)

The check also holds performance figures to their source: a figure in the
Benchmarks section of README.md must cite the bench/ script that measures it,
the commit and the date, as (`bench/SCRIPT ...`, commit HASH, YYYY-MM-DD); the
script must exist and, in a git checkout, the commit too.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md"))
FACT = re.compile(r"<!-- fact ([a-z0-9_.]+) -->(.*?)<!-- /fact -->")
CITATION = re.compile(r"\(`(bench/[^` ]+)[^`]*`[^()]*?, commit ([0-9a-f]{7,40}), (\d{4}-\d{2}-\d{2})[),;]")
FIGURE = re.compile(r"\d[\d,.]*\s*(?:events/s|µs|ns|ms|MB|CPU-seconds|×)")


def thousands(n):
    return f"{n:,}"


def columns(feature):
    """Matrix columns a feature writes (docs/bundle.md, Features)."""
    for step in feature.get("transform", []):
        op = step["op"]
        if op == "bucketize" and step.get("output") == "one_hot":
            return len(step["edges"]) + 1
        if op == "one_hot":
            return len(step["categories"]) + (1 if step.get("unknown") == "extra" else 0)
        if op == "hash":
            return step["buckets"]
    return 1


def json_values(v):
    """Values as the bundle loader counts them: each number, string, literal,
    array and object counts one."""
    if isinstance(v, dict):
        return 1 + sum(json_values(x) for x in v.values())
    if isinstance(v, list):
        return 1 + sum(json_values(x) for x in v)
    return 1


def make_model_constants():
    """The module-level constants of examples/make_model.py, read without
    importing it (it needs numpy)."""
    tree = ast.parse(open(os.path.join(ROOT, "examples/make_model.py")).read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def model_facts(path):
    with open(path) as f:
        b = json.load(f)
    perf = b["reference"]["performance"]
    sample = len(b["reference"]["features"]["amount"]["sample"])
    return {
        "model.name": b["name"],
        "model.features": str(len(b["features"])),
        "model.columns": str(sum(columns(f) for f in b["features"])),
        "model.threshold": f"{b['threshold']:g}",
        "model.auc": f"{perf['auc']:.3f}",
        "model.f1": f"{perf['f1']:.3f}",
        "model.precision": f"{perf['precision']:.3f}",
        "model.recall": f"{perf['recall']:.3f}",
        "model.test_rows": thousands(perf["n"]),
        "model.training_rows": thousands(b["training"]["rows"]),
        "model.sample": str(sample),
        "model.size_mb": f"{os.path.getsize(path) / 1e6:.1f}",
        "model.json_values": thousands(round(json_values(b), -3)),
    }


def demo_facts():
    text = open(os.path.join(ROOT, "scripts/demo.sh")).read()

    def default(var):
        m = re.search(r"^%s=\$\{\w+:-(\d+)\}$" % var, text, re.M)
        if not m:
            raise SystemExit(f"readme_facts: scripts/demo.sh has no default for {var}")
        return int(m.group(1))

    events, rate = default("events"), default("rate")
    malformed = len(re.findall(r"\| kcat -P ", text))
    return {
        "demo.events": thousands(events),
        "demo.rate": thousands(rate),
        "demo.malformed": str(malformed),
        "demo.total": thousands(events + malformed),
        "demo.seconds": str(events // rate),
    }


def facts(model_path):
    c = make_model_constants()
    train, valid = round(100 * c["TRAIN_SHARE"]), round(100 * c["VALID_SHARE"])
    out = {
        "make_model.count": thousands(c["COUNT"]),
        "make_model.seed": str(c["SEED"]),
        "make_model.split": f"{train} / {valid} / {100 - train - valid}",
        "make_model.train_share": f"{train}%",
    }
    out.update(model_facts(model_path))
    out.update(demo_facts())
    rows = int(out["model.training_rows"].replace(",", ""))
    if rows != int(c["COUNT"] * c["TRAIN_SHARE"]):
        raise SystemExit(f"readme_facts: examples/model.json says {rows} training rows; "
                         f"make_model.py trains on {c['TRAIN_SHARE']} of {c['COUNT']}")
    return out


def git_has(commit):
    try:
        return subprocess.run(["git", "-C", ROOT, "cat-file", "-e", commit + "^{commit}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return None


def in_git():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--git-dir"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


def check_citations(problems):
    git = in_git()
    for doc in DOCS:
        text = open(os.path.join(ROOT, doc)).read()
        for m in CITATION.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            script = m.group(1)
            # a script, or a program built from bench/NAME.c
            if not any(os.path.exists(os.path.join(ROOT, script + ext)) for ext in ("", ".c")):
                problems.append(f"{doc}:{line}: {script} does not exist")
            if git and not git_has(m.group(2)):
                problems.append(f"{doc}:{line}: commit {m.group(2)} is not in this repository's history")
    # every figure of the Benchmarks section is cited
    text = open(os.path.join(ROOT, "README.md")).read()
    m = re.search(r"^## Benchmarks\n(.*?)(?=^## )", text, re.M | re.S)
    if not m:
        return
    start = text.count("\n", 0, m.start(1)) + 1
    for i, para in enumerate(re.split(r"\n(?=- |\n)", m.group(1))):
        if FIGURE.search(para) and not CITATION.search(para):
            line = start + m.group(1)[:m.group(1).find(para)].count("\n")
            problems.append(f"README.md:{line}: a performance figure without "
                            f"(`bench/SCRIPT`, commit HASH, YYYY-MM-DD): {para.strip()[:80]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite the figures from their sources")
    ap.add_argument("--list", action="store_true", help="print every fact")
    ap.add_argument("--model", help="check the model.* figures against this bundle")
    args = ap.parse_args()

    values = facts(os.path.join(ROOT, "examples/model.json"))
    if args.model:
        values = {k: v for k, v in model_facts(args.model).items() if k not in ("model.size_mb",)}
    if args.list:
        for k, v in values.items():
            print(f"{k} = {v}")
        return 0

    problems, used = [], set()
    for doc in DOCS:
        path = os.path.join(ROOT, doc)
        text = open(path).read()

        def replace(m):
            name, quoted = m.group(1), m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            if name not in values:
                if not args.model:
                    problems.append(f"{doc}:{line}: no fact named {name}")
                return m.group(0)
            used.add(name)
            if quoted != values[name] and not args.write:
                problems.append(f"{doc}:{line}: {name} is quoted as {quoted!r}; "
                                f"{args.model or 'the source'} says {values[name]!r}")
            return f"<!-- fact {name} -->{values[name]}<!-- /fact -->"

        new = FACT.sub(replace, text)
        if args.write and new != text:
            with open(path, "w") as f:
                f.write(new)
            print(f"readme_facts: rewrote {doc}")
    if not args.model:
        check_citations(problems)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"readme_facts: {len(problems)} problem(s); scripts/readme_facts.py --write "
              f"rewrites the quoted facts from their source", file=sys.stderr)
        return 1
    if not args.write:
        print(f"readme_facts: {len(used)} facts quoted, each as {args.model or 'its source'} says"
              + ("" if args.model else "; every benchmark figure cites its script and commit"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
