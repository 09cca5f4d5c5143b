"""Benchmark datasets: find or generate them, cut subsets, recompute exact ground truth, and write the
files the benchmark loads with COPY.

A dataset name is one of
  w2v-100, sift-128-50k, minilm-384   the sets shipped in the shared data folder
  sift-full                           the full Debian SIFT set (about 757k x 128), generated on first use
                                      into the data cache (about 7 minutes on 2 cores)
  sift-300k                           the first 300,000 rows of sift-full
  NAME@N                              the first N rows of NAME's base vectors
  /some/dir                           a folder holding base.fvecs, query.fvecs and groundtruth.ivecs
For a subset (NAME@N) the exact ground truth of the queries used is recomputed (numpy, in blocks) and
cached next to the generated data, so later runs start at once.

Environment: RULAKE_SHARED (the shared folder, default <repo>/../shared), RULAKE_DATA (the cache of
generated data, default /var/tmp/rulake-data; must not be inside the repository).
Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("RULAKE_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
DATA_CACHE = os.environ.get("RULAKE_DATA", "/var/tmp/rulake-data")
TOOLS = os.path.join(SHARED, "data", "tools")
sys.path.insert(0, TOOLS)
from vecio import knn_l2, read_fvecs, read_ivecs, write_ivecs  # noqa: E402  (shared helpers)

ALIASES = {"sift-300k": "sift-full@300000"}
SHIPPED = ("w2v-100", "sift-128-50k", "minilm-384")
SIFT_PACKAGES = ["python3-numpy", "python3-opencv", "mate-backgrounds", "ukui-wallpapers",
                 "plasma-workspace-wallpapers", "gnome-backgrounds", "tuxpaint-stamps-default"]


def log(msg):
    print(f"[data] {msg}", file=sys.stderr, flush=True)


@dataclass
class Dataset:
    """Vectors and ground truth of one benchmark case, already cut to the rows and queries used."""
    name: str
    source: str             # folder the vectors come from
    base: np.ndarray        # float32 [n, dim]
    queries: np.ndarray     # float32 [nq, dim]
    groundtruth: np.ndarray  # int32 [nq, k>=10]: 0-based rows of base, nearest first
    gt_note: str            # where the ground truth came from

    @property
    def rows(self):
        return self.base.shape[0]

    @property
    def dim(self):
        return self.base.shape[1]


def _folder_complete(d):
    return all(os.path.isfile(os.path.join(d, f)) for f in ("base.fvecs", "query.fvecs", "groundtruth.ivecs"))


def _missing_packages(packages):
    missing = []
    for p in packages:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    return missing


def generate_sift_full(target):
    """Generates the full SIFT set into `target` with the shared tool (about 7 minutes on 2 cores).
    Writes to target + '.partial' first and renames at the end, so an interrupted run never leaves a
    half-written set behind that a later run would take for complete."""
    missing = _missing_packages(SIFT_PACKAGES)
    if missing:
        if os.geteuid() != 0:
            sys.exit(f"the SIFT generator needs these packages: {' '.join(missing)} (run as root to install)")
        log(f"installing {' '.join(missing)}")
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
    partial = target + ".partial"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    log(f"generating the full SIFT set into {target} (about 7 minutes on 2 cores; log: {partial}.log)")
    t0 = time.time()
    with open(partial + ".log", "w") as fh:
        subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "make_sift_debian.py"), partial],
                       check=True, stdout=fh, stderr=subprocess.STDOUT)
    os.rename(partial, target)
    log(f"generated in {time.time() - t0:.0f} s")


def _source_folder(name):
    """The folder holding the full vectors of dataset `name` (generating sift-full if needed)."""
    if os.path.isdir(name):
        return os.path.abspath(name)
    if name in SHIPPED:
        return os.path.realpath(os.path.join(SHARED, "data", name))
    if name == "sift-full":
        d = os.path.join(DATA_CACHE, "sift-full")
        if not _folder_complete(d):
            generate_sift_full(d)
        return d
    sys.exit(f"unknown dataset '{name}' (known: {', '.join(SHIPPED + ('sift-full', 'sift-300k'))}, NAME@ROWS, "
             "or a folder with base.fvecs, query.fvecs, groundtruth.ivecs)")


def _subset_groundtruth(name, rows, base, queries):
    """Exact top-100 of `queries` among `base` (the first `rows` rows), cached in the data cache."""
    cache_dir = os.path.join(DATA_CACHE, f"{os.path.basename(name.rstrip('/'))}@{rows}")
    path = os.path.join(cache_dir, f"groundtruth-q{queries.shape[0]}.ivecs")
    if os.path.isfile(path):
        gt = read_ivecs(path)
        if gt.shape[0] == queries.shape[0]:
            return gt, f"exact top-100 recomputed for the subset (cached {path})"
    os.makedirs(cache_dir, exist_ok=True)
    log(f"computing exact ground truth of {queries.shape[0]} queries over {rows} rows")
    t0 = time.time()
    ids, _ = knn_l2(base, queries, k=min(100, rows), batch=200, log=False)
    write_ivecs(path + ".partial", ids)
    os.rename(path + ".partial", path)
    log(f"ground truth computed in {time.time() - t0:.1f} s -> {path}")
    return ids, f"exact top-100 recomputed for the subset in {time.time() - t0:.0f} s (numpy, float64 re-rank)"


def load(spec, nqueries):
    """Returns the Dataset for `spec` with at most `nqueries` queries (the first ones of query.fvecs)."""
    name = ALIASES.get(spec, spec)
    rows: Optional[int] = None
    if "@" in name:
        name, r = name.rsplit("@", 1)
        rows = int(r)
    folder = _source_folder(name)
    base = read_fvecs(os.path.join(folder, "base.fvecs"))
    queries = read_fvecs(os.path.join(folder, "query.fvecs"))[:nqueries]
    if rows is not None and rows < base.shape[0]:
        base = base[:rows]
        gt, note = _subset_groundtruth(name, rows, base, queries)
    else:
        if rows is not None:
            log(f"{name} has only {base.shape[0]} rows; using all of them")
        gt = read_ivecs(os.path.join(folder, "groundtruth.ivecs"))[:nqueries]
        note = "shipped groundtruth.ivecs"
    if gt.shape[1] < 10 or gt.shape[0] != queries.shape[0]:
        sys.exit(f"ground truth of {spec} has shape {gt.shape}, queries {queries.shape}")
    return Dataset(spec, folder, np.ascontiguousarray(base), np.ascontiguousarray(queries), gt, note)


def write_copy_binary(path, vectors, first_id=0):
    """Writes `vectors` as a PostgreSQL binary COPY file of rows (id int4, v vector), ids counting from
    `first_id`. The vector field uses the type's binary format: int16 dim, int16 unused (0), float4[dim],
    all big endian."""
    n, dim = vectors.shape
    row = np.dtype([("nfields", ">i2"), ("idlen", ">i4"), ("id", ">i4"), ("vlen", ">i4"),
                    ("dim", ">i2"), ("unused", ">i2"), ("x", ">f4", (dim,))])
    out = np.empty(n, dtype=row)
    out["nfields"] = 2
    out["idlen"] = 4
    out["id"] = np.arange(first_id, first_id + n, dtype=np.int64)
    out["vlen"] = 4 + 4 * dim
    out["dim"] = dim
    out["unused"] = 0
    out["x"] = vectors
    with open(path, "wb") as fh:
        fh.write(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        out.tofile(fh)
        fh.write((-1).to_bytes(2, "big", signed=True))


def write_groundtruth_tsv(path, gt, k=10):
    """Writes the first `k` ground-truth ids per query as COPY text rows (qid, int[])."""
    with open(path, "w") as fh:
        for q, ids in enumerate(gt[:, :k]):
            fh.write(f"{q}\t{{{','.join(map(str, ids.tolist()))}}}\n")
