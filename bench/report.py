"""Turns a benchmark result (NAME.json) into the markdown table NAME.md and the recall-vs-QPS plot NAME.png.

Usage: /usr/bin/python3 bench/report.py bench/results/NAME.json ...   (regenerates .md and .png)
Only measured points are reported: "first probes reaching recall R" is the smallest swept probes value
whose measured recall is >= R; nothing is interpolated.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLDS = (0.95, 0.99)  # recall levels whose first probes value is reported (and located by bisection)


def load_peers():
    with open(os.path.join(HERE, "peers.json")) as fh:
        return json.load(fh)


def first_reaching(points, threshold):
    """The measured point with the smallest probes whose recall >= threshold, or None."""
    hits = [p for p in points if p["recall"] >= threshold]
    return min(hits, key=lambda p: p["probes"]) if hits else None


def mib(nbytes):
    return nbytes / 2**20


def ratio(x, base):
    return x / base if x is not None and base else None


def fmt_ratio(x):
    return f"{x:.1f}×" if x is not None else "n/a"


def fmt_qps(x):
    return f"{x:.1f}" if x is not None else "n/a"


def peer_section(res, peers):
    peer = peers["datasets"].get(res["dataset"])
    if not peer:
        return ["No published peer figures for this dataset (they exist for: "
                + ", ".join(peers["datasets"]) + ")."]
    tg = peers["targets"]
    seq = res["seqscan"]
    by = {idx["rerank"]: idx for idx in res["indexes"]}
    out = [f"Peer: {peer['peer']}, published figures. Its QPS figures are ratios to an exact sequential scan; "
           f"here they are compared with rabitq's ratios to this run's exact scan ({seq['qps']:.2f} QPS wall "
           f"clock, {fmt_qps(seq['cpu_qps'])} per backend CPU-second). Cells give the wall-clock ratio, then the "
           "per-CPU-second ratio. Build times come from other hardware, so that comparison is indicative only.", "",
           "| metric | " + peer["peer"] + " | " + " | ".join(f"rabitq rerank={r}" for r in by) + " | target | met |",
           "|---|---:|" + "---:|" * len(by) + "---|---|"]
    for t, key, factor_key in ((0.95, "qps_ratio_at_095", "qps_at_095"), (0.99, "qps_ratio_at_099", "qps_at_099")):
        pr = peer.get(key)
        pts = {r: first_reaching(i["points"], t) for r, i in by.items()}
        wall = {r: ratio(p["qps"], seq["qps"]) if p else None for r, p in pts.items()}
        cpu = {r: ratio(p["cpu_qps"], seq["cpu_qps"]) if p else None for r, p in pts.items()}
        need = tg[factor_key] * pr if pr else None

        def verdict(values):
            best = max((v for v in values if v is not None), default=None)
            return "recall not reached" if best is None else ("yes" if best >= need else "no")
        met = ("n/a (peer figure not published)" if need is None
               else f"wall: {verdict(wall.values())}; per CPU: {verdict(cpu.values())}")
        cells = [f"{fmt_ratio(wall[r])} / {fmt_ratio(cpu[r])} (probes {pts[r]['probes']})" if pts[r] else "not reached"
                 for r in by]
        out.append(f"| QPS at recall@10 ≥ {t}, × exact scan | {f'{pr}×' if pr else 'not published'} | "
                   + " | ".join(cells) + f" | ≥ {tg[factor_key]}× peer" + (f" = {need:.0f}×" if need else "")
                   + f" | {met} |")
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
         "- rabitq settings: " + ", ".join(f"`{k}={v}`" for k, v in env["rabitq_settings"].items())
         + " (`rabitq.probes` is swept).",
         f"- QPS: `pgbench -n -c 1 -j 1 -M prepared -T {pgb['seconds']}`, median of {pgb['repeats']} runs "
         "(taken in rounds over all points), each transaction a random query of the set: "
         f"`{pgb['query']}`.",
         "- QPS/CPU: transactions per CPU-second of the server backend that ran them (from the postmaster's "
         "reaped-children CPU counters). Other load on the machine stretches wall-clock time but hardly this, "
         "so it is the steadier figure here; without contention it is close to the wall-clock QPS.",
         ]
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
          f"{seq['qps']:.2f} QPS, {fmt_qps(seq['cpu_qps'])} QPS/CPU (medians of all runs). Runs: "
          + "; ".join(f"{r['when']}: {', '.join(f'{q:.2f}' for q in r['qps_runs'])} QPS, "
                      f"{', '.join(fmt_qps(q) for q in r['cpu_qps_runs'])} QPS/CPU at load {' / '.join(r['load'])}"
                      for r in seq["runs"])
          + f". Recall@10 of the exact scan on {seq['recall_queries']} queries: {seq['recall']:.4f} "
          "(below 1 only through distance ties or float rounding in the ground truth).", ""]
    for idx in res["indexes"]:
        L += [f"## rabitq, rerank = '{idx['rerank']}'", "",
              "| rabitq.probes | recall@10 | QPS | × exact | QPS/CPU | × exact (CPU) | QPS runs | load avg per run |",
              "|---:|---:|---:|---:|---:|---:|---|---|"]
        for p in idx["points"] + [idx["default_point"]]:
            label = (f"{p['probes']}*" if p.get("refined") else p["probes"]) or "0 (the index's default)"
            L.append(f"| {label} | {p['recall']:.4f} | {p['qps']:.1f} | {fmt_ratio(ratio(p['qps'], seq['qps']))} | "
                     f"{fmt_qps(p['cpu_qps'])} | {fmt_ratio(ratio(p['cpu_qps'], seq['cpu_qps']))} | "
                     f"{', '.join(f'{q:.1f}' for q in p['qps_runs'])} | {'; '.join(p['load'])} |")
        L += ["", f"Sweep ended: {idx.get('sweep_end', '?')}. `*`: probes values added by bisection between two "
              "swept values to find the first one reaching recall " + " and ".join(map(str, THRESHOLDS)) + ".", ""]
    L += ["## First probes value reaching a recall (measured points only)", "",
          "| rerank | recall@10 ≥ | probes | measured recall | QPS | × exact | QPS/CPU | × exact (CPU) |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for idx in res["indexes"]:
        for t in THRESHOLDS:
            pt = first_reaching(idx["points"], t)
            if pt:
                L.append(f"| {idx['rerank']} | {t} | {pt['probes']} | {pt['recall']:.4f} | {pt['qps']:.1f} | "
                         f"{fmt_ratio(ratio(pt['qps'], seq['qps']))} | {fmt_qps(pt['cpu_qps'])} | "
                         f"{fmt_ratio(ratio(pt['cpu_qps'], seq['cpu_qps']))} |")
            else:
                L.append(f"| {idx['rerank']} | {t} | not reached | | | | | |")
    L += ["", "## Comparison with published figures", ""] + peer_section(res, peers)
    L += ["", f"![recall vs QPS]({png_name})", ""]
    return "\n".join(L)


def plot(res, peers, png_path):
    """Recall@10 (x) vs QPS (y, log) per rerank mode: wall-clock QPS solid, QPS per backend CPU-second
    dashed; the exact scan as horizontal lines; the peer's published ratio at recall 0.95 applied to this
    run's exact scan as a point. Needs gnuplot (gnuplot-nox)."""
    seq = res["seqscan"]
    colors = ["#7b2cbf", "#2a9d8f", "#e76f51", "#264653"]
    blocks, plots = [], []
    for i, idx in enumerate(res["indexes"]):
        c = colors[i % len(colors)]
        rows = "\n".join(f"{p['recall']} {p['qps']} {p['cpu_qps'] or 'NaN'} {p['probes']}" for p in idx["points"])
        blocks.append(f"$d{i} << EOD\n{rows}\nEOD")
        plots.append(f"$d{i} using 1:2 with linespoints lw 2 pt 7 lc rgb '{c}' title \"rerank={idx['rerank']} QPS\"")
        plots.append(f"$d{i} using 1:2:4 with labels offset 0.6,0.6 font ',8' notitle")
        plots.append(f"$d{i} using 1:3 with linespoints dt 2 lw 1 pt 6 lc rgb '{c}' "
                     f"title \"rerank={idx['rerank']} QPS/CPU\"")
    plots.append(f"{seq['qps']} with lines dt 1 lw 2 lc rgb '#555555' title \"exact scan ({seq['qps']:.1f} QPS)\"")
    if seq["cpu_qps"]:
        plots.append(f"{seq['cpu_qps']} with lines dt 2 lw 1 lc rgb '#555555' "
                     f"title \"exact scan ({seq['cpu_qps']:.1f} QPS/CPU)\"")
    peer = peers["datasets"].get(res["dataset"])
    if peer:
        blocks.append(f"$peer << EOD\n0.95 {peer['qps_ratio_at_095'] * seq['qps']}\nEOD")
        plots.append(f"$peer using 1:2 with points pt 9 ps 2 lc rgb '#cc0000' title "
                     f"\"{peer['peer']}: published {peer['qps_ratio_at_095']}× exact scan at 0.95\"")
    lo = min([p["recall"] for i in res["indexes"] for p in i["points"]] + [0.95])
    script = "\n".join(blocks + [
        "set terminal pngcairo size 1000,650 font ',11' noenhanced",
        f"set output '{png_path}'",
        f"set title 'rabitq on {res['dataset']} ({res['rows']:,} × {res['dim']}): recall@10 vs single-client QPS "
        "(labels: probes)'",
        "set xlabel 'recall@10'", "set ylabel 'queries per second (pgbench -M prepared, 1 client)'",
        "set logscale y", "set grid", "set key bottom left font ',9'",
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
