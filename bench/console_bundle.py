#!/usr/bin/env python3
"""The web console's bundle size: builds web/ (npm run build) and, in the same run, a minimal
React 18 app with the same Vite setup (web/bench/baseline, the baseline), then reports each
emitted file's bytes raw and gzip-compressed, and the console's JavaScript as a ratio of the
baseline's. Writes bench/results/console_bundle.{json,md}.

Usage: bench/console_bundle.py [--results-dir DIR]   (needs web/node_modules: make web)"""
import argparse
import gzip
import pathlib
import subprocess
import sys

from bench_common import SOURCE_DIR, add_results_dir_arg, machine, write_results

WEB = SOURCE_DIR / "web"


def build(args):
    subprocess.run(["npx", "vite", "build", "--logLevel", "warn", *args], cwd=WEB, check=True,
                   timeout=600)


def sizes(dist):
    rows = []
    for path in sorted(dist.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            rows.append({"file": str(path.relative_to(dist)), "raw": len(data),
                         "gzip": len(gzip.compress(data, compresslevel=9))})
    return rows


def total(rows, suffix):
    picked = [r for r in rows if r["file"].endswith(suffix)]
    return {"raw": sum(r["raw"] for r in picked), "gzip": sum(r["gzip"] for r in picked)}


def kib(n):
    return f"{n / 1024:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_results_dir_arg(ap)
    args = ap.parse_args()
    if not (WEB / "node_modules").is_dir():
        sys.exit("web/node_modules is missing: run `make web` first")
    build([])
    build(["--config", "bench/vite.baseline.config.ts"])
    console, baseline = sizes(WEB / "dist"), sizes(WEB / "dist-baseline")
    js, base_js = total(console, ".js"), total(baseline, ".js")
    css = total(console, ".css")
    ratio = {k: round(js[k] / base_js[k], 2) for k in ("raw", "gzip")}
    data = {"machine": machine(), "console": console, "baseline": baseline,
            "console_js": js, "console_css": css, "baseline_js": base_js,
            "ratio_js": ratio}
    lines = [
        "# Web console bundle size",
        "",
        f"{data['machine']['when']}: `bench/console_bundle.py` builds web/ (Vite, production) and, "
        "in the same run, a minimal React 18 app with the same Vite setup "
        "(web/bench/baseline: `createRoot(...).render(<h1>)`) as the baseline. "
        "gzip: Python's gzip at level 9.",
        "",
        "| what | JavaScript raw KiB | JavaScript gzip KiB | CSS raw KiB | CSS gzip KiB |",
        "|---|---|---|---|---|",
        f"| console (web/dist) | {kib(js['raw'])} | {kib(js['gzip'])} | {kib(css['raw'])} | "
        f"{kib(css['gzip'])} |",
        f"| baseline (minimal React app) | {kib(base_js['raw'])} | {kib(base_js['gzip'])} | - | - |",
        f"| ratio console / baseline | {ratio['raw']} | {ratio['gzip']} | | |",
        "",
        "Every file of the console's build:",
        "",
        "| file | raw bytes | gzip bytes |",
        "|---|---|---|",
        *[f"| {r['file']} | {r['raw']} | {r['gzip']} |" for r in console],
        "",
    ]
    write_results("console_bundle", data, "\n".join(lines), out=args.results_dir)


if __name__ == "__main__":
    main()
