#!/usr/bin/env python3
"""Whole-process benchmarks of the real rollcheck binary, side by side with yamllint,
kubernetes-validate and checkov (installed from PyPI into a scratch virtualenv), on the same
generated `helm template` streams. Prints a Markdown table for BENCHMARKS.md.

    python3 benches/compare.py            # rollcheck, and libyaml (PyYAML's CSafeLoader) loading the same bytes
    python3 benches/compare.py --peers    # also the peer tools on the 1,000-app stream
    python3 benches/compare.py --units    # a repository of 50 charts and 50 overlays, rendered
    python3 benches/compare.py --before BIN   # also another rollcheck binary (an older build), side by side

Each command runs `--runs` times; the table shows the median wall time, the peak resident
memory of that run (from /usr/bin/time, or getrusage), and ratios measured in this run.
"""

import argparse
import concurrent.futures
import os
import shutil
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench-data"
VENV = ROOT / "target" / "bench-venv"
BIN = ROOT / "target" / "release" / "rollcheck"


def run(cmd, runs, stdin=None):
    """Median and fastest wall seconds and the peak RSS (MiB) over `runs` runs of `cmd`."""
    walls, peaks = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        with open(stdin or os.devnull, "rb") as input_:
            proc = subprocess.run(cmd, stdin=input_, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(map(str, cmd))} exited with {proc.returncode}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peaks.append(max(after, before) / 1024)
    return statistics.median(walls), min(walls), max(peaks)


def peak_rss(cmd, stdin=None):
    """Peak RSS of one run in MiB, measured by GNU time (getrusage keeps the maximum so far)."""
    with open(stdin or os.devnull, "rb") as input_:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, cmd)], stdin=input_, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(out.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


# Loads every document of a stream with libyaml's C parser, the way PyYAML's fastest loader does.
LIBYAML_LOAD = """
import sys, yaml
with open(sys.argv[1], 'rb') as f:
    n = sum(1 for _ in yaml.load_all(f, Loader=yaml.CSafeLoader))
print(n)
"""


def ensure_venv(packages):
    """A scratch virtualenv with `packages` from PyPI; returns its python."""
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", *packages], check=True)
    python = VENV / "bin" / "python"
    if "pyyaml" in packages:
        check = subprocess.run([python, "-c", "import yaml; assert yaml.__with_libyaml__"], check=False)
        if check.returncode != 0:
            sys.exit("PyYAML was installed without libyaml: the comparison needs its C loader")
    return python


def units_repository(tools):
    """50 charts and 50 kustomize overlays (copies of the test fixtures' shop chart and web
    overlay, renamed), under target/bench-data/units/."""
    repo = DATA / "units"
    if (repo / "ready").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    fixture = ROOT / "tests" / "fixtures" / "repos" / "gitops"
    for i in range(50):
        chart = repo / "charts" / f"shop-{i}"
        shutil.copytree(fixture / "charts" / "shop", chart)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: shop-{i}\nversion: 1.0.{i}\n")
        app = repo / "apps" / f"web-{i}"
        shutil.copytree(fixture / "kustomize" / "web" / "base", app / "base")
        shutil.copytree(fixture / "kustomize" / "web" / "overlays" / "prod", app / "overlays" / "prod")
    (repo / "ready").write_text("")
    return repo


def unit_commands(repo, tools):
    charts = sorted((repo / "charts").iterdir())
    overlays = sorted((repo / "apps").glob("*/overlays/prod"))
    return [[tools / "helm", "template", "release-name", c] for c in charts] + [[tools / "kubectl", "kustomize", o] for o in overlays]


def renderers_alone(commands):
    """The renders alone, as many at a time as there are cores (as rollcheck runs them)."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        for proc in pool.map(lambda c: subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), commands):
            if proc.returncode != 0:
                sys.exit(f"{proc.args} failed")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", action="store_true", help="install and run yamllint, kubernetes-validate, checkov")
    ap.add_argument("--units", action="store_true", help="only the repository of 50 charts and 50 overlays")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, help="an older rollcheck binary to run side by side")
    args = ap.parse_args()

    if args.units:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
        tools = Path(subprocess.run([str(ROOT.parent / "shared" / "tools" / "k8s-tools.sh"), str(ROOT / "target" / "k8s-tools")], check=True, capture_output=True, text=True).stdout.strip())
        DATA.mkdir(parents=True, exist_ok=True)
        repo = units_repository(tools)
        commands = unit_commands(repo, tools)
        alone = statistics.median(renderers_alone(commands) for _ in range(args.runs))
        env = dict(os.environ, PATH=f"{tools}:{os.environ['PATH']}")
        walls = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([BIN, "--no-config", "--format", "json", "."], cwd=repo, env=env, stdout=subprocess.DEVNULL, check=False)
            walls.append(time.perf_counter() - start)
        whole = statistics.median(walls)
        print(f"machine: {os.cpu_count()} cores; runs per command: {args.runs} (median); {len(commands)} units")
        print()
        print("| command | wall (s) | ratio |")
        print("|---|---:|---|")
        print(f"| helm template and kubectl kustomize alone, {len(commands)} units, {os.cpu_count()} at a time | {alone:.3f} |  |")
        print(f"| rollcheck on the repository (finds, renders and lints the same units) | {whole:.3f} | {whole / alone:.2f}x the renderers alone |")
        return

    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    DATA.mkdir(parents=True, exist_ok=True)
    for n in (1000, 10000):
        if not (DATA / f"apps-{n}.yaml").exists():
            subprocess.run([sys.executable, str(ROOT.parent / "shared" / "bench" / "gen_corpus.py"), str(DATA), "--sizes", str(n)], check=True)
    one_ns = DATA / "apps-10000-one-namespace.yaml"
    if not one_ns.exists():
        with open(DATA / "apps-10000.yaml") as src, open(one_ns, "w") as dst:
            for line in src:
                dst.write("  namespace: bench\n" if line.startswith("  namespace: ") else line)
    small = ROOT / "examples" / "healthy-canary" / "app.yaml"
    no_schemas = DATA / "no-schemas.yaml"
    no_schemas.write_text("rules: {schema-unknown-field: off, schema-violation: off}\n")

    rows = []

    def measure(label, cmd, runs=None, base=None, stdin=None, faster=False):
        median, fastest, _ = run(cmd, runs or args.runs, stdin)
        rss = peak_rss(cmd, stdin)
        rows.append((label, median, fastest, rss, base, faster))
        return fastest

    s1000, s10000 = DATA / "apps-1000.yaml", DATA / "apps-10000.yaml"
    rc = [BIN, "--no-config", "--format", "json"]
    python = ensure_venv(["pyyaml"])
    libyaml = [python, "-c", LIBYAML_LOAD, s10000]
    libyaml_10k = measure("libyaml (PyYAML CSafeLoader) loading the 10,000 apps, nothing else", libyaml)
    full_10k = measure("rollcheck, every rule and schema, 10,000 apps", [*rc, s10000], base=libyaml_10k, faster=True)
    if args.before:
        old = [args.before, "--no-config", "--format", "json"]
        measure("the same, the older build given with --before", [*old, s10000], base=full_10k)
        measure("the older build, 1,000 apps", [*old, s1000])
        measure("the older build, one small file", [*old, ROOT / "examples" / "healthy-canary" / "app.yaml"], runs=20)
    parse_10k = measure("rollcheck parse-only (YAML trees as manifests are read, 1 thread), 10,000 apps", [BIN, "parse-only", s10000], base=libyaml_10k, faster=True)
    measure("granit-parser's events alone (parse-only --events, 1 thread), 10,000 apps", [BIN, "parse-only", "--events", s10000], base=parse_10k)
    measure("rollcheck, 10,000 apps from stdin (spooled to a temporary file)", [*rc, "-"], base=parse_10k, stdin=s10000)
    measure("rollcheck, 10,000 apps, human report (quotes read again from the file)", [BIN, "--no-config", "--no-color", s10000], base=parse_10k)
    measure("rollcheck, schemas off, 10,000 apps", [BIN, "--format", "json", "--config", no_schemas, s10000], base=parse_10k)
    many = measure("rollcheck, 10,000 apps over many namespaces", [*rc, s10000])
    measure("rollcheck, the same 10,000 apps in one namespace", [*rc, one_ns], base=many)
    parse_1k = measure("rollcheck parse-only, 1,000 apps", [BIN, "parse-only", s1000])
    full_1k = measure("rollcheck, every rule and schema, 1,000 apps", [*rc, s1000], base=parse_1k)
    measure("rollcheck, one small file (healthy-canary, 2.6 KB)", [*rc, small], runs=20)

    if args.peers:
        ensure_venv(["yamllint", "kubernetes-validate", "checkov"])
        bin_ = VENV / "bin"
        measure("yamllint (relaxed), 1,000 apps", [bin_ / "yamllint", "-d", "relaxed", s1000], runs=1, base=full_1k)
        measure("kubernetes-validate, 1,000 apps", [bin_ / "kubernetes-validate", "--kubernetes-version", "1.33.0", s1000], runs=1, base=full_1k)
        measure("checkov (kubernetes), 1,000 apps", [bin_ / "checkov", "--quiet", "--compact", "--framework", "kubernetes", "-f", s1000], runs=1, base=full_1k)

    print(f"machine: {os.cpu_count()} cores; runs per command: {args.runs}; ratios compare the fastest runs")
    print()
    print("| command | fastest (s) | median (s) | peak RSS (MiB) | ratio |")
    print("|---|---:|---:|---:|---|")
    for label, median, fastest, rss, base, faster in rows:
        ratio = ""
        if base is not None:
            base_label = next(l for l, _, f, _, _, _ in rows if f == base)
            ratio = f"{base / fastest:.1f}x faster than {base_label}" if faster else f"{fastest / base:.2f}x {base_label}"
        print(f"| {label} | {fastest:.3f} | {median:.3f} | {rss:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
