"""The rabitq benchmark: load a dataset into a throwaway cluster, measure an exact sequential scan, then
for each rerank mode build the index and sweep rabitq.probes, measuring recall@10 and single-client
queries per second (pgbench -M prepared). Writes bench/results/NAME.{json,md,png}.

Usage: see bench/run.sh --help (run.sh installs packages, then runs this with /usr/bin/python3).
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

import datasets
import report
from report import THRESHOLDS
from pgcluster import Cluster

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_PROBES = "1,2,3,4,6,8,12,16,24,32,48,64,96,128,192,256,384,512"
INDEX_NAME = "base_v_idx"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", help="w2v-100, sift-128-50k, minilm-384, sift-300k, sift-full, NAME@ROWS or a folder")
    p.add_argument("--queries", type=int, default=1000, help="queries used for recall and pgbench (default 1000)")
    p.add_argument("--seconds", type=int, default=10, help="length of one pgbench measurement (default 10)")
    p.add_argument("--repeats", type=int, default=3, help="pgbench measurements per point; the median is reported")
    p.add_argument("--probes", default=DEFAULT_PROBES, help=f"rabitq.probes values to sweep (default {DEFAULT_PROBES})")
    p.add_argument("--stop-recall", type=float, default=0.999,
                   help="stop the sweep after the first probes value reaching this recall (default 0.999)")
    p.add_argument("--plateau", type=float, default=0.001,
                   help="also stop once recall is >= 0.99 and the last probes step gained less than this "
                        "(default 0.001; 0 disables)")
    p.add_argument("--rerank", default="index,heap", help="rerank modes to build and sweep (default index,heap)")
    p.add_argument("--with", dest="with_options", default="",
                   help="extra index options for WITH (...), e.g. \"lists = 300\"")
    p.add_argument("--set", dest="gucs", action="append", default=[],
                   help="extra setting NAME=VALUE for every index measurement session (repeatable)")
    p.add_argument("--seq-recall-queries", type=int, default=100,
                   help="queries used to check the exact scan's recall (default 100)")
    p.add_argument("--shared-buffers", default="4GB")
    p.add_argument("--maintenance-work-mem", default="2GB")
    p.add_argument("--maintenance-workers", type=int, default=1, help="max_parallel_maintenance_workers (default 1)")
    inst = p.add_mutually_exclusive_group()
    inst.add_argument("--bindir", help="use the server in this bindir with rulake already installed (no build)")
    inst.add_argument("--prefix", default=os.environ.get("RULAKE_PREFIX", "/var/tmp/rulake-bench-pg"),
                      help="build this checkout and install it into a private server copy here "
                           "(scripts/private-pg.sh; default $RULAKE_PREFIX or /var/tmp/rulake-bench-pg)")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="where to write NAME.md/.json/.png")
    p.add_argument("--tag", default="", help="suffix for the result file names")
    p.add_argument("--keep", action="store_true", help="keep the cluster directory afterwards")
    return p.parse_args(argv)


def server_bindir(args):
    if args.bindir:
        return args.bindir
    log(f"building rulake and installing it into {args.prefix}")
    out = subprocess.run([os.path.join(REPO, "scripts", "private-pg.sh"), args.prefix], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def loadavg():
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def environment(cluster, bindir, settings):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "simd": " ".join(f for f in ("avx2", "avx512f", "avx512_vpopcntdq") if f in flags),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "postgres": cluster.psql("SELECT version()").strip(),
        "rulake_version": cluster.psql("SELECT extversion FROM pg_extension WHERE extname = 'rulake'").strip(),
        "rulake_commit": commit + ("-dirty" if dirty else ""),
        "bindir": bindir,
        "settings": settings,
        "rabitq_settings": dict(line.split("|", 1) for line in cluster.psql(
            "LOAD 'rulake'; SELECT name, setting FROM pg_settings WHERE name LIKE 'rabitq.%' ORDER BY name"
        ).splitlines()),
    }


def load_dataset(cluster, ds):
    """Creates and fills base(id, v), queries(qid, v) and gt(qid, ids); returns load seconds."""
    base_file, query_file, gt_file = (cluster.file_path(n) for n in ("base.copy", "queries.copy", "gt.tsv"))
    datasets.write_copy_binary(base_file, ds.base)
    datasets.write_copy_binary(query_file, ds.queries)
    datasets.write_groundtruth_tsv(gt_file, ds.groundtruth)
    for f in (base_file, query_file, gt_file):
        cluster.publish(f)
    cluster.psql(f"""
        CREATE TABLE base (id int4 PRIMARY KEY, v vector({ds.dim}) NOT NULL);
        CREATE TABLE queries (qid int4 PRIMARY KEY, v vector({ds.dim}) NOT NULL);
        CREATE TABLE gt (qid int4 PRIMARY KEY, ids int4[] NOT NULL);""")
    t0 = time.time()
    cluster.psql(f"COPY base FROM '{base_file}' (FORMAT binary)")
    load_s = time.time() - t0
    cluster.psql(f"""
        COPY queries FROM '{query_file}' (FORMAT binary);
        COPY gt FROM '{gt_file}';
        VACUUM (FREEZE, ANALYZE) base, queries, gt;
        CHECKPOINT;""")
    for f in (base_file, query_file, gt_file):
        os.remove(f)
    n = int(cluster.psql("SELECT count(*) FROM base"))
    if n != ds.rows:
        raise RuntimeError(f"loaded {n} rows, expected {ds.rows}")
    return load_s


QUERY = "SELECT id FROM base ORDER BY v <-> (SELECT v FROM queries WHERE qid = {qid}) LIMIT 10"


def write_pgbench_script(cluster, nq):
    path = cluster.file_path("knn.pgbench")
    with open(path, "w") as fh:
        fh.write(f"\\set qid random(0, {nq - 1})\n{QUERY.format(qid=':qid')};\n")
    return path


def check_plan(cluster, options, expect):
    """Fails unless both the pgbench query and the recall query run with the expected scan on base."""
    plans = [cluster.psql(f"EXPLAIN (COSTS OFF) {QUERY.format(qid=0)}", options=options),
             cluster.psql("EXPLAIN (COSTS OFF) " + recall_sql(1), options=options)]
    for plan in plans:
        if expect not in plan:
            raise RuntimeError(f"expected '{expect}' in the plan, got:\n{plan}")


def recall_sql(nq):
    """Mean recall@10 over queries 0..nq-1 against the ground truth (a missing row counts as a miss)."""
    return f"""SELECT avg((SELECT count(*) FROM unnest(r.ids) AS i WHERE i = ANY (g.ids)))::float8 / 10
FROM queries q JOIN gt g USING (qid)
CROSS JOIN LATERAL (SELECT ARRAY(SELECT b.id FROM base b ORDER BY b.v <-> q.v LIMIT 10) AS ids) r
WHERE q.qid < {nq}"""


def recall(cluster, options, nq):
    return float(cluster.psql(recall_sql(nq), options=options))


def new_point(**fields):
    return dict(fields, qps_runs=[], cpu_qps_runs=[], load=[])


def measure_qps(cluster, script, seconds, options, point):
    """One pgbench run; appends wall-clock QPS, QPS per backend CPU-second and the load average."""
    point["load"].append(loadavg())
    tps, transactions, cpu = cluster.pgbench(script, seconds, options)
    point["qps_runs"].append(tps)
    point["cpu_qps_runs"].append(transactions / cpu if cpu > 0 else None)


def summarize(point):
    point["qps"] = statistics.median(point["qps_runs"])
    cpu = [q for q in point["cpu_qps_runs"] if q is not None]
    point["cpu_qps"] = statistics.median(cpu) if cpu else None


def measure_seqscan(cluster, args, script, label):
    options = []  # no vector index exists while this runs: the plan is an exact scan
    check_plan(cluster, options, "Seq Scan on base")
    run = new_point(when=label)
    for _ in range(args.repeats):
        measure_qps(cluster, script, args.seconds, options, run)
    summarize(run)
    log(f"seq scan ({label}): {run['qps']:.2f} QPS {run['qps_runs']}, per CPU-second {run['cpu_qps_runs']}")
    return run


def build_index(cluster, ds, rerank, extra_with):
    with_clause = ", ".join([f"rerank = '{rerank}'"] + ([extra_with] if extra_with else []))
    ddl = f"CREATE INDEX {INDEX_NAME} ON base USING rabitq (v vector_l2_ops) WITH ({with_clause})"
    cluster.psql("CHECKPOINT")
    log(f"{ddl}  (load {loadavg()})")
    build_s = cluster.timed(ddl)
    size = int(cluster.psql(f"SELECT pg_relation_size('{INDEX_NAME}')"))
    summary = json.loads(cluster.psql(f"SELECT rabitq_index_summary('{INDEX_NAME}')"))
    log(f"built in {build_s:.2f} s, {size / 2**20:.1f} MiB, {size / ds.rows:.1f} bytes/vector, "
        f"{summary['lists']} lists")
    return {"rerank": rerank, "ddl": ddl, "build_s": build_s, "size_bytes": size,
            "bytes_per_vector": size / ds.rows, "build_load": loadavg(), "summary": summary}


def refine_thresholds(cluster, idx, points, base_opts, nq):
    """For each recall threshold crossed between two swept probes values lo < hi, bisects the probes
    values in between (recall grows with probes) so that the first probes value reaching the threshold
    is a measured point of its own. Adds the measured points to `points`, kept sorted by probes."""
    for threshold in THRESHOLDS:
        ordered = sorted(points, key=lambda p: p["probes"])
        hit = next((i for i, p in enumerate(ordered) if p["recall"] >= threshold), None)
        if not hit:  # not reached, or reached at the first value already
            continue
        lo, hi = ordered[hit - 1]["probes"], ordered[hit]["probes"]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            t0 = time.time()
            r = recall(cluster, base_opts + [f"rabitq.probes={mid}"], nq)
            points.append(new_point(probes=mid, recall=r, recall_run_s=time.time() - t0, refined=True))
            log(f"rerank={idx['rerank']} probes={mid}: recall@10 {r:.4f} (refining {threshold})")
            if r >= threshold:
                hi = mid
            else:
                lo = mid
    points.sort(key=lambda p: p["probes"])


def sweep(cluster, args, script, nq, idx):
    """Recall for each probes value (until --stop-recall, a plateau or every list probed), bisection
    towards the first values reaching THRESHOLDS, the default probes, then QPS rounds over all those
    points (rounds rather than back-to-back repeats, so slow drifts of machine load spread evenly)."""
    base_opts = ["enable_seqscan=off"] + args.gucs
    check_plan(cluster, base_opts + ["rabitq.probes=1"], f"Index Scan using {INDEX_NAME} on base")
    cluster.psql(f"SELECT pg_prewarm('{INDEX_NAME}'); SELECT pg_prewarm('base');")
    points = []
    idx["sweep_end"] = "end of the probes list"
    lists = idx["summary"]["lists"]
    for probes in [int(x) for x in args.probes.split(",")]:
        probes = min(probes, lists)  # a larger value means the same as probing every list
        if points and probes <= points[-1]["probes"]:
            break
        opts = base_opts + [f"rabitq.probes={probes}"]
        t0 = time.time()
        try:
            r = recall(cluster, opts, nq)
        except RuntimeError as e:
            if not points:
                raise
            # Reported, not hidden: e.g. a probes value above what the index accepts.
            idx["sweep_end"] = f"probes={probes} failed: {str(e).splitlines()[0]}"
            log(idx["sweep_end"])
            break
        points.append(new_point(probes=probes, recall=r, recall_run_s=time.time() - t0))
        log(f"rerank={idx['rerank']} probes={probes}: recall@10 {r:.4f} ({time.time() - t0:.1f} s)")
        if r >= args.stop_recall:
            idx["sweep_end"] = f"recall reached {args.stop_recall}"
            break
        if (len(points) >= 2 and r >= 0.99 and args.plateau > 0
                and r - points[-2]["recall"] < args.plateau):
            idx["sweep_end"] = f"recall plateau (gain below {args.plateau} at recall >= 0.99)"
            break
        if probes >= lists:
            idx["sweep_end"] = f"every list probed ({lists} lists)"
            break
    refine_thresholds(cluster, idx, points, base_opts, nq)
    # rabitq.probes = 0: the index's own default.
    t0 = time.time()
    default = new_point(probes=0, recall=recall(cluster, base_opts + ["rabitq.probes=0"], nq),
                        recall_run_s=time.time() - t0)
    log(f"rerank={idx['rerank']} default probes: recall@10 {default['recall']:.4f}")
    for _ in range(args.repeats):
        for pt in points + [default]:
            measure_qps(cluster, script, args.seconds, base_opts + [f"rabitq.probes={pt['probes']}"], pt)
    for pt in points + [default]:
        summarize(pt)
        log(f"rerank={idx['rerank']} probes={pt['probes']}: recall {pt['recall']:.4f}  {pt['qps']:.1f} QPS "
            f"{pt['qps_runs']}, per CPU-second {pt['cpu_qps']}")
    idx["points"] = points
    idx["default_point"] = default


def main(argv):
    # Stop cleanly (cluster shut down and removed) on SIGTERM, and on SIGINT even when started in the
    # background by a shell that ignores it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = parse_args(argv)
    ds = datasets.load(args.dataset, args.queries)
    nq = ds.queries.shape[0]
    log(f"{ds.name}: {ds.rows} x {ds.dim}, {nq} queries ({ds.gt_note})")
    bindir = server_bindir(args)
    settings = {
        "shared_buffers": args.shared_buffers,
        "maintenance_work_mem": args.maintenance_work_mem,
        "max_parallel_maintenance_workers": args.maintenance_workers,
        "max_parallel_workers_per_gather": 0,
        "jit": "off",
        "work_mem": "64MB",
        "effective_cache_size": "8GB",
        "max_wal_size": "20GB",
        "checkpoint_timeout": "1h",
        "synchronous_commit": "off",
        "autovacuum": "off",
    }
    cluster = Cluster(bindir, settings, keep=args.keep)
    result = {"dataset": ds.name, "source": ds.source, "rows": ds.rows, "dim": ds.dim, "queries": nq,
              "gt_note": ds.gt_note, "pgbench": {"seconds": args.seconds, "repeats": args.repeats,
                                                 "query": QUERY.format(qid=":qid")},
              "gucs": args.gucs, "extra_with": args.with_options, "uptime_start": uptime()}
    try:
        cluster.start()
        cluster.psql("CREATE EXTENSION rulake; CREATE EXTENSION pg_prewarm;")
        result["environment"] = environment(cluster, bindir, settings)
        result["load_s"] = load_dataset(cluster, ds)
        result["table_bytes"] = int(cluster.psql("SELECT pg_table_size('base')"))
        log(f"loaded {ds.rows} rows in {result['load_s']:.1f} s")
        script = write_pgbench_script(cluster, nq)
        cluster.psql("SELECT pg_prewarm('base')")
        seq_nq = min(args.seq_recall_queries, nq)
        result["seqscan"] = {"recall": recall(cluster, [], seq_nq), "recall_queries": seq_nq, "runs": []}
        result["seqscan"]["runs"].append(measure_seqscan(cluster, args, script, "start"))
        result["indexes"] = []
        for rerank in [r.strip() for r in args.rerank.split(",") if r.strip()]:
            idx = build_index(cluster, ds, rerank, args.with_options)
            result["indexes"].append(idx)
            sweep(cluster, args, script, nq, idx)
            cluster.psql(f"DROP INDEX {INDEX_NAME}")
        result["seqscan"]["runs"].append(measure_seqscan(cluster, args, script, "end"))
        seq = result["seqscan"]
        for key in ("qps_runs", "cpu_qps_runs", "load"):
            seq[key] = [x for run in seq["runs"] for x in run[key]]
        summarize(seq)
        result["uptime_end"] = uptime()
    finally:
        cluster.stop()
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, ds.name.replace("/", "_") + (f"-{args.tag}" if args.tag else ""))
    with open(stem + ".json", "w") as fh:
        json.dump(result, fh, indent=1)
    md = report.write(stem)
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
