# ruLake across two clusters that share a directory:
#   * publish_bundle on one cluster -> refresh_from_bundle_dir on the other: 'up_to_date' while both
#     caches hold the same witness, 'invalidated' once the file changed and the first cluster
#     published its new cache, 'bundle_missing' for a directory without a bundle;
#   * save_cache on one cluster -> warm_from_dir on the other, whose backend holds none of the data
#     (an empty table): the same search results, the cache installed from the file;
#   * a saved directory whose payload was replaced by another cache's (same dimension, seed, rerank
#     factor and size) is refused; a save interrupted between payload and sidecar leaves the previous
#     pair, which still installs the previous rows; a completed save removes the previous payload.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy;

my $shared = PostgreSQL::Test::Utils::tempdir;
mkdir "$shared/data" or die "mkdir: $!";
copy("$ENV{RULAKE_ROOT}/test/fixtures/sample.ruvec1", "$shared/data/sample.ruvec1") or die "copy: $!";

my @nodes;
for my $name ('lake_a', 'lake_b') {
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "rulake.allowed_dirs = '$shared'\nmax_connections = 10\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION rulake');
	push @nodes, $node;
}
my ($node_a, $node_b) = @nodes;

# ---- bundles: publish on A, compare on B ----------------------------------------------------------
for my $node ($node_a, $node_b) {
	$node->safe_psql('postgres', qq{
		SELECT rulake.create_backend('files', 'fs', '{"root": "$shared/data"}');
		SELECT rulake.create_collection('sample', 'files', 'sample.ruvec1');
	});
	is($node->safe_psql('postgres', "SELECT rulake.refresh('sample')"), 'primed', $node->name . ': primed from the file');
}
my $witness_a = $node_a->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'sample'");
is($node_a->safe_psql('postgres', "SELECT rulake.publish_bundle('sample', '$shared/bundle')"), $witness_a,
	'A publishes the witness of its cache');
is($node_b->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'sample'"), $witness_a,
	'B computed the same witness from the same file');
is($node_b->safe_psql('postgres', "SELECT rulake.refresh_from_bundle_dir('sample', '$shared/bundle')"), 'up_to_date',
	'B: same witness as the published bundle');
is($node_b->safe_psql('postgres', "SELECT rulake.refresh_from_bundle_dir('sample', '$shared/nothing')"), 'bundle_missing',
	'B: a directory without a bundle');

# The file changes: one more vector (id 5000), a new modification time.
sub write_ruvec1_with_extra {
	my ($path) = @_;
	open(my $in, '<:raw', $path) or die "open $path: $!";
	local $/;
	my $bytes = <$in>;
	close $in;
	my ($count, $dim) = unpack('x8 Q< L<', $bytes);
	my $records = substr($bytes, 24);
	$records .= pack('Q< f<*', 5000, (0.25) x $dim);
	open(my $out, '>:raw', "$path.new") or die "write: $!";
	print $out 'ruvec1' . "\0\0" . pack('Q< L< L<', $count + 1, $dim, 0) . $records;
	close $out;
	rename("$path.new", $path) or die "rename: $!";
	my $later = time() + 120;   # a generation that surely differs from the first one
	utime($later, $later, $path) or die "utime: $!";
}
write_ruvec1_with_extra("$shared/data/sample.ruvec1");

my $query = "'[0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25]'";
is($node_a->safe_psql('postgres', "SELECT id FROM rulake.search('sample', $query, 1)"), '5000',
	'A: a fresh search sees the changed file');
my $witness_a2 = $node_a->safe_psql('postgres', "SELECT rulake.publish_bundle('sample', '$shared/bundle')");
isnt($witness_a2, $witness_a, 'A publishes a new witness');
is($node_b->safe_psql('postgres', "SELECT rulake.refresh_from_bundle_dir('sample', '$shared/bundle')"), 'invalidated',
	'B: the published bundle is newer than its cache');
is($node_b->safe_psql('postgres', "SELECT witness IS NULL FROM rulake.collections WHERE name = 'sample'"), 't',
	'B: the stale cache is dropped');
is($node_b->safe_psql('postgres', "SELECT id FROM rulake.search('sample', $query, 1)"), '5000',
	'B: the next search loads the new file');
is($node_b->safe_psql('postgres', "SELECT rulake.refresh_from_bundle_dir('sample', '$shared/bundle')"), 'up_to_date',
	'B: now holds the published witness');
is($node_b->safe_psql('postgres', "SELECT invalidations FROM rulake.collection_stats WHERE collection = 'sample'"), '1',
	'B counted the invalidation');

# ---- warm restart: save on A, install on B without touching B's backend -----------------------------
# VALUES rows (id, vector(16)) for ids 1 .. 2000, component d of row i being $component->(i, d).
sub vector_rows {
	my ($component) = @_;
	return join(",\n", map {
		my $i = $_;
		"($i, '[" . join(',', map { sprintf('%.4f', $component->($i, $_)) } 1 .. 16) . "]')"
	} 1 .. 2000);
}
my $rows = vector_rows(sub { sin($_[0] * 0.7 + $_[1]) });
$node_a->safe_psql('postgres', qq{
	CREATE TABLE items (id bigint, embedding vector(16));
	INSERT INTO items VALUES $rows;
	SELECT rulake.create_backend('db', 'local');
	SELECT rulake.create_collection('items', 'db', 'items');
});
$node_b->safe_psql('postgres', qq{
	CREATE TABLE items (id bigint, embedding vector(16));
	SELECT rulake.create_backend('db', 'local');
	SELECT rulake.create_collection('items', 'db', 'items', consistency => 'frozen');
});
my $queries = "SELECT q, s.id, round(s.distance::numeric, 6) FROM generate_series(1, 20) q,
	LATERAL rulake.search('items',
	  ARRAY(SELECT round(cos(q * 1.3 + d)::numeric, 3) FROM generate_series(1, 16) d)::real[]::vector, 10) s
	ORDER BY 1, 3, 2";
my $results_a = $node_a->safe_psql('postgres', $queries);
is($node_a->safe_psql('postgres', "SELECT rulake.save_cache('items', '$shared/saved')"), '2000', 'A saved 2000 rows');
my $witness_items = $node_a->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'items'");
my $payload_w1 = 'cache-' . substr($witness_items, 0, 16) . '.rbpx';
ok(-f "$shared/saved/$payload_w1" && -f "$shared/saved/table.rulake.json", 'the payload, named after the witness, and its sidecar are there');

is($node_b->safe_psql('postgres', 'SELECT count(*) FROM items'), '0', "B's backend holds none of the data");
is($node_b->safe_psql('postgres', "SELECT rulake.warm_from_dir('items', '$shared/saved')"), '2000', 'B installed 2000 rows');
is($node_b->safe_psql('postgres', "SELECT e.origin FROM rulake.cache_entries e JOIN rulake.collections c USING (cache_relation)
	WHERE c.name = 'items'"), 'warm', "B's cache came from the file");
is($node_b->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'items'"),
	$node_a->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'items'"), 'same witness on both');
my $results_b = $node_b->safe_psql('postgres', $queries);
is($results_b, $results_a, 'B answers 20 queries exactly as A');
is(scalar(split /\n/, $results_b), 200, '200 result rows compared');
is($node_b->safe_psql('postgres', "SELECT warm_installs FROM rulake.collection_stats WHERE collection = 'items'"), '1',
	'B counted the warm install');

# The saved cache survives a restart of B (cache relations are ordinary tables).
$node_b->restart;
is($node_b->safe_psql('postgres', $queries), $results_a, 'B answers the same after a restart');

# ---- payloads that are not the sidecar's ------------------------------------------------------------
# Copies every file of directory $from into directory $to (created if needed), keeping the names.
sub copy_files {
	my ($from, $to) = @_;
	mkdir $to unless -d $to;
	for my $file (glob("$from/*")) {
		my ($name) = $file =~ m{([^/]+)$};
		copy($file, "$to/$name") or die "copy $file: $!";
	}
}

# Another cache with the same dimension, seed, rerank factor and row count: a payload of the same size.
my $other_rows = vector_rows(sub { cos($_[0] * 0.3 + $_[1]) });
$node_a->safe_psql('postgres', qq{
	CREATE TABLE others (id bigint, embedding vector(16));
	INSERT INTO others VALUES $other_rows;
	SELECT rulake.create_collection('others', 'db', 'others');
	SELECT rulake.refresh('others');
});
is($node_a->safe_psql('postgres', "SELECT rulake.save_cache('others', '$shared/others')"), '2000', 'A saved another cache');
copy_files("$shared/saved", "$shared/mixed");
my @saved_payloads = map { m{([^/]+)$} } glob("$shared/saved/*.rbpx");
my @other_payloads = map { m{([^/]+)$} } glob("$shared/others/*.rbpx");
is(scalar(@saved_payloads) . ' ' . scalar(@other_payloads), '1 1', 'one payload in each saved directory');
copy("$shared/others/$other_payloads[0]", "$shared/mixed/$saved_payloads[0]") or die "copy: $!";
is(-s "$shared/mixed/$saved_payloads[0]", -s "$shared/saved/$saved_payloads[0]", 'the replaced payload has the same size');

$node_b->safe_psql('postgres', "SELECT rulake.invalidate('items')");
my ($ret, $out, $err) = $node_b->psql('postgres', "SELECT rulake.warm_from_dir('items', '$shared/mixed')");
isnt($ret, 0, 'B: warm_from_dir refuses a payload that is not the sidecar\'s');
like($err, qr/cache file ".*" does not match its bundle/, 'B: ... as data corruption');
is($node_b->safe_psql('postgres', "SELECT witness IS NULL FROM rulake.collections WHERE name = 'items'"), 't',
	'B: nothing was installed');

# A save of a newer cache into the same directory stops after the payload (simulated: the payload of a
# complete save elsewhere is copied in, the sidecar is not).
$node_a->safe_psql('postgres', "INSERT INTO items VALUES (90001, '[" . join(',', (0.5) x 16) . "]')");
is($node_a->safe_psql('postgres', "SELECT count(*) FROM rulake.search('items', '[" . join(',', (0.5) x 16) . "]', 1) WHERE id = 90001"),
	'1', 'A: the cache holds the new row');
is($node_a->safe_psql('postgres', "SELECT rulake.save_cache('items', '$shared/next')"), '2001', 'A saved the newer cache elsewhere');
for my $name (map { m{([^/]+)$} } glob("$shared/next/*.rbpx")) {
	copy("$shared/next/$name", "$shared/saved/$name") or die "copy: $!";
}
is($node_b->safe_psql('postgres', "SELECT rulake.warm_from_dir('items', '$shared/saved')"), '2000',
	'B: the interrupted directory still installs the previous cache');
is($node_b->safe_psql('postgres', $queries), $results_a, 'B: ... with the previous rows');

# A completed save replaces the pair and removes the previous payload.
is($node_a->safe_psql('postgres', "SELECT rulake.save_cache('items', '$shared/saved')"), '2001', 'A saved the newer cache');
my $witness_items2 = $node_a->safe_psql('postgres', "SELECT witness FROM rulake.collections WHERE name = 'items'");
is(join(' ', sort map { m{([^/]+)$} } glob("$shared/saved/*")),
	'cache-' . substr($witness_items2, 0, 16) . '.rbpx table.rulake.json', 'only the new payload and its sidecar remain');
is($node_b->safe_psql('postgres', "SELECT rulake.warm_from_dir('items', '$shared/saved')"), '2001', 'B installs the newer cache');

$_->stop for @nodes;
done_testing();
