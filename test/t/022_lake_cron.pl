# Scheduled refreshes: a pg_cron job calls rulake.refresh_all() every minute (pg_cron 1.4 schedules in
# whole minutes). The test waits until the job has primed a collection nobody searched, and checks
# that the run succeeded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('lake_cron');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 8
max_connections = 10
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION rulake;
	CREATE TABLE items (id bigint, embedding vector(4));
	INSERT INTO items SELECT i, ARRAY[i, i % 7, i % 11, 1]::real[]::vector FROM generate_series(1, 500) i;
	SELECT rulake.create_backend('db', 'local');
	SELECT rulake.create_collection('items', 'db', 'items', consistency => 'frozen');
});
is($node->safe_psql('postgres', "SELECT witness IS NULL FROM rulake.collections WHERE name = 'items'"), 't',
	'not primed before the job runs');
my $job = $node->safe_psql('postgres', "SELECT cron.schedule('rulake-refresh', '* * * * *', 'SELECT rulake.refresh_all()')");
like($job, qr/^\d+$/, 'job scheduled');

# The job runs at the start of the next minute: wait up to three.
my $primed = 0;
for (my $waited = 0; $waited < 180 * 10; $waited++) {
	if ($node->safe_psql('postgres', "SELECT witness IS NOT NULL FROM rulake.collections WHERE name = 'items'") eq 't') {
		$primed = 1;
		last;
	}
	usleep(100_000);
}
ok($primed, 'the scheduled refresh_all primed the collection');
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details WHERE jobid = $job AND status = 'succeeded'"),
	'the job run succeeded');
is($node->safe_psql('postgres', "SELECT primes, misses FROM rulake.collection_stats WHERE collection = 'items'"), '1|0',
	'one prime, counted for the collection, no search involved');
is($node->safe_psql('postgres', "SELECT count(*) FROM rulake.search('items', '[1,1,1,1]', 5)"), '5',
	'the primed cache answers');
is($node->safe_psql('postgres', "SELECT hits, misses FROM rulake.collection_stats WHERE collection = 'items'"), '1|0',
	'the search was a hit');

$node->safe_psql('postgres', "SELECT cron.unschedule($job)");
$node->stop;
done_testing();
