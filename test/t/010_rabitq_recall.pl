# Recall of the rabitq index at default settings on real vectors (subsets of the shared data sets):
# recall@10 against the exact top 10 of a sequential scan must be at least 0.95 for
#   * sift-128-50k, first 10000 rows, L2 (rerank from the heap and from the index's copy);
#   * w2v-100, first 5000 rows (unit-normalised), L2, inner product and cosine;
# and a filtered query (WHERE category = 3 ... LIMIT 10) must still return 10 rows, in order.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use RulakeVectors qw(read_fvecs);

my $shared = $ENV{RULAKE_SHARED};
plan skip_all => 'RULAKE_SHARED does not point at the shared data sets'
  unless defined $shared && -d "$shared/data";

# Writes rows as COPY text (id, category, vector); %.9g keeps every float32 exact.
sub write_copy_file {
	my ($path, $rows) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	for my $i (0 .. $#$rows) {
		print $fh $i, "\t", $i % 10, "\t[", join(',', map { sprintf('%.9g', $_) } @{ $rows->[$i] }), "]\n";
	}
	close($fh);
	chmod 0644, $path;
}

my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nmax_parallel_workers_per_gather = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION rulake');

my $dir = $node->basedir;
my %sets = (
	sift => { path => "$shared/data/sift-128-50k", rows => 10000, dim => 128 },
	w2v => { path => "$shared/data/w2v-100", rows => 5000, dim => 100 },
);
for my $name (sort keys %sets) {
	my $set = $sets{$name};
	write_copy_file("$dir/${name}_base.tsv", read_fvecs("$set->{path}/base.fvecs", $set->{rows}));
	write_copy_file("$dir/${name}_query.tsv", read_fvecs("$set->{path}/query.fvecs", 100));
	$node->safe_psql('postgres', qq{
		CREATE TABLE ${name} (id int, category int, v vector($set->{dim}));
		CREATE TABLE ${name}_q (id int, category int, v vector($set->{dim}));
		COPY ${name} FROM '$dir/${name}_base.tsv';
		COPY ${name}_q FROM '$dir/${name}_query.tsv';
		ANALYZE ${name};
	});
	is($node->safe_psql('postgres', "SELECT count(*) FROM $name"), $set->{rows}, "$name: rows loaded");
}

# recall@10 of the index for table $table, operator $op: the exact top 10 comes from a sequential
# scan (index scans off), the index's from the same query with sequential scans off.
sub recall_at_10 {
	my ($table, $op) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_indexscan = off;
		CREATE TEMP TABLE truth AS
			SELECT q.id, ARRAY(SELECT b.id FROM $table b ORDER BY b.v $op q.v LIMIT 10) AS ids FROM ${table}_q q;
		RESET enable_indexscan;
		SET enable_seqscan = off;
		SELECT round(sum((SELECT count(*) FROM (SELECT b.id FROM $table b ORDER BY b.v $op q.v LIMIT 10) x
		                  WHERE x.id = ANY(t.ids)))::numeric / (10 * count(*)), 3)
		FROM ${table}_q q JOIN truth t USING (id);
	});
}

# The index is used for these queries.
$node->safe_psql('postgres', 'CREATE INDEX sift_l2 ON sift USING rabitq (v)');
like($node->safe_psql('postgres', 'EXPLAIN (COSTS OFF) SELECT id FROM sift ORDER BY v <-> (SELECT v FROM sift_q LIMIT 1) LIMIT 10'),
	qr/Index Scan using sift_l2/, 'sift: planner uses the index at default settings');

my %recall;
$recall{'sift l2 heap'} = recall_at_10('sift', '<->');
$node->safe_psql('postgres', "DROP INDEX sift_l2; CREATE INDEX sift_l2_index ON sift USING rabitq (v) WITH (rerank = 'index')");
$recall{'sift l2 index'} = recall_at_10('sift', '<->');

$node->safe_psql('postgres', 'CREATE INDEX w2v_l2 ON w2v USING rabitq (v)');
$recall{'w2v l2'} = recall_at_10('w2v', '<->');
$node->safe_psql('postgres', 'DROP INDEX w2v_l2; CREATE INDEX w2v_ip ON w2v USING rabitq (v vector_ip_ops)');
$recall{'w2v ip'} = recall_at_10('w2v', '<#>');
$node->safe_psql('postgres', 'DROP INDEX w2v_ip; CREATE INDEX w2v_cos ON w2v USING rabitq (v vector_cosine_ops)');
$recall{'w2v cosine'} = recall_at_10('w2v', '<=>');

for my $case (sort keys %recall) {
	diag("recall\@10 $case: $recall{$case}");
	cmp_ok($recall{$case}, '>=', 0.95, "$case: recall\@10 >= 0.95 at default settings");
}

# A filtered query still returns 10 rows, in distance order, with the index.
like($node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM sift WHERE category = 3 ORDER BY v <-> (SELECT v FROM sift_q WHERE id = 7) LIMIT 10}),
	qr/Index Scan using sift_l2_index/, 'filtered query uses the index');
my $filtered = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*), bool_and(category = 3), count(*) = count(DISTINCT id),
	       coalesce(bool_and(d >= previous), true)
	FROM (SELECT id, category, d, lag(d) OVER (ORDER BY n) AS previous
	      FROM (SELECT id, category, v <-> (SELECT v FROM sift_q WHERE id = 7) AS d, row_number() OVER () AS n
	            FROM (SELECT * FROM sift WHERE category = 3
	                  ORDER BY v <-> (SELECT v FROM sift_q WHERE id = 7) LIMIT 10) s) numbered) checked});
is($filtered, '10|t|t|t', 'filtered query: 10 rows of category 3, distinct, in distance order');

$node->stop;
done_testing();
