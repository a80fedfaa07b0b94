#!/usr/bin/env python3
"""ycsb.py ROWS ROW_BYTES OPS - the SQL script of the sqlite-ycsb trace, on
stdout, for sqlite3(1) on an in-memory database: a YCSB-like usertable of
ROWS rows of ROW_BYTES (64 KiB pages, one row a page, a page cache larger
than the table), loaded in one INSERT ... SELECT, then OPS operations of
YCSB workload A (50% read of a 1000-byte field slice, 50% update of the
whole row, Zipf(0.99) keys from zipf.py). More ops than a bounded capture
runs: the capture's time limit ends it."""
import sys
from zipf import Zipf

rows, size, ops = (int(a) for a in sys.argv[1:4])
w = sys.stdout.write
w("PRAGMA page_size=65536;\nPRAGMA cache_size=-%d;\nPRAGMA journal_mode=OFF;\n" % (rows * 80))
w("CREATE TABLE usertable(ycsb_key INTEGER PRIMARY KEY, field BLOB);\n")
w("WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
  "INSERT INTO usertable SELECT x, zeroblob(%d) FROM c;\n" % (rows - 1, size))
w("SELECT 'loaded', count(*) FROM usertable;\n")
z = Zipf(rows, seed=7)
for i in range(ops):
    k = z()
    if z.rng.random() < 0.5:
        w("SELECT length(substr(field, %d, 1000)) FROM usertable WHERE ycsb_key=%d;\n" % (1 + i * 4099 % (size - 1000), k))
    else:
        w("UPDATE usertable SET field=zeroblob(%d) WHERE ycsb_key=%d;\n" % (size, k))
