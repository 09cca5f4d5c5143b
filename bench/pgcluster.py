"""A throwaway PostgreSQL cluster for one benchmark run.

The server runs as the `postgres` user (initdb refuses root) from a scratch directory, listens only on a
Unix socket inside that directory (no TCP, so it never collides with other clusters on the machine) and
is stopped and removed at the end. Clients (psql, pgbench) run as the invoking user and connect as
role `postgres` through the socket.
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def log(msg):
    print(f"[pg] {msg}", file=sys.stderr, flush=True)


def free_port(start=55400):
    """A port number no local TCP listener uses. Only names the socket file; kept distinct for clarity."""
    for port in range(start, start + 500):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


class Cluster:
    def __init__(self, bindir, settings, workdir_parent="/var/tmp", keep=False):
        self.bindir = bindir
        self.settings = settings
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="rulake-bench.", dir=workdir_parent)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.files = os.path.join(self.dir, "files")  # COPY inputs, readable by the server
        os.makedirs(self.files)
        self.port = free_port()
        self.db = "bench"
        self.running = False
        self._server_user = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._server_user = "postgres"
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files + [""]:
                    os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)

    def _as_server_user(self, argv):
        return (["runuser", "-u", self._server_user, "--"] + argv) if self._server_user else argv

    def _tool(self, name):
        return os.path.join(self.bindir, name)

    def start(self):
        subprocess.run(self._as_server_user([self._tool("initdb"), "-D", self.data, "-U", "postgres", "-E", "UTF8",
                                             "--locale=C", "--no-sync", "-A", "trust"]),
                       check=True, stdout=subprocess.DEVNULL)
        conf = dict(self.settings, port=self.port, listen_addresses="''", unix_socket_directories=f"'{self.dir}'")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as fh:
            fh.write("\n# rulake benchmark settings\n")
            for k, v in conf.items():
                fh.write(f"{k} = {v}\n")
        subprocess.run(self._as_server_user([self._tool("pg_ctl"), "-D", self.data, "-l",
                                             os.path.join(self.dir, "server.log"), "-w", "-t", "120", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.running = True
        self.psql("CREATE DATABASE bench", db="postgres")
        log(f"cluster up in {self.dir} (socket port {self.port})")

    def stop(self):
        if self.running:
            subprocess.run(self._as_server_user([self._tool("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL)
            self.running = False
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log(f"kept {self.dir}")

    def file_path(self, name):
        """A path for a COPY input file the server can read; chown'd by `publish`."""
        return os.path.join(self.files, name)

    def publish(self, path):
        if self._server_user:
            pw = pwd.getpwnam(self._server_user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def conn_args(self):
        return ["-h", self.dir, "-p", str(self.port), "-U", "postgres"]

    def psql(self, sql, db=None, options=None):
        """Runs `sql` (one or more statements) in one session; returns stdout (unaligned, tuples only).
        Raises on any SQL error. `options` is a list of GUC assignments passed through PGOPTIONS."""
        env = dict(os.environ)
        if options:
            env["PGOPTIONS"] = " ".join(f"-c {o}" for o in options)
        r = subprocess.run([self._tool("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + self.conn_args()
                           + ["-d", db or self.db], input=sql, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}\n--- statement(s):\n{sql[:2000]}")
        return r.stdout

    def timed(self, sql):
        """Runs one statement with \\timing and returns the server round-trip time in seconds."""
        out = self.psql("\\timing on\n" + sql + "\n")
        m = re.findall(r"^Time: ([0-9.]+) ms", out, flags=re.M)
        if not m:
            raise RuntimeError(f"no timing in psql output: {out}")
        return float(m[-1]) / 1000.0

    def _postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as fh:
            return int(fh.readline())

    def _client_backends(self, postmaster):
        """Pids of the postmaster's children that serve (or served) a client connection: running
        backends (process title "... [local] ...": we connect only through the Unix socket), exiting ones
        (empty command line) and exited ones not yet reaped (zombies). The long-lived auxiliary processes are not counted."""
        pids = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = _proc_stat(int(entry))
                if int(fields[1]) != postmaster:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    title = fh.read()
            except OSError:
                continue
            # An exiting process shows an empty command line before it becomes a zombie.
            if fields[0] == "Z" or not title or b"[local]" in title:
                pids.add(int(entry))
        return pids

    def _wait_for_no_clients(self, postmaster):
        """Waits until every client backend has exited and been reaped, so that the postmaster's
        reaped-children CPU counters include them."""
        deadline = time.time() + 30
        while self._client_backends(postmaster):
            if time.time() > deadline:
                raise RuntimeError("client backends did not exit")
            time.sleep(0.02)

    def _reaped_cpu_seconds(self, postmaster):
        """User + system CPU time of the postmaster's children that have exited and been reaped."""
        fields = _proc_stat(postmaster)
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    def pgbench(self, script, seconds, options=None):
        """Single-client pgbench (-c 1 -j 1 -M prepared) for `seconds`. Returns (tps, transactions,
        backend_cpu_seconds): the CPU time the server backend serving pgbench used, read from the
        postmaster's reaped-children counters before (once earlier clients are gone) and after (once
        that backend has exited); nothing else connects meanwhile, autovacuum and parallel workers are
        off. transactions / backend_cpu_seconds is a
        throughput that other load on the machine hardly disturbs. `options` are GUC assignments for
        the session (PGOPTIONS). Raises if a transaction failed."""
        env = dict(os.environ)
        if options:
            env["PGOPTIONS"] = " ".join(f"-c {o}" for o in options)
        postmaster = self._postmaster_pid()
        self._wait_for_no_clients(postmaster)  # e.g. the backend of the previous psql call
        cpu0 = self._reaped_cpu_seconds(postmaster)
        r = subprocess.run([self._tool("pgbench"), "-n", "-c", "1", "-j", "1", "-M", "prepared", "-T", str(seconds),
                            "-f", script] + self.conn_args() + [self.db], capture_output=True, text=True, env=env)
        tps = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", r.stdout, flags=re.M)
        done = re.search(r"^number of transactions actually processed: (\d+)", r.stdout, flags=re.M)
        failed = re.search(r"^number of failed transactions: (\d+)", r.stdout, flags=re.M)
        if r.returncode != 0 or not tps or not done or (failed and int(failed.group(1)) > 0):
            raise RuntimeError(f"pgbench failed (rc {r.returncode}):\n{r.stdout}\n{r.stderr}")
        self._wait_for_no_clients(postmaster)
        cpu = self._reaped_cpu_seconds(postmaster) - cpu0
        return float(tps.group(1)), int(done.group(1)), cpu


def _proc_stat(pid):
    """Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime,
    [13] cutime, [14] cstime (clock ticks)."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()
