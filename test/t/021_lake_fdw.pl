# A foreign table as a ruLake backend: a collection on a postgres_fdw foreign table that reads a
# second cluster. Search results match exact search on the remote cluster; a change there (with its
# version bumped, which the collection's generation_sql reads through another foreign table) is seen
# by the next search; the foreign table's privileges still apply.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = PostgreSQL::Test::Cluster->new('lake_remote');
$remote->init;
$remote->append_conf('postgresql.conf', "max_connections = 10\n");
$remote->start;
my $local = PostgreSQL::Test::Cluster->new('lake_local');
$local->init;
$local->append_conf('postgresql.conf', "max_connections = 10\n");
$local->start;

$remote->safe_psql('postgres', q{
	CREATE EXTENSION rulake;
	CREATE TABLE items (id bigint, embedding vector(8));
	INSERT INTO items SELECT i, ARRAY(SELECT round(sin(i * 0.31 + d)::numeric, 4) FROM generate_series(1, 8) d)::real[]::vector
	  FROM generate_series(1, 1500) i;
	CREATE TABLE items_version (version bigint);
	INSERT INTO items_version VALUES (1);
});

my ($host, $port) = ($remote->host, $remote->port);
$local->safe_psql('postgres', qq{
	CREATE EXTENSION rulake;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'postgres');
	CREATE USER MAPPING FOR CURRENT_USER SERVER remote;
	CREATE FOREIGN TABLE remote_items (id bigint, embedding vector(8)) SERVER remote OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE remote_items_version (version bigint) SERVER remote OPTIONS (table_name 'items_version');
	SELECT rulake.create_backend('db', 'local');
});

# A foreign table needs generation_sql: rulake cannot put a trigger on it.
my ($ret, $stdout, $stderr) = $local->psql('postgres',
	"SELECT rulake.create_collection('remote', 'db', 'remote_items')");
like($stderr, qr/a collection on "remote_items" needs generation_sql/, 'a foreign table without generation_sql is refused');
$local->safe_psql('postgres', q{
	SELECT rulake.create_collection('remote', 'db', 'remote_items',
	                                generation_sql => 'SELECT version FROM remote_items_version');
});
is($local->safe_psql('postgres', "SELECT rulake.refresh('remote')"), 'primed', 'primed through postgres_fdw');
is($local->safe_psql('postgres', "SELECT e.row_count FROM rulake.cache_entries e JOIN rulake.collections c USING (cache_relation)"),
	'1500', 'every remote row is cached');

# Search results against exact search run on the remote cluster itself.
my $query = "ARRAY(SELECT round(cos(q * 0.7 + d)::numeric, 3) FROM generate_series(1, 8) d)::real[]::vector";
my $exact = $remote->safe_psql('postgres',
	"SELECT q, e.id FROM generate_series(1, 20) q,
	   LATERAL (SELECT id FROM items ORDER BY embedding <-> $query, id LIMIT 10) e ORDER BY 1, 2");
my $found = $local->safe_psql('postgres',
	"SELECT q, s.id FROM generate_series(1, 20) q, LATERAL rulake.search('remote', $query, 10) s ORDER BY 1, 2");
my %exact = map { $_ => 1 } split /\n/, $exact;
my $hits = grep { $exact{$_} } split /\n/, $found;
cmp_ok($hits / 200, '>=', 0.95, "recall\@10 against the remote cluster's exact search: $hits/200");

# A remote change with its version bumped is seen by the next (fresh) search.
$remote->safe_psql('postgres', q{
	INSERT INTO items VALUES (99999, '[9,9,9,9,9,9,9,9]');
	UPDATE items_version SET version = 2;
});
is($local->safe_psql('postgres', "SELECT id FROM rulake.search('remote', '[9,9,9,9,9,9,9,9]', 1)"), '99999',
	'the remote insert is found after the version changed');
is($local->safe_psql('postgres', "SELECT generation FROM rulake.collections WHERE name = 'remote'"), '2',
	'the generation is the remote version');
is($local->safe_psql('postgres', "SELECT primes FROM rulake.collection_stats WHERE collection = 'remote'"), '2',
	'two primes counted');

# Reading through the cache still needs SELECT on the foreign table.
$local->safe_psql('postgres', q{
	CREATE ROLE lake_reader;
	GRANT USAGE ON SCHEMA rulake TO lake_reader;
});
($ret, $stdout, $stderr) = $local->psql('postgres',
	"SET ROLE lake_reader; SELECT * FROM rulake.search('remote', '[9,9,9,9,9,9,9,9]', 1)");
like($stderr, qr/permission denied for foreign table remote_items/, 'no SELECT on the foreign table, no search');
$local->safe_psql('postgres', 'GRANT SELECT ON remote_items, remote_items_version TO lake_reader');
# With SELECT but without a user mapping of its own, the reader could not read the foreign table itself:
# the cache (loaded through its owner's mapping) does not answer for it either.
($ret, $stdout, $stderr) = $local->psql('postgres', "SET ROLE lake_reader; SELECT count(*) FROM remote_items");
like($stderr, qr/user mapping not found/, 'the reader has no user mapping of its own');
($ret, $stdout, $stderr) = $local->psql('postgres',
	"SET ROLE lake_reader; SELECT id FROM rulake.search('remote', '[9,9,9,9,9,9,9,9]', 1)");
like($stderr, qr/collection "remote" can only be searched by its owner/,
	"a foreign table's cache holds its owner's rows and answers only its owner");
# A collection of the reader's own loads through the reader's mapping, which it lacks.
($ret, $stdout, $stderr) = $local->psql('postgres', q{
	SET ROLE lake_reader;
	SELECT rulake.create_backend('reader_db', 'local');
	SELECT rulake.create_collection('reader_remote', 'reader_db', 'public.remote_items',
	                                generation_sql => 'SELECT 1');
	SELECT * FROM rulake.search('reader_remote', '[9,9,9,9,9,9,9,9]', 1);
});
like($stderr, qr/user mapping not found/, "the reader's own collection reads through the reader's user mapping");

$local->stop;
$remote->stop;
done_testing();
