# WAL of the rabitq index: a streaming standby replays the build (log_newpage_range), inserts that
# append to and extend lists (Generic WAL) and vacuum, and ends up with the same pages as the primary
# (same rabitq_index_checksum) and the same query results. After a crash, the primary recovers the index
# from WAL, and an unlogged table's index is reset to its (empty, working) init fork. An index whose
# rotation check does not match the rotation this build regenerates is refused.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "jit = off\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION rulake');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $rows = q{SELECT i, (SELECT array_agg(sin(i * 0.13 + j * 0.7)) FROM generate_series(1, 24) j)::vector(24)};
$primary->safe_psql('postgres', qq{
	CREATE TABLE t (id int, v vector(24));
	INSERT INTO t $rows FROM generate_series(1, 3000) i;
	CREATE INDEX t_heap ON t USING rabitq (v) WITH (lists = 6);
	CREATE INDEX t_index ON t USING rabitq (v vector_cosine_ops) WITH (lists = 4, rerank = 'index');
	-- inserts fill tail pages and chain new ones
	INSERT INTO t $rows FROM generate_series(3001, 6000) i;
	DELETE FROM t WHERE id % 3 = 0;
	VACUUM t;
	INSERT INTO t $rows FROM generate_series(6001, 6500) i;
});
$primary->wait_for_catchup($standby);

my $checksums = q{SELECT rabitq_index_checksum('t_heap') || ' ' || rabitq_index_checksum('t_index')};
my $primary_sums = $primary->safe_psql('postgres', $checksums);
is($standby->safe_psql('postgres', $checksums), $primary_sums, 'standby pages equal the primary pages');

my $query = q{
	SET enable_seqscan = off;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 4321) LIMIT 5) a
	UNION ALL
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <=> (SELECT v FROM t WHERE id = 101) LIMIT 5) b};
my $primary_rows = $primary->safe_psql('postgres', $query);
like($primary_rows, qr/^4321,/, 'primary: the row itself is nearest');
is($standby->safe_psql('postgres', $query), $primary_rows, 'standby scans return the primary results');
is($primary->safe_psql('postgres', q{SELECT rabitq_index_summary('t_heap')->>'tuples'}),
	$primary->safe_psql('postgres', 'SELECT count(*) FROM t'), 'index counts the live rows');

# Crash: WAL replay restores the index; an unlogged table's index comes back empty and usable.
$primary->safe_psql('postgres', qq{
	CREATE UNLOGGED TABLE u (id int, v vector(24));
	INSERT INTO u $rows FROM generate_series(1, 500) i;
	CREATE INDEX u_idx ON u USING rabitq (v) WITH (lists = 2);
	INSERT INTO t $rows FROM generate_series(6501, 6600) i;
});
my $before_crash = $primary->safe_psql('postgres', $checksums);
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $checksums), $before_crash, 'crash recovery restores the index pages');
is($primary->safe_psql('postgres', $query), $primary_rows, 'scans after recovery return the same rows');
is($primary->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM u ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 10) s}),
	'0', 'unlogged table: empty after the crash, its index scans');
is($primary->safe_psql('postgres', qq{
	INSERT INTO u $rows FROM generate_series(1, 50) i;
	SET enable_seqscan = off;
	SELECT id FROM u ORDER BY v <-> (SELECT v FROM t WHERE id = 7) LIMIT 1}),
	'7', 'unlogged table: inserts after the crash are found');

# The rotation is regenerated from the seed: an index whose recorded rotation check does not match what
# this build regenerates is refused (here the check in the metapage is overwritten on disk).
my $path = $primary->data_dir . '/' . $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('t_heap')});
$standby->stop;
$primary->stop;
open(my $fh, '+<:raw', $path) or die "cannot open $path: $!";
seek($fh, 24 + 72, 0) or die;
print $fh pack('f<', 1234.5);
close($fh);
$primary->start;
my ($ret, $stdout, $stderr) = $primary->psql('postgres', q{
	SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 7) LIMIT 1});
isnt($ret, 0, 'an index with another rotation is refused');
like($stderr, qr/index "t_heap" was built with a different rotation than this build of rulake generates/,
	'the error names the index and the cause');
like($stderr, qr/HINT:  REINDEX the index/, 'and says how to fix it');
is($primary->safe_psql('postgres', q{
	REINDEX INDEX t_heap;
	SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 7) LIMIT 1}), '7', 'REINDEX repairs it');

$primary->stop;
done_testing();
