"""Runs the Athena engine's generated SQL (Trino dialect) over a local copy of a CloudTrail archive: transpiled
with sqlglot (trino -> duckdb) and executed by duckdb over a table built the way the Athena DDL defines it (one
row per log file: the decompressed document in `line`, `$path`, and the account/region/log_day partitions taken
from the key). Prints the result rows as JSON Lines, every value a string or null, as Athena returns them.

Usage: run_query.py ARCHIVE_DIR QUERY_FILE DB TABLE
"""
import gzip
import json
import os
import re
import sys

import duckdb
import sqlglot

KEY = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/[^/]+$")


def main():
    archive, query_file, db, table = sys.argv[1:5]
    sql = sqlglot.transpile(open(query_file).read(), read="trino", write="duckdb")[0]
    con = duckdb.connect()
    con.execute(f'CREATE SCHEMA "{db}"')
    con.execute(f'CREATE TABLE "{db}"."{table}" (line VARCHAR, "$path" VARCHAR, account VARCHAR, '
                "region VARCHAR, log_day VARCHAR)")
    for root, _, files in os.walk(archive):
        for name in files:
            path = os.path.join(root, name)
            m = KEY.search(os.path.relpath(path, archive).replace(os.sep, "/"))
            if not m:
                continue
            with gzip.open(path, "rb") as f:
                text = f.read().decode("utf-8")
            for line in text.split("\n"):
                if line:
                    con.execute(f'INSERT INTO "{db}"."{table}" VALUES (?, ?, ?, ?, ?)',
                                [line, path, m.group(1), m.group(2), m.group(3)])
    for row in con.execute(sql).fetchall():
        print(json.dumps([None if v is None else str(v) for v in row]))


if __name__ == "__main__":
    main()
