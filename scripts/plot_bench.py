#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draws make bench's plot and writes its CSV, from the bench.json the runner wrote.

    plot_bench.py DIR/bench.json [--markdown]

writes DIR/bench.png (matplotlib) and DIR/bench.csv (one row per repetition of
each figure); --markdown also prints the table for the README.
"""
import csv
import json
import os
import platform
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    with open(path) as f:
        bench = json.load(f)
    meta, figs = bench["meta"], bench["figures"]
    out = os.path.dirname(os.path.abspath(path))

    with open(os.path.join(out, "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "figure", "unit", "repetition", "value"])
        for fig in figs:
            for i, v in enumerate(fig["values"]):
                w.writerow([fig["section"], fig["name"], fig["unit"], i, v])

    def sec(name):
        return [f for f in figs if f["section"] == name]

    def bars(ax, fs, title, ylabel):
        names = [f["name"] for f in fs]
        med = [f["median"] for f in fs]
        err = [[f["median"] - f["min"] for f in fs], [f["max"] - f["median"] for f in fs]]
        ax.barh(range(len(fs)), med, xerr=err, capsize=3, color="#4c72b0")
        ax.set_yticks(range(len(fs)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(ylabel, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)

    real = sec("real FUSE ratios")
    fig, axes = plt.subplots(4 if real else 3, 2, figsize=(13, 17 if real else 13))
    calls = [f for f in sec("instructions") if f["unit"] == "insns/call"]
    if calls:
        bars(axes[2][0], calls, "instructions per op call (exact)", "insns/call")
        bars(axes[2][1], sec("instruction ratios"), "instruction ratios (exact)", "x")
        axes[2][1].axvline(1.0, color="gray", lw=0.8)
    else:
        for ax in axes[2]:
            ax.set_axis_off()
    bars(axes[0][0], sec("calls"), "ns per op call (median, min..max)", "ns/call")
    bars(axes[0][1], sec("ratios"), "ratios, each repetition side by side", "x")
    axes[0][1].axvline(1.0, color="gray", lw=0.8)
    lk = sec("lookup")
    ax = axes[1][0]
    ns = [int(f["name"].split()[0]) for f in lk]
    ax.errorbar(ns, [f["median"] for f in lk],
                yerr=[[f["median"] - f["min"] for f in lk], [f["max"] - f["median"] for f in lk]],
                marker="o", capsize=3)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_title("instance lookup by connection name", fontsize=9)
    ax.set_xlabel("attached instances", fontsize=8)
    ax.set_ylabel("ns/lookup", fontsize=8)
    bars(axes[1][1], sec("requests"), "requests per second", "req/s")
    if real:
        vs_native = [f for f in real if f["name"].endswith("/ native")]
        vs_fuse = [f for f in real if f["name"].endswith("/ FUSE")]
        bars(axes[3][0], vs_native, "real FUSE against native (each repetition)", "x")
        bars(axes[3][1], vs_fuse, "real FUSE against plain FUSE (each repetition)", "x")
        for ax in axes[3]:
            ax.axvline(1.0, color="gray", lw=0.8)
    fig.suptitle(f"make bench: kernel {meta.get('kernel')} ({meta.get('kernel_config')}), "
                 f"{meta.get('accel')}, guest CPU {meta.get('guest_cpu')} x{meta.get('guest_cpus')}; "
                 f"host {host_cpu()}", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bench.png"), dpi=90)

    if "--markdown" in sys.argv:
        print(f"Kernel {meta.get('kernel')} (`{meta.get('kernel_config')}` config), "
              f"{meta.get('accel')}, guest CPU {meta.get('guest_cpu')} x{meta.get('guest_cpus')}, "
              f"host {host_cpu()}.\n")
        print("| section | figure | median | min | max | unit |")
        print("|---|---|---:|---:|---:|---|")
        # The exact figures (instruction counts) first, then the timed ones.
        order = list(dict.fromkeys(f["section"] for f in figs))
        order.sort(key=lambda s: not s.startswith("instruction"))
        for f in sorted(figs, key=lambda f: order.index(f["section"])):
            p = 4 if f["section"].startswith("instruction") and f["unit"] == "x" else 3
            if f["unit"].startswith("insns"):
                p = 2
            print(f"| {f['section']} | {f['name']} | {f['median']:.{p}f} | {f['min']:.{p}f} | "
                  f"{f['max']:.{p}f} | {f['unit']} |")
    print(f"plot_bench: wrote {os.path.join(out, 'bench.png')} and bench.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
