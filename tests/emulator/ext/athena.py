"""Amazon Athena queries that run, as Athena runs them.

moto 5.2.5 keeps Athena's workgroups, databases and query executions, but
never runs a query: every execution goes QUEUED -> RUNNING -> SUCCEEDED on
successive GetQueryExecution calls and GetQueryResults returns rows queued by
hand (``/moto-api/static/athena/query-results``) or none, without paging.
gateaudit's Athena engine (``trail scan --engine athena``) must be tested
against a service whose answers follow from the data, so here:

* ``StartQueryExecution`` needs an output location (the call's
  ``ResultConfiguration`` or the workgroup's; the workgroup's wins when it
  enforces its configuration) and answers ``InvalidRequestException``
  otherwise, as Athena does.  The query runs on a thread of its own:
  ``QUEUED`` until the thread starts, ``RUNNING`` while it runs, then
  ``SUCCEEDED`` or ``FAILED`` (``StateChangeReason`` and ``AthenaError``).
* ``CREATE DATABASE`` is moto's; ``CREATE EXTERNAL TABLE`` (the statement
  ``gateaudit trail athena-ddl`` prints) is parsed and kept in the catalog:
  columns, partition keys, ``LOCATION`` and ``TBLPROPERTIES`` with partition
  projection (``enum`` and ``date`` types, ``storage.location.template``).
  A table in a database that does not exist, or a second table of the same
  name without ``IF NOT EXISTS``, fails the query.
* ``SELECT`` (Trino dialect, Athena engine 3) is transpiled with sqlglot to
  duckdb and run by duckdb over the table's data as Athena reads it: the S3
  objects (moto's, in whichever account owns the bucket) under the location
  template whose partition values the projection allows (enum values; dates
  from the range's start to ``NOW`` by the emulator clock), gzip files
  decompressed (Hadoop's TextInputFormat does so by extension), one row per
  line, fields split at ``\\001`` as the DDL's ROW FORMAT says, and the
  pseudo-column ``$path`` (``s3://bucket/key``).  Partitions are pruned as
  Athena prunes them: a file is read only if some SELECT's simple predicates
  on partition keys (``=``, ``IN``, ``BETWEEN`` literals, ANDed) accept it,
  so damage outside the queried days does not fail the query.  A table that does not
  exist fails with Athena's ``TABLE_NOT_FOUND``; SQL that does not parse or
  run fails with the engine's message.  ``DataScannedInBytes`` is the size of
  the objects read.
* The result is written to the output location as ``<id>.csv`` (every value
  quoted, NULL as an empty field, a header row), as Athena does; an output
  bucket that does not exist fails the query.
* ``GetQueryResults`` answers ``InvalidRequestException`` until the query
  has succeeded, pages with ``MaxResults`` (1..1000, default 1000) and an
  opaque ``NextToken``; the first page's first row is the header (the column
  names), values are ``VarCharValue`` strings and NULL is a datum without
  one; ``ResultSetMetadata.ColumnInfo`` gives Athena's type names.
* ``GetTableMetadata`` answers from that catalog: the table's columns and
  partition keys with their declared types and its parameters (the
  ``TBLPROPERTIES`` with ``location``, the formats and ``EXTERNAL``), and
  Athena's ``MetadataException`` (Glue's ``EntityNotFoundException``) for a
  catalog, database or table that does not exist.
* ``StopQueryExecution`` cancels a query that is queued or running (state
  ``CANCELLED``); a finished query is left as it is.

``POST /_emulator/athena {"min_running_ms": N}`` makes every later query run
for at least N ms (Athena's queries take seconds; a test uses this to act
while one is running); ``GET /_emulator/athena`` lists the executions with
their states.  Not emulated: query result reuse, prepared statements and
parameters, capacity reservations, and IAM/Lake Formation permissions on the
table's data.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import gzip
import io
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import clock

LOCK = threading.Lock()
#: (account, region) -> {(database, table): Table}
CATALOG: dict[tuple[str, str], dict[tuple[str, str], "Table"]] = {}
#: query execution id -> Run
RUNS: dict[str, "Run"] = {}
SETTINGS: dict[str, Any] = {"min_running_ms": 0}

MAX_PAGE = 1000


class QueryFailed(Exception):
    """A query that ends FAILED: ``error_type`` is Athena's error name, the message its reason."""

    def __init__(self, error_type: str, message: str, category: int = 2):
        super().__init__(message)
        self.error_type = error_type
        self.category = category


@dataclass
class Table:
    database: str
    name: str
    columns: list[str]
    partitions: list[str]
    location: str
    properties: dict[str, str]
    #: column or partition key -> its declared type, as the DDL gives it
    types: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)


@dataclass
class Run:
    id: str
    account: str
    region: str
    workgroup: str
    database: str | None
    query: str
    output: str
    state: str = "QUEUED"
    reason: str | None = None
    error: QueryFailed | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    scanned: int = 0
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    has_header: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)

    def statement_type(self) -> str:
        head = self.query.lstrip().split(None, 1)[0].upper() if self.query.strip() else ""
        return "DDL" if head in ("ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW") else "DML"


def _literal(text: str) -> str:
    """A Hive/SQL single-quoted literal's value (quotes doubled or backslash-escaped)."""
    body = text[1:-1]
    return re.sub(r"\\(.)|''", lambda m: m.group(1) if m.group(1) else "'", body)


_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?"
    r"(?:`?(?P<db>\w+)`?\s*\.\s*)?`?(?P<table>\w+)`?\s*\((?P<columns>.*?)\)\s*"
    r"(?:PARTITIONED\s+BY\s*\((?P<partitions>.*?)\)\s*)?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN = re.compile(r"`?(\w+)`?\s+(\w+)")
_LOCATION = re.compile(r"\bLOCATION\s+('(?:[^'\\]|\\.|'')*')", re.IGNORECASE)
_PROPERTY = re.compile(r"('(?:[^'\\]|\\.|'')*')\s*=\s*('(?:[^'\\]|\\.|'')*')")


def _create_table(run: Run, backend_databases: dict) -> None:
    m = _CREATE_TABLE.match(run.query.strip().rstrip(";"))
    if not m:
        raise QueryFailed("InvalidRequestException", "line 1:8: mismatched input: cannot parse CREATE EXTERNAL TABLE")
    database = (m.group("db") or run.database or "default").lower()
    name = m.group("table").lower()
    if ("AwsDataCatalog", database) not in backend_databases:
        raise QueryFailed("SemanticException", f"FAILED: SemanticException [Error 10072]: Database does not exist: {database}")
    declared = _COLUMN.findall(m.group("columns")) + _COLUMN.findall(m.group("partitions") or "")
    columns = [c.lower() for c, _ in _COLUMN.findall(m.group("columns"))]
    partitions = [c.lower() for c, _ in _COLUMN.findall(m.group("partitions") or "")]
    rest = m.group("rest")
    location = _LOCATION.search(rest)
    if not location:
        raise QueryFailed("InvalidRequestException", "an external table needs a LOCATION")
    properties = {}
    props = re.search(r"\bTBLPROPERTIES\s*\((.*)\)", rest, re.IGNORECASE | re.DOTALL)
    if props:
        properties = {_literal(k): _literal(v) for k, v in _PROPERTY.findall(props.group(1))}
    table = Table(database, name, columns, partitions, _literal(location.group(1)), properties,
                  types={c.lower(): t.lower() for c, t in declared})
    with LOCK:
        tables = CATALOG.setdefault((run.account, run.region), {})
        if (database, name) in tables:
            if m.group(1):
                return
            raise QueryFailed("AlreadyExistsException",
                              f"FAILED: AlreadyExistsException Table {name} already exists")
        tables[(database, name)] = table


def _split_s3(url: str) -> tuple[str, str]:
    m = re.match(r"^s3://([^/]+)/?(.*)$", url)
    if not m:
        raise QueryFailed("InvalidRequestException", f"not an S3 location: {url}")
    return m.group(1), m.group(2)


def _bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(name)


def _projection(table: Table) -> tuple[re.Pattern[str], dict[str, Any]]:
    """The key pattern of the table's location template and, per partition key, a test of its value."""
    props = table.properties
    template = props.get("storage.location.template")
    if props.get("projection.enabled", "").lower() != "true" or not template:
        # Without projection, Hive-style folders key=value under the location.
        template = table.location.rstrip("/") + "/" + "/".join(f"{p}=${{{p}}}" for p in table.partitions)
    pattern = ""
    tests: dict[str, Any] = {}
    for piece in re.split(r"(\$\{\w+\})", template):
        var = re.fullmatch(r"\$\{(\w+)\}", piece)
        if not var:
            pattern += re.escape(piece)
            continue
        key = var.group(1).lower()
        kind = props.get(f"projection.{key}.type", "")
        if kind == "enum":
            allowed = set(props.get(f"projection.{key}.values", "").split(","))
            tests[key] = allowed.__contains__
            pattern += f"(?P<{key}>[^/]+)"
        elif kind == "date":
            fmt = props.get(f"projection.{key}.format", "yyyy/MM/dd")
            py = fmt.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
            regex = re.escape(fmt).replace("yyyy", r"\d{4}").replace("MM", r"\d{2}").replace("dd", r"\d{2}")
            low, _, high = props.get(f"projection.{key}.range", ",").partition(",")

            def bound(text: str, py: str = py) -> _dt.date:
                text = text.strip()
                if text.upper() == "NOW":
                    return clock.now().date()
                return _dt.datetime.strptime(text, py).date()

            def within(value: str, py: str = py, low: str = low, high: str = high) -> bool:
                try:
                    day = _dt.datetime.strptime(value, py).date()
                    return bound(low) <= day <= bound(high)
                except ValueError:
                    return False

            tests[key] = within
            pattern += f"(?P<{key}>{regex})"
        else:
            tests[key] = lambda _v: True
            pattern += f"(?P<{key}>[^/]+)"
    # The template names a folder: every object under it (not in a deeper folder) is read.
    return re.compile("^" + pattern + r"/?[^/]+$"), tests


def _pruning(tree: Any, table: Table) -> Any:
    """Athena's partition pruning: a test of a file's partition values that is false when no SELECT of the
    query that reads the table itself could read it, from the simple predicates on partition keys (``=``,
    ``IN``, ``BETWEEN`` on literals) joined by AND in its WHERE. Such a SELECT without them reads every
    projected partition."""
    from sqlglot import exp

    def conjuncts(node: Any) -> list[Any]:
        if isinstance(node, exp.And):
            return conjuncts(node.left) + conjuncts(node.right)
        if isinstance(node, exp.Paren):
            return conjuncts(node.this)
        return [node]

    def literal(node: Any) -> str | None:
        return node.this if isinstance(node, exp.Literal) and node.is_string else None

    def reads_table(select: Any) -> bool:
        return any(t.name.lower() == table.name and (t.db or table.database).lower() == table.database
                   and t.find_ancestor(exp.Select) is select for t in select.find_all(exp.Table))

    branches = []
    for select in tree.find_all(exp.Select):
        if not reads_table(select):
            continue  # reads a CTE or subquery, whose own SELECT is pruned
        where = select.args.get("where")
        tests = []
        for c in conjuncts(where.this) if where else []:
            column = c.this if isinstance(c, (exp.Between, exp.In, exp.EQ)) else None
            if not isinstance(column, exp.Column) or column.name.lower() not in table.partitions:
                continue
            key = column.name.lower()
            if isinstance(c, exp.Between):
                low, high = literal(c.args.get("low")), literal(c.args.get("high"))
                if low is not None and high is not None:
                    tests.append(lambda v, k=key, lo=low, hi=high: lo <= v[k] <= hi)
            elif isinstance(c, exp.In):
                values = [literal(e) for e in c.expressions]
                if values and None not in values:
                    tests.append(lambda v, k=key, vs=frozenset(values): v[k] in vs)
            elif isinstance(c, exp.EQ):
                value = literal(c.expression)
                if value is not None:
                    tests.append(lambda v, k=key, x=value: v[k] == x)
        branches.append(tests)
    if not branches or any(not tests for tests in branches):
        return lambda _values: True
    return lambda values: any(all(t(values) for t in tests) for tests in branches)


def _load(con: Any, table: Table, wanted: Any) -> int:
    """Creates the duckdb table of ``table`` and fills it from the S3 objects of the partitions ``wanted``
    accepts; returns the bytes scanned."""
    bucket_name, _ = _split_s3(table.location)
    bucket = _bucket(bucket_name)
    if bucket is None:
        raise QueryFailed("HIVE_CANNOT_OPEN_SPLIT", f"HIVE_CANNOT_OPEN_SPLIT: The specified bucket does not exist: {bucket_name}")
    pattern, tests = _projection(table)
    columns = table.columns + table.partitions
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.database}"')
    cols = ", ".join(f'"{c}" VARCHAR' for c in columns)
    con.execute(f'CREATE TABLE "{table.database}"."{table.name}" ({cols}, "$path" VARCHAR)')
    scanned = 0
    rows = []
    for key_name in sorted(list(bucket.keys.keys())):
        url = f"s3://{bucket_name}/{key_name}"
        m = pattern.match(url)
        if not m:
            continue
        values = {k: m.group(k) for k in tests}
        if not all(test(values[k]) for k, test in tests.items()) or not wanted(values):
            continue
        obj = bucket.keys.get(key_name)
        data = getattr(obj, "value", None)
        if data is None:
            continue
        scanned += len(data)
        if key_name.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as err:
                raise QueryFailed("HIVE_CURSOR_ERROR", f"HIVE_CURSOR_ERROR: {err} ({url})", 1) from err
        text = data.decode("utf-8", errors="replace")
        for line in text.split("\n"):
            if not line:
                continue
            fields = line.split("\x01")
            fields += [None] * (len(table.columns) - len(fields))
            rows.append(fields[: len(table.columns)] + [values.get(p) for p in table.partitions] + [url])
    if rows:
        marks = ", ".join("?" for _ in range(len(columns) + 1))
        con.executemany(f'INSERT INTO "{table.database}"."{table.name}" VALUES ({marks})', rows)
    return scanned


_TYPES = {"VARCHAR": "varchar", "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double",
          "BOOLEAN": "boolean", "TIMESTAMP": "timestamp", "DATE": "date", "JSON": "json"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _select(run: Run) -> None:
    import duckdb
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(run.query, read="trino")
        sql = tree.sql(dialect="duckdb")
    except sqlglot.errors.ParseError as err:
        raise QueryFailed("SYNTAX_ERROR", f"SYNTAX_ERROR: {err}") from err
    with LOCK:
        tables = dict(CATALOG.get((run.account, run.region), {}))
    con = duckdb.connect()
    try:
        seen = set()
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for ref in tree.find_all(exp.Table):
            if not ref.db and ref.name.lower() in ctes:
                continue  # a WITH query's name, not a table
            database = (ref.db or run.database or "default").lower()
            key = (database, ref.name.lower())
            if key in seen:
                continue
            seen.add(key)
            table = tables.get(key)
            if table is None:
                raise QueryFailed("TABLE_NOT_FOUND", f"TABLE_NOT_FOUND: line 1:1: Table "
                                  f"'awsdatacatalog.{key[0]}.{key[1]}' does not exist")
            run.scanned += _load(con, table, _pruning(tree, table))
        if run.cancel.is_set():
            return
        try:
            cursor = con.execute(sql)
        except duckdb.Error as err:
            raise QueryFailed("GENERIC_USER_ERROR", f"GENERIC_USER_ERROR: {err}") from err
        run.columns = [(d[0], _TYPES.get(str(d[1]).split("(")[0].upper(), "varchar"))
                       for d in cursor.description or []]
        run.rows = [[_text(v) for v in row] for row in cursor.fetchall()]
        run.has_header = True
    finally:
        con.close()


def _write_output(run: Run) -> None:
    bucket_name, key = _split_s3(run.output)
    bucket = _bucket(bucket_name)
    if bucket is None:
        raise QueryFailed("PERMISSION_ERROR", f"Unable to verify/create output bucket {bucket_name}", 1)
    out = io.StringIO()
    if run.has_header:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([c for c, _ in run.columns])
        for row in run.rows:
            out.write(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n")
    from moto.s3.models import s3_backends

    partition, account = s3_backends.bucket_accounts[bucket_name]
    s3_backends[account][partition].put_object(bucket_name, key, out.getvalue().encode("utf-8"))


def _execute(run: Run, databases: dict, process_ddl: Any) -> None:
    with LOCK:
        if run.state != "QUEUED":
            return
        run.state = "RUNNING"
    started = time.time()
    try:
        head = run.query.lstrip().split(None, 2)
        words = [w.upper() for w in head[:2]]
        if words[:1] == ["SELECT"] or words[:1] == ["WITH"]:
            _select(run)
        elif words == ["CREATE", "EXTERNAL"]:
            _create_table(run, databases)
        elif words[:1] in (["CREATE"], ["DROP"]) and len(words) > 1 and words[1] in ("DATABASE", "SCHEMA"):
            process_ddl(run.query, {"Database": run.database} if run.database else None)
        else:
            raise QueryFailed("NOT_SUPPORTED", f"NOT_SUPPORTED: the emulator does not run {' '.join(words)}")
        end: tuple[str, str | None, QueryFailed | None] = ("SUCCEEDED", None, None)
    except QueryFailed as err:
        end = ("FAILED", str(err), err)
    except Exception as err:  # noqa: BLE001 - an engine failure is a FAILED query, as in Athena
        end = ("FAILED", f"INTERNAL_ERROR_QUERY_ENGINE: {err}", QueryFailed("INTERNAL_ERROR_QUERY_ENGINE", str(err), 3))
    # A query takes at least the configured time to end, however it ends; it can be stopped meanwhile.
    wait = SETTINGS["min_running_ms"] / 1000 - (time.time() - started)
    if wait > 0:
        run.cancel.wait(wait)
    if end[0] == "SUCCEEDED" and not run.cancel.is_set():
        try:
            _write_output(run)
        except QueryFailed as err:
            end = ("FAILED", str(err), err)
    with LOCK:
        if not run.cancel.is_set():
            run.state, run.reason, run.error = end
            run.completed = time.time()


def _output_location(backend: Any, workgroup: str, config: dict | None) -> str | None:
    wg = backend.work_groups.get(workgroup)
    wg_config = (wg.configuration if wg else {}) or {}
    wg_location = (wg_config.get("ResultConfiguration") or {}).get("OutputLocation")
    own = (config or {}).get("OutputLocation")
    if wg_config.get("EnforceWorkGroupConfiguration", True) and wg_location:
        return wg_location
    return own or wg_location


def _page_token(run_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{run_id}:{offset}".encode()).decode()


def _read_token(run_id: str, token: str) -> int | None:
    try:
        owner, offset = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
        return int(offset) if owner == run_id and int(offset) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def state() -> dict[str, Any]:
    with LOCK:
        return {"settings": dict(SETTINGS),
                "executions": [{"id": r.id, "account": r.account, "region": r.region, "workgroup": r.workgroup,
                                "state": r.state, "reason": r.reason, "query": r.query,
                                "dataScannedInBytes": r.scanned, "rows": len(r.rows)}
                               for r in RUNS.values()]}


def configure(params: dict[str, Any]) -> dict[str, Any]:
    if "min_running_ms" in params:
        value = params["min_running_ms"]
        if not isinstance(value, int) or value < 0:
            raise ValueError("min_running_ms must be a non-negative integer")
        SETTINGS["min_running_ms"] = value
    return state()


def install() -> None:
    from moto.athena.models import AthenaBackend, Execution
    from moto.athena.responses import AthenaResponse

    def error(code: str, message: str) -> tuple[str, dict[str, int]]:
        import json

        return json.dumps({"__type": code, "Message": message}), {"status": 400}

    def start_query_execution(self: AthenaResponse) -> Any:
        import json

        query = self._get_param("QueryString") or ""
        context = self._get_param("QueryExecutionContext") or {}
        config = self._get_param("ResultConfiguration")
        workgroup = self._get_param("WorkGroup") or "primary"
        backend: AthenaBackend = self.athena_backend
        if workgroup not in backend.work_groups:
            return error("InvalidRequestException", f"WorkGroup {workgroup} is not found.")
        if backend.work_groups[workgroup].state != "ENABLED":
            return error("InvalidRequestException", f"WorkGroup {workgroup} is disabled.")
        if not query.strip():
            return error("InvalidRequestException", "QueryString must not be empty")
        output = _output_location(backend, workgroup, config)
        if not output:
            return error("InvalidRequestException",
                         "No output location provided. An output location is required either through the "
                         "Workgroup result configuration setting or as an API input.")
        execution = Execution(query=query, context=context, config={"OutputLocation": output},
                              workgroup=backend.work_groups[workgroup], execution_parameters=None)
        backend.executions[execution.id] = execution
        run = Run(id=execution.id, account=backend.account_id, region=backend.region_name, workgroup=workgroup,
                  database=(context.get("Database") or None), query=query,
                  output=output.rstrip("/") + f"/{execution.id}.csv")
        with LOCK:
            RUNS[run.id] = run
        threading.Thread(target=_execute, args=(run, backend.databases, backend._process_ddl),
                         name=f"athena-{run.id}", daemon=True).start()
        return json.dumps({"QueryExecutionId": run.id})

    def lookup(self: AthenaResponse) -> Run | None:
        run = RUNS.get(self._get_param("QueryExecutionId") or "")
        backend = self.athena_backend
        if run is None or run.account != backend.account_id or run.region != backend.region_name:
            return None
        return run

    def not_found(self: AthenaResponse) -> tuple[str, dict[str, int]]:
        return error("InvalidRequestException",
                     f"QueryExecution {self._get_param('QueryExecutionId')} was not found")

    def get_query_execution(self: AthenaResponse) -> Any:
        import json

        run = lookup(self)
        if run is None:
            return not_found(self)
        with LOCK:
            status: dict[str, Any] = {"State": run.state, "SubmissionDateTime": run.submitted}
            if run.completed is not None:
                status["CompletionDateTime"] = run.completed
            if run.reason:
                status["StateChangeReason"] = run.reason
            if run.error is not None:
                status["AthenaError"] = {"ErrorCategory": run.error.category, "ErrorType": 0,
                                         "Retryable": False, "ErrorMessage": str(run.error)}
            elapsed = int(((run.completed or time.time()) - run.submitted) * 1000)
            body = {"QueryExecution": {
                "QueryExecutionId": run.id, "Query": run.query, "StatementType": run.statement_type(),
                "ResultConfiguration": {"OutputLocation": run.output},
                "QueryExecutionContext": {"Database": run.database} if run.database else {},
                "Status": status,
                "Statistics": {"EngineExecutionTimeInMillis": elapsed, "DataScannedInBytes": run.scanned,
                               "TotalExecutionTimeInMillis": elapsed},
                "WorkGroup": run.workgroup,
                "EngineVersion": {"SelectedEngineVersion": "AUTO",
                                  "EffectiveEngineVersion": "Athena engine version 3"}}}
        return json.dumps(body)

    def get_query_results(self: AthenaResponse) -> Any:
        import json

        run = lookup(self)
        if run is None:
            return not_found(self)
        if run.state != "SUCCEEDED":
            if run.state in ("QUEUED", "RUNNING"):
                return error("InvalidRequestException", f"Query has not yet finished. Current state: {run.state}")
            return error("InvalidRequestException",
                         f"Query did not finish successfully. Final query state: {run.state}")
        limit = self._get_param("MaxResults")
        if limit is None:
            limit = MAX_PAGE
        if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            return error("InvalidRequestException",
                         f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
                         f"constraint: Member must have value less than or equal to {MAX_PAGE}")
        token = self._get_param("NextToken")
        offset = 0
        if token:
            read = _read_token(run.id, token)
            if read is None:
                return error("InvalidRequestException", "The NextToken provided is invalid")
            offset = read
        table: list[list[str | None]] = []
        if run.has_header:
            table.append([c for c, _ in run.columns])
        table.extend(run.rows)
        page = table[offset: offset + limit]
        body: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
                "ResultSetMetadata": {"ColumnInfo": [
                    {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c, "Label": c,
                     "Type": t, "Precision": 2147483647 if t == "varchar" else 19, "Scale": 0,
                     "Nullable": "UNKNOWN", "CaseSensitive": t == "varchar"} for c, t in run.columns]},
            },
        }
        if offset + limit < len(table):
            body["NextToken"] = _page_token(run.id, offset + limit)
        return json.dumps(body)

    def stop_query_execution(self: AthenaResponse) -> Any:
        import json

        run = lookup(self)
        if run is None:
            return not_found(self)
        with LOCK:
            if run.state in ("QUEUED", "RUNNING"):
                # The state is CANCELLED as soon as the call returns, whatever the worker thread is doing; the
                # worker sees the event and leaves the state alone.
                run.cancel.set()
                run.state = "CANCELLED"
                run.completed = time.time()
        return json.dumps({})

    def get_table_metadata(self: AthenaResponse) -> Any:
        import json

        catalog = self._get_param("CatalogName") or ""
        database = (self._get_param("DatabaseName") or "").lower()
        name = (self._get_param("TableName") or "").lower()
        backend = self.athena_backend
        # Athena reads the Glue catalog and passes its EntityNotFoundException on inside a MetadataException.
        entity_not_found = ("MetadataException",
                            "Entity Not Found (Service: AmazonDataCatalog; Status Code: 400; "
                            "Error Code: EntityNotFoundException)")
        if catalog != "AwsDataCatalog" or (catalog, database) not in backend.databases:
            return error(*entity_not_found)
        with LOCK:
            table = CATALOG.get((backend.account_id, backend.region_name), {}).get((database, name))
        if table is None:
            return error(*entity_not_found)
        parameters = {"EXTERNAL": "TRUE", "location": table.location,
                      "inputformat": "org.apache.hadoop.mapred.TextInputFormat",
                      "outputformat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                      "serde.serialization.lib": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                      **table.properties}

        def column(name: str) -> dict[str, str]:
            return {"Name": name, "Type": table.types.get(name, "string")}

        return json.dumps({"TableMetadata": {
            "Name": table.name, "CreateTime": table.created, "TableType": "EXTERNAL_TABLE",
            "Columns": [column(c) for c in table.columns],
            "PartitionKeys": [column(c) for c in table.partitions],
            "Parameters": parameters}})

    AthenaResponse.start_query_execution = start_query_execution
    AthenaResponse.get_table_metadata = get_table_metadata
    AthenaResponse.get_query_execution = get_query_execution
    AthenaResponse.get_query_results = get_query_results
    AthenaResponse.stop_query_execution = stop_query_execution
