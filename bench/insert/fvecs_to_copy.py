#!/usr/bin/env python3
"""Usage: fvecs_to_copy.py FILE.fvecs ROWS > out.tsv

Writes the first ROWS vectors of an .fvecs file (per row: int32 dim, then dim float32, little
endian) as COPY text lines "id<TAB>[x,y,...]", ids from 1. Standard library only."""
import struct
import sys


def main():
    path, rows = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    with open(path, "rb") as f:
        for i in range(1, rows + 1):
            header = f.read(4)
            if len(header) < 4:
                break
            (dim,) = struct.unpack("<i", header)
            values = struct.unpack("<%df" % dim, f.read(4 * dim))
            out.write("%d\t[%s]\n" % (i, ",".join("%.9g" % x for x in values)))


if __name__ == "__main__":
    main()
