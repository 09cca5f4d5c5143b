#!/usr/bin/perl
# Usage: fvecs_to_copy.pl FILE.fvecs LIMIT > rows.copy
# Writes up to LIMIT rows of an .fvecs file as COPY text: "row_number<TAB>[x1,...,xd]" (row numbers
# from 0, as the data sets' ground truth counts them). %.9g keeps every float32 exact.
use strict;
use warnings;

my ($path, $limit) = @ARGV;
die "usage: $0 FILE.fvecs LIMIT\n" unless defined $limit;
open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
for (my $row = 0; $row < $limit; $row++) {
	my $got = read($fh, my $header, 4);
	last if !$got;
	die "truncated header in $path\n" if $got != 4;
	my $dim = unpack('l<', $header);
	read($fh, my $body, 4 * $dim) == 4 * $dim or die "truncated row in $path\n";
	print $row, "\t[", join(',', map { sprintf('%.9g', $_) } unpack("f<$dim", $body)), "]\n";
}
