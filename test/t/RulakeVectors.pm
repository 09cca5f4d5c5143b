# Helpers shared by rulake's TAP tests that load the shared vector data sets.
package RulakeVectors;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(read_fvecs);

# Reads up to $limit rows of an .fvecs file (per row: int32 dim, then dim float32, little endian).
# Returns an array reference of array references; dies on a truncated file.
sub read_fvecs {
	my ($path, $limit) = @_;
	open(my $fh, '<:raw', $path) or die "cannot open $path: $!";
	my @rows;
	while (@rows < $limit) {
		my $got = read($fh, my $header, 4);
		last if !$got;
		die "truncated header in $path" if $got != 4;
		my $dim = unpack('l<', $header);
		read($fh, my $body, 4 * $dim) == 4 * $dim or die "truncated row in $path";
		push @rows, [ unpack("f<$dim", $body) ];
	}
	close($fh);
	return \@rows;
}

1;
