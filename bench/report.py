"""Turns a benchmark result (NAME.json) into the markdown table NAME.md and the recall-vs-QPS plot NAME.png.

Usage: /usr/bin/python3 bench/report.py bench/results/NAME.json ...   (regenerates .md and .png)
Only measured points are reported: "first probes reaching recall R" is the smallest swept probes value
whose measured recall is >= R; nothing is interpolated.
"""
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLDS = (0.95, 0.99)


def load_peers():
    with open(os.path.join(HERE, "peers.json")) as fh:
        return json.load(fh)


def first_reaching(points, threshold):
    """The measured point with the smallest probes whose recall >= threshold, or None."""
    hits = [p for p in points if p["recall"] >= threshold]
    return min(hits, key=lambda p: p["probes"]) if hits else None


def default_probes(lists):
    """What rabitq.probes = 0 means for an index with `lists` lists: ceil(sqrt(lists)), at most lists."""
    return min(lists, math.ceil(math.sqrt(lists)))


def mib(nbytes):
    return nbytes / 2**20


def fmt_ratio(x):
    return f"{x:.1f}×" if x is not None else "n/a"


def summary_rows(res):
    """Per rerank mode and threshold: the first measured point reaching it (or None)."""
    seq = res["seqscan"]["qps"]
    rows = []
    for idx in res["indexes"]:
        for t in THRESHOLDS:
            pt = first_reaching(idx["points"], t)
            rows.append((idx["rerank"], t, pt, pt["qps"] / seq if pt else None))
    return rows


def peer_section(res, peers):
    peer = peers["datasets"].get(res["dataset"])
    if not peer:
        return ["No published peer figures for this dataset (they exist for: "
                + ", ".join(peers["datasets"]) + ")."]
    tg = peers["targets"]
    seq = res["seqscan"]["qps"]
    by = {idx["rerank"]: idx for idx in res["indexes"]}
    out = [f"Peer: {peer['peer']}, published figures. QPS figures are ratios to an exact sequential scan, "
           f"applied here to this run's sequential scan ({seq:.2f} QPS); build times were measured on other "
           "hardware, so the build comparison is indicative only.", "",
           "| metric | " + peer["peer"] + " | " + " | ".join(f"rabitq rerank={r}" for r in by) + " | target | met |",
           "|---|---:|" + "---:|" * len(by) + "---|---|"]

    def ratio_at(idx, t):
        pt = first_reaching(idx["points"], t)
        return pt["qps"] / seq if pt else None

    for t, key, factor_key in ((0.95, "qps_ratio_at_095", "qps_at_095"), (0.99, "qps_ratio_at_099", "qps_at_099")):
        pr = peer.get(key)
        ours = {r: ratio_at(i, t) for r, i in by.items()}
        best = max((v for v in ours.values() if v is not None), default=None)
        need = tg[factor_key] * pr if pr else None
        met = "n/a (peer figure not published)" if need is None else (
            "no (recall not reached)" if best is None else ("yes" if best >= need else "no"))
        peer_cell = f"{pr}× (≈{pr * seq:.0f} QPS)" if pr else "not published"
        out.append(f"| QPS at recall@10 ≥ {t}, × seq scan | {peer_cell} | "
                   + " | ".join(fmt_ratio(v) + (f" ({v * seq:.0f} QPS)" if v else "") for v in ours.values())
                   + f" | ≥ {tg[factor_key]}× peer" + (f" = {need:.0f}×" if need else "") + f" | {met} |")
    need_build = peer["build_s"] / tg["build_speedup"]
    builds = {r: i["build_s"] for r, i in by.items()}
    out.append(f"| build time (s) | {peer['build_s']} | " + " | ".join(f"{b:.2f}" for b in builds.values())
               + f" | ≤ {need_build:.2f} (5× faster) | "
               + ("yes" if all(b <= need_build for b in builds.values()) else "no") + " |")
    need_size = peer["index_mib"] * tg["heap_index_size_fraction"]
    sizes = {r: mib(i["size_bytes"]) for r, i in by.items()}
    heap_met = "n/a (no rerank=heap index)" if "heap" not in sizes else ("yes" if sizes["heap"] <= need_size else "no")
    out.append(f"| index size (MiB) | {peer['index_mib']} | " + " | ".join(f"{s:.1f}" for s in sizes.values())
               + f" | rerank=heap ≤ {need_size:.2f} (¼) | {heap_met} |")
    return out


def markdown(res, peers, png_name):
    env = res["environment"]
    seq = res["seqscan"]
    pgb = res["pgbench"]
    L = [f"# rabitq benchmark: {res['dataset']}", "",
         f"- Dataset: `{res['dataset']}` ({res['source']}): {res['rows']:,} vectors × {res['dim']} dimensions, "
         f"{res['queries']:,} queries; recall@10 against {res['gt_note']}.",
         f"- Run: {env['date']}, rulake {env['rulake_version']} at commit `{env['rulake_commit']}`, "
         f"{env['postgres'].split(' on ')[0]}.",
         f"- Machine: {env['cpu']}, {env['cpus']} CPUs ({env['simd']}), {env['memory_gib']} GiB; shared with other "
         "work, load at start/end:",
         f"  - `{res['uptime_start']}`", f"  - `{res['uptime_end']}`",
         "- Server settings: " + ", ".join(f"`{k}={v}`" for k, v in env["settings"].items()) + ".",
         f"- QPS: `pgbench -n -c 1 -j 1 -M prepared -T {pgb['seconds']}`, median of {pgb['repeats']} runs "
         "(taken in rounds over all points), each transaction a random query of the set: "
         f"`{pgb['query']}`.",
         ]
    L.append("- rabitq settings: " + ", ".join(f"`{k}={v}`" for k, v in env["rabitq_settings"].items())
             + " (`rabitq.probes` is swept).")
    if res.get("gucs"):
        L.append("- Extra index-scan settings: " + ", ".join(f"`{g}`" for g in res["gucs"]) + ".")
    L += ["", "## Build", "",
          f"Table `base`: {mib(res['table_bytes']):.1f} MiB, loaded with binary COPY in {res['load_s']:.1f} s.", "",
          "| rerank | build time (s) | index size (MiB) | bytes per vector | lists | rows per list (min/mean/max) "
          "| load avg at build | statement |",
          "|---|---:|---:|---:|---:|---|---|---|"]
    for idx in res["indexes"]:
        sm, lt = idx["summary"], idx["summary"]["list_tuples"]
        L.append(f"| {idx['rerank']} | {idx['build_s']:.2f} | {mib(idx['size_bytes']):.1f} | "
                 f"{idx['bytes_per_vector']:.1f} | {sm['lists']} | {lt['min']} / {lt['mean']:.0f} / {lt['max']} | "
                 f"{idx['build_load']} | `{idx['ddl']}` |")
    L += ["", "## Exact sequential scan", "",
          f"{seq['qps']:.2f} QPS (median of all runs; "
          + "; ".join(f"{r['when']}: {', '.join(f'{q:.2f}' for q in r['qps_runs'])} at load {r['load']}"
                      for r in seq["runs"])
          + f"). Recall@10 of the exact scan on {seq['recall_queries']} queries: {seq['recall']:.4f} "
          "(below 1 only through distance ties or float rounding in the ground truth).", ""]
    for idx in res["indexes"]:
        L += [f"## rabitq, rerank = '{idx['rerank']}'", "",
              "| rabitq.probes | recall@10 | QPS (median) | × seq scan | QPS runs | load avg per run |",
              "|---:|---:|---:|---:|---|---|"]
        for p in idx["points"] + [idx["default_point"]]:
            label = p["probes"] or f"default: 0 → {default_probes(idx['summary']['lists'])}"
            L.append(f"| {label} | {p['recall']:.4f} | {p['qps']:.1f} | {p['qps'] / seq['qps']:.1f}× | "
                     f"{', '.join(f'{q:.1f}' for q in p['qps_runs'])} | {'; '.join(p['load'])} |")
        L += ["", f"Sweep ended: {idx.get('sweep_end', '?')}.", ""]
    L += ["## First probes value reaching a recall (measured points only)", "",
          "| rerank | recall@10 ≥ | probes | measured recall | QPS | × seq scan |", "|---|---:|---:|---:|---:|---:|"]
    for rerank, t, pt, ratio in summary_rows(res):
        if pt:
            L.append(f"| {rerank} | {t} | {pt['probes']} | {pt['recall']:.4f} | {pt['qps']:.1f} | {ratio:.1f}× |")
        else:
            L.append(f"| {rerank} | {t} | not reached | | | |")
    L += ["", "## Comparison with published figures", ""] + peer_section(res, peers)
    L += ["", f"![recall vs QPS]({png_name})", ""]
    return "\n".join(L)


def plot(res, peers, png_path):
    """Recall@10 (x) vs QPS (y, log) per rerank mode, the sequential scan as a line, and the peer's
    published ratio at recall 0.95 as a point. Needs gnuplot (gnuplot-nox)."""
    seq = res["seqscan"]["qps"]
    blocks, plots = [], []
    for i, idx in enumerate(res["indexes"]):
        rows = "\n".join(f"{p['recall']} {p['qps']} {p['probes']}" for p in idx["points"])
        blocks.append(f"$d{i} << EOD\n{rows}\nEOD")
        plots.append(f"$d{i} using 1:2 with linespoints lw 2 pt 7 title \"rabitq rerank={idx['rerank']}\"")
        plots.append(f"$d{i} using 1:2:3 with labels offset 0.6,0.6 font ',8' notitle")
    plots.append(f"{seq} with lines dt 2 lw 2 lc rgb '#555555' title \"exact seq scan ({seq:.1f} QPS)\"")
    peer = peers["datasets"].get(res["dataset"])
    if peer:
        blocks.append(f"$peer << EOD\n0.95 {peer['qps_ratio_at_095'] * seq}\nEOD")
        plots.append(f"$peer using 1:2 with points pt 9 ps 2 lc rgb '#cc0000' title "
                     f"\"{peer['peer']} (published {peer['qps_ratio_at_095']}× seq scan at 0.95)\"")
    lo = min([p["recall"] for i in res["indexes"] for p in i["points"]] + [0.95])
    script = "\n".join(blocks + [
        "set terminal pngcairo size 1000,650 font ',11' noenhanced",
        f"set output '{png_path}'",
        f"set title 'rabitq on {res['dataset']} ({res['rows']:,} × {res['dim']}): recall@10 vs single-client QPS "
        "(labels: probes)'",
        "set xlabel 'recall@10'", "set ylabel 'queries per second (pgbench -M prepared, 1 client)'",
        "set logscale y", "set grid", "set key bottom left",
        f"set xrange [{max(0.0, lo - 0.02):.3f}:1.005]",
        "plot " + ", ".join(plots)])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def write(stem):
    """Reads stem.json, writes stem.md and stem.png; returns the markdown."""
    with open(stem + ".json") as fh:
        res = json.load(fh)
    peers = load_peers()
    png = stem + ".png"
    plot(res, peers, png)
    md = markdown(res, peers, os.path.basename(png))
    with open(stem + ".md", "w") as fh:
        fh.write(md)
    return md


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(write(path[:-5] if path.endswith(".json") else path))
