#!/usr/bin/env python3
"""Run SQL on a current ClickHouse engine, in process, through chDB.

Used by TestSQLOnCurrentClickHouse (connectors/sink/current_clickhouse_test.go)
to check the sink's migrations and queries on a current release on machines
without Docker. Needs only chdb (pip install chdb==4.4.0).

Input on stdin, one JSON document:

    {"statements": ["CREATE ...", "INSERT ..."],
     "queries": [{"name": "...", "sql": "SELECT ..."}]}

The statements run in order in one chDB session on a temporary on-disk
directory, removed at exit; then each query runs in the same session.
Output on stdout, one JSON document:

    {"versions": "<SELECT version()>", "chdb": "<chdb.__version__>",
     "results": {"<name>": {"columns": [{"name": ..., "type": ...}],
                            "rows": [[...], ...]}}}

Values are as ClickHouse's JSONCompact format writes them. On an SQL error
the script writes the failing statement's index (from 0) or the query's
name, the error and the SQL on stderr and exits 1; on bad input it exits 2.
"""

import json
import sys
import tempfile

try:
    import chdb
    from chdb import session as chdb_session
except ImportError as e:
    sys.exit(f"current_clickhouse.py: {e}; install it with: pip install chdb==4.4.0")


def fail(what, sql, err):
    print(f"{what} failed: {err}\n--- SQL:\n{sql}", file=sys.stderr)
    sys.exit(1)


def select(sess, sql):
    """Runs a query and returns its columns and rows."""
    out = sess.query(sql, "JSONCompact").bytes()
    doc = json.loads(out) if out.strip() else {"meta": [], "data": []}
    return {"columns": doc["meta"], "rows": doc["data"]}


def main():
    try:
        doc = json.load(sys.stdin)
        statements = doc.get("statements", [])
        queries = doc.get("queries", [])
        if not all(isinstance(s, str) for s in statements):
            raise ValueError("statements must be strings")
        if not all(isinstance(q.get("name"), str) and isinstance(q.get("sql"), str)
                   for q in queries):
            raise ValueError("every query needs a string name and sql")
    except (ValueError, AttributeError) as e:
        print(f"reading the input: {e}", file=sys.stderr)
        sys.exit(2)

    with tempfile.TemporaryDirectory(prefix="tallymarks-chdb-") as path:
        sess = chdb_session.Session(path)
        try:
            for i, sql in enumerate(statements):
                try:
                    sess.query(sql)
                except Exception as e:  # chdb raises ChdbError or RuntimeError
                    fail(f"statement {i}", sql, e)

            version = select(sess, "SELECT version()")["rows"][0][0]
            results = {}
            for q in queries:
                try:
                    results[q["name"]] = select(sess, q["sql"])
                except Exception as e:
                    fail(f"query {q['name']!r}", q["sql"], e)
        finally:
            sess.close()

    out = {"versions": version, "chdb": chdb.__version__, "results": results}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
