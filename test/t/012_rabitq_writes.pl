# The rabitq write path under load and failure:
#   * concurrent inserting, deleting and searching clients (pgbench), then rabitq_verify finds no problem
#     and index scans return exactly the rows of a sequential scan (both rerank sources);
#   * pages emptied by VACUUM are recycled: inserts afterwards do not grow the index;
#   * kill -9 of the server during a stream of inserts: after recovery the indexes verify and index scans
#     return exactly what a sequential scan returns among the committed rows;
#   * rabitq_verify reports damaged pages, and an index of a future format version is refused clearly;
#   * pg_dump / pg_restore of a table with the index.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('writes');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\nmax_parallel_workers_per_gather = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION rulake');

# A random vector per row of an outer "generate_series(...) g" (correlated, so not computed once).
my $random_vector = q{(SELECT array_agg(random() + 0 * j) FROM generate_series(1, 16) j WHERE g > 0)::vector(16)};
my $random_query = q{(SELECT array_agg(random() + 0 * j) FROM generate_series(1, 16) j)::vector(16)};
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigserial, v vector(16));
	INSERT INTO t (v) SELECT $random_vector FROM generate_series(1, 8000) g;
	CREATE INDEX t_idx ON t USING rabitq (v) WITH (lists = 4);
	CREATE INDEX t_vec ON t USING rabitq (v) WITH (lists = 3, rerank = 'index');
});

# Top 10 ids of 20 fixed query vectors as one string; $how: 'seq', or the index to use (the other one
# is dropped inside a rolled-back transaction). Index scans probe every list with a wide error bound.
sub top_ids {
	my ($how) = @_;
	my $setup = $how eq 'seq' ? 'SET LOCAL enable_indexscan = off;'
	  : 'SET LOCAL enable_seqscan = off; DROP INDEX ' . ($how eq 't_idx' ? 't_vec' : 't_idx') . ';';
	my $result = $node->safe_psql('postgres', qq{
		BEGIN;
		SET LOCAL rabitq.probes = 100; SET LOCAL rabitq.epsilon = 8;
		$setup
		SELECT string_agg(ids, ' ' ORDER BY q) FROM (
			SELECT q, (SELECT string_agg(id::text, ',') FROM (
				SELECT id FROM t ORDER BY v <-> qv LIMIT 10) s) AS ids
			FROM (SELECT q, (SELECT array_agg(sin(q * 1.3 + j) * 0.5 + 0.5) FROM generate_series(1, 16) j)::vector(16) AS qv
			      FROM generate_series(1, 20) q) queries) r;
		ROLLBACK;});
	return $result;
}

sub check_results {
	my ($label) = @_;
	my $seq = top_ids('seq');
	is(top_ids('t_idx'), $seq, "$label: rerank = 'heap' index scans return the sequential scan's rows");
	is(top_ids('t_vec'), $seq, "$label: rerank = 'index' index scans return the sequential scan's rows");
}

# rabitq_verify on both indexes; with $vacuumed, also that the index counts exactly the table's rows.
sub verify {
	my ($label, $vacuumed) = @_;
	is($node->safe_psql('postgres', q{SELECT string_agg(p, '; ') FROM (
		SELECT * FROM rabitq_verify('t_idx') UNION ALL SELECT * FROM rabitq_verify('t_vec')) v(p)}),
		'', "$label: rabitq_verify finds no problem");
	return unless $vacuumed;
	is($node->safe_psql('postgres', q{SELECT (rabitq_index_summary('t_idx')->>'tuples')::int - count(*) FROM t}),
		'0', "$label: the index counts every row");
}

# ---- concurrent writers and readers -------------------------------------------------------------------
$node->pgbench('--no-vacuum --client=2 --transactions=200', 0, [qr/processed: 400\/400/], [qr/^$/],
	'pgbench: 2 clients inserting, deleting and searching', {
		'012_writes' => qq{INSERT INTO t (v) SELECT $random_vector FROM generate_series(1, 5) g;
DELETE FROM t WHERE id = (random() * 3000)::int;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> $random_query LIMIT 5) s;
} });
verify('after pgbench');
check_results('after pgbench');
$node->safe_psql('postgres', 'VACUUM t');
verify('after pgbench and VACUUM', 1);

# ---- vacuum recycles emptied pages ----------------------------------------------------------------------
my $deleted = $node->safe_psql('postgres', q{
	WITH d AS (DELETE FROM t WHERE id <= (SELECT max(id) / 2 FROM t) RETURNING 1) SELECT count(*) FROM d});
my ($vret, $vout, $vstats) = $node->psql('postgres', "SET client_min_messages = debug2;\nVACUUM (VERBOSE) t;");
is($vret, 0, 'VACUUM (VERBOSE) runs');
# The index's bulk delete and cleanup statistics, as VACUUM reports them.
my ($rows_left, $pages, $removed) =
  $vstats =~ /index "t_idx" now contains (\d+) row versions in (\d+) pages\n.*?(\d+) index row versions were removed/s;
my ($total, $newly_deleted, $deleted_pages) =
  $vstats =~ /index "t_idx": pages: (\d+) in total, (\d+) newly deleted, (\d+) currently deleted/;
is($rows_left, $node->safe_psql('postgres', 'SELECT count(*) FROM t'), 'vacuum stats: index row versions left');
is($pages, $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx') / 8192}), 'vacuum stats: index pages');
is($total, $pages, 'vacuum stats: pages in total');
is($removed, $deleted, "vacuum stats: $deleted index row versions removed");
cmp_ok($newly_deleted, '>', 0, "vacuum stats: $newly_deleted pages newly deleted");
is($deleted_pages, $newly_deleted, 'vacuum stats: as many pages currently deleted');
is($node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname = 't_idx'}), $rows_left,
	'vacuum stats: pg_class.reltuples of the index');
verify('after deleting half and VACUUM', 1);
check_results('after deleting half and VACUUM');
my $free = $node->safe_psql('postgres', q{SELECT rabitq_index_summary('t_idx')->'pages'->>'free'});
cmp_ok($free, '>', 0, "VACUUM freed $free pages of t_idx");
# Freed pages become reusable once no transaction older than the VACUUM runs; the next VACUUM hands
# them to the free space map.
$node->safe_psql('postgres', 'SELECT txid_current()');
$node->safe_psql('postgres', 'VACUUM t');
my $size_before = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')});
$node->safe_psql('postgres', qq{INSERT INTO t (v) SELECT $random_vector FROM generate_series(1, 500) g});
is($node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')}), $size_before,
	"500 inserts reuse freed pages: the index does not grow ($size_before bytes)");
cmp_ok($node->safe_psql('postgres', q{SELECT rabitq_index_summary('t_idx')->'pages'->>'free'}), '<', $free,
	'the inserts took free pages');
verify('after reusing freed pages', 1);
check_results('after reusing freed pages');

# ---- kill -9 during a stream of inserts --------------------------------------------------------------
my $script = $node->basedir . '/012_stream.sql';
append_to_file($script, "INSERT INTO t (v) SELECT $random_vector FROM generate_series(1, 3) g;\n");
my ($out, $err) = ('', '');
my $stream = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '--client=2', '--time=60', '-f', $script, '-h', $node->host, '-p', $node->port,
	  'postgres' ],
	'>' => \$out, '2>' => \$err);
my $start_rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
my $grown = 0;
for (1 .. 100) {
	$grown = $node->safe_psql('postgres', 'SELECT count(*) FROM t') - $start_rows;
	last if $grown >= 600;
	sleep 0.1;
}
cmp_ok($grown, '>=', 600, "inserts were streaming ($grown rows) when the server was killed");
$node->kill9;
$stream->finish;
# Orphaned backends exit once they notice the postmaster is gone; until then the restart is refused.
my $started = 0;
for (1 .. 60) {
	last if ($started = $node->start(fail_ok => 1));
	$node->{_pid} = undef;  # a failed start records the dead postmaster's pid from postmaster.pid
	sleep 1;
}
ok($started, 'the server restarts after kill -9');
verify('after kill -9 and recovery');
check_results('after kill -9 and recovery');

# ---- damage is reported -----------------------------------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE TABLE d (id int, v vector(4));
	INSERT INTO d SELECT i, ARRAY[i, i % 7, i % 11, 1] FROM generate_series(1, 3000) i;
	CREATE INDEX d_idx ON d USING rabitq (v) WITH (lists = 2);
	CREATE INDEX d_future ON d USING rabitq (v) WITH (lists = 2);
	CHECKPOINT;});
is($node->safe_psql('postgres', q{SELECT rabitq_index_summary('d_idx')->'pages'->>'data'}), '12', 'layout: 12 data pages');
my $dir = $node->data_dir;
my $idx_path = "$dir/" . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('d_idx')});
my $future_path = "$dir/" . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('d_future')});
$node->stop;
sub patch_file {
	my ($path, $offset, $bytes) = @_;
	open(my $fh, '+<:raw', $path) or die "cannot open $path: $!";
	seek($fh, $offset, 0) or die;
	print $fh $bytes;
	close($fh);
}
# List 0's chain starts at block 3 (after the meta, centroid and directory pages), list 1's after it (6
# pages each here). Block 3's `next` (first field of the special space at 8192 - 16) points back at
# itself; the record count of block 10 (list 1) is lowered. Format version (metapage offset 24 + 4) of the other index: 99.
patch_file($idx_path, 3 * 8192 + 8192 - 16, pack('L<', 3));
patch_file($idx_path, 10 * 8192 + 8192 - 8, pack('L<', 7));
patch_file($future_path, 24 + 4, pack('L<', 99));
$node->start;
my $problems = $node->safe_psql('postgres', q{SELECT string_agg(p, E'\n') FROM rabitq_verify('d_idx') p});
like($problems, qr/block 3 is reached twice \(a cyclic or shared chain\)/, 'verify reports a cyclic chain');
like($problems, qr/list 1: the directory counts \d+ records before the tail, the chain holds \d+/, 'verify reports wrong counts');
like($problems, qr/list 1 data chain: block 10 has pd_lower \d+ for 7 entries/, 'and the page whose count is off');
like($problems, qr/block \d+ is not reachable from the metapage or any list/, 'verify reports cut-off pages');
note("problems:\n$problems");
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{SELECT * FROM rabitq_verify('d_future')});
isnt($ret, 0, 'an index of a future format version is refused');
like($stderr, qr/index "d_future" has rabitq format version 99, this build reads version 1/,
	'with an error that names the version');
$node->safe_psql('postgres', 'REINDEX TABLE d');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rabitq_verify('d_idx') a, rabitq_verify('d_future') b}), '0',
	'REINDEX repairs both');

# ---- pg_dump / pg_restore ---------------------------------------------------------------------------------
my $dump = $node->basedir . '/t.dump';
command_ok([ 'pg_dump', '-Fc', '-t', 't', '-f', $dump, '-h', $node->host, '-p', $node->port, 'postgres' ],
	'pg_dump of the table with its indexes');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->safe_psql('restored', 'CREATE EXTENSION rulake');
command_ok([ 'pg_restore', '-d', 'restored', '-h', $node->host, '-p', $node->port, $dump ], 'pg_restore');
is($node->safe_psql('restored', q{SELECT string_agg(indexname || ':' || (SELECT count(*) FROM rabitq_verify(indexname::regclass)), ',' ORDER BY indexname)
	FROM pg_indexes WHERE tablename = 't'}), 't_idx:0,t_vec:0', 'restored indexes exist and verify');
my $q = q{SET enable_seqscan = off; SET rabitq.probes = 100; SET rabitq.epsilon = 8;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <-> (SELECT array_fill(0.5, ARRAY[16]))::vector(16) LIMIT 10) s};
is($node->safe_psql('restored', $q), $node->safe_psql('postgres', $q), 'restored index returns the same rows');

$node->stop;
done_testing();
