# The TAP harness itself: a PostgreSQL::Test::Cluster node loads rulake, the C++ / Postgres error
# boundary behaves as in the regression test (texts, SQLSTATEs, no C++ object left alive), and the
# extension still works after the postmaster is killed with SIGKILL and the node recovers.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('harness');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION rulake');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'rulake'"),
	'0.1.0', 'extension created');

# Uncaught errors reach the client with their text, detail and SQLSTATE.
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT rulake.boundary_selftest('core_error')");
isnt($ret, 0, 'core error fails the statement');
like($stderr, qr/ERROR:  22000: boundary self-test: core error/, 'core error: text and SQLSTATE 22000');
like($stderr, qr/DETAIL:  raised by the core, caught by the entry guard/, 'core error: detail');

($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT rulake.boundary_selftest('pg_error')");
isnt($ret, 0, 'postgres error fails the statement');
like($stderr, qr/ERROR:  22012: boundary self-test: postgres error/,
	'postgres error under pg_call: text and SQLSTATE 22012 unchanged');

# Within one session: errors caught in PL/pgSQL keep their SQLSTATE, and the probe objects that
# were alive when they were raised have all been destroyed.
my $session = <<'SQL';
CREATE FUNCTION pg_temp.outcome(kind text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  state text;
  message text;
BEGIN
  PERFORM rulake.boundary_selftest(kind);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
  RETURN state || ' ' || message;
END $$;
SELECT pg_temp.outcome('core_error');
SELECT pg_temp.outcome('pg_error');
SELECT count(*) FROM generate_series(1, 100) i, LATERAL pg_temp.outcome('pg_error');
SELECT rulake.boundary_selftest('live');
SQL
is( $node->safe_psql('postgres', $session),
	"22000 boundary self-test: core error\n22012 boundary self-test: postgres error\n100\n0",
	'caught errors keep their SQLSTATE; live probe count is 0 after 102 errors');

# Data committed before the crash must survive it.
$node->safe_psql('postgres', 'CREATE TABLE before_crash AS SELECT 42 AS answer');

# Kill the postmaster with SIGKILL. Its children notice and exit; wait for them so that the
# restart does not find the old shared memory still attached.
my @pids = split /\n/, $node->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity');
push @pids, $node->{_pid};
$node->kill9;
for (my $waited = 0; grep({ kill(0, $_) } @pids) && $waited < $PostgreSQL::Test::Utils::timeout_default * 10; $waited++)
{
	usleep(100_000);
}
ok(!grep({ kill(0, $_) } @pids), 'postmaster and all its children are gone after SIGKILL');

$node->start;
ok($node->log_contains('database system was interrupted|was not properly shut down'),
	'restart ran crash recovery');
is($node->safe_psql('postgres', 'SELECT answer FROM before_crash'), '42', 'committed data survived');
is($node->safe_psql('postgres', "SELECT rulake.boundary_selftest('live')"), '0',
	'extension loads and answers after the crash');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT rulake.boundary_selftest('core_error')");
like($stderr, qr/ERROR:  22000: boundary self-test: core error/, 'boundary still maps errors after the crash');

$node->stop;
done_testing();
