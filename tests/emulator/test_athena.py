"""Athena in the emulator runs its queries (ext/athena.py): the table the DDL defines, read through partition
projection from S3, SELECT in Athena's dialect run over it, states on a thread, paged results, CSV output,
failures and cancellation.

Run from the repository root::

    .venv/bin/python -m unittest tests/emulator/test_athena.py -v
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_emulator as emu  # noqa: E402
from test_emulator import client, control  # noqa: E402

ACCOUNT = "900000000071"
BUCKET = "athena-archive-900000000071"
RESULTS = "athena-results-900000000071"

DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS `audit`.`trail` (
  `line` string
)
PARTITIONED BY (`account` string, `region` string, `log_day` string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001' LINES TERMINATED BY '\\n'
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://{bucket}/AWSLogs/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.account.type'='enum',
  'projection.account.values'='111111111111',
  'projection.region.type'='enum',
  'projection.region.values'='us-east-1',
  'projection.log_day.type'='date',
  'projection.log_day.format'='yyyy/MM/dd',
  'projection.log_day.range'='2026/03/01,NOW',
  'projection.log_day.interval'='1',
  'projection.log_day.interval.unit'='DAYS',
  'storage.location.template'='s3://{bucket}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{log_day}}/'
);
""".format(bucket=BUCKET)


def setUpModule() -> None:
    emu.setUpModule()
    s3 = client("s3", ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=RESULTS)

    def put(key: str, records: list[dict]) -> None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))

    base = "AWSLogs/111111111111/CloudTrail/us-east-1"
    put(f"{base}/2026/03/02/a.json.gz", [{"eventID": f"e{i}", "eventName": "PutApprovalResult"} for i in range(1500)])
    put(f"{base}/2026/03/03/b.json.gz", [{"eventID": "x", "eventName": "GetUser"}])
    # Outside the projection: another region, another account, a day before the range, a digest folder.
    put("AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/02/c.json.gz", [{"eventID": "eu"}])
    put("AWSLogs/222222222222/CloudTrail/us-east-1/2026/03/02/d.json.gz", [{"eventID": "other"}])
    put(f"{base}/2026/02/28/e.json.gz", [{"eventID": "early"}])
    put("AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/03/02/f.json.gz", [{"eventID": "digest"}])
    athena = client("athena", ACCOUNT)
    athena.create_work_group(Name="audit", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/out/"}, "EnforceWorkGroupConfiguration": True})
    athena.create_work_group(Name="nowhere", Configuration={"EnforceWorkGroupConfiguration": False})
    for sql in ("CREATE DATABASE audit", DDL):
        qid = athena.start_query_execution(QueryString=sql, WorkGroup="audit")["QueryExecutionId"]
        status = wait(athena, qid)
        assert status["State"] == "SUCCEEDED", status


def tearDownModule() -> None:
    control("athena", {"min_running_ms": 0})
    emu.tearDownModule()


def wait(athena, qid: str) -> dict:
    for _ in range(400):
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] not in ("QUEUED", "RUNNING"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"query {qid} did not end")


def run(athena, sql: str) -> tuple[str, dict]:
    qid = athena.start_query_execution(QueryString=sql, WorkGroup="audit",
                                       QueryExecutionContext={"Database": "audit"})["QueryExecutionId"]
    return qid, wait(athena, qid)


class AthenaTests(unittest.TestCase):
    def setUp(self) -> None:
        self.athena = client("athena", ACCOUNT)

    def test_a_select_reads_only_the_projected_partitions_and_pages_its_rows(self):
        sql = ('SELECT json_extract_scalar(r.record, \'$.eventID\') AS id, t.log_day AS day, t."$path" AS path '
               'FROM "audit"."trail" AS t CROSS JOIN UNNEST(CAST(json_extract(t.line, \'$.Records\') AS '
               'ARRAY(JSON))) AS r(record) ORDER BY day, id')
        qid, status = run(self.athena, sql)
        self.assertEqual(status["State"], "SUCCEEDED", status)
        rows, token, pages = [], None, 0
        while True:
            kwargs = {"QueryExecutionId": qid, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = self.athena.get_query_results(**kwargs)
            pages += 1
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(rows[0], ["id", "day", "path"], "the first page's first row is the header")
        ids = {r[0] for r in rows[1:]}
        self.assertEqual(len(rows) - 1, 1501)
        self.assertEqual(ids, {f"e{i}" for i in range(1500)} | {"x"}, "other regions, accounts, days excluded")
        self.assertTrue(rows[1][2].startswith(f"s3://{BUCKET}/AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/"))
        meta = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        self.assertEqual([c["Name"] for c in meta], ["id", "day", "path"])
        q = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        self.assertGreater(q["Statistics"]["DataScannedInBytes"], 0)
        out = q["ResultConfiguration"]["OutputLocation"]
        self.assertEqual(out, f"s3://{RESULTS}/out/{qid}.csv")
        csv_text = client("s3", ACCOUNT).get_object(Bucket=RESULTS, Key=f"out/{qid}.csv")["Body"].read().decode()
        self.assertEqual(csv_text.splitlines()[0], '"id","day","path"')
        self.assertEqual(len(csv_text.splitlines()), 1502)
        with self.assertRaises(ClientError):
            self.athena.get_query_results(QueryExecutionId=qid, NextToken="not-a-token")

    def test_nulls_are_data_without_a_value(self):
        qid, status = run(self.athena, "SELECT NULL AS nothing, 'a' AS something")
        self.assertEqual(status["State"], "SUCCEEDED", status)
        rows = self.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
        self.assertEqual(rows[1]["Data"], [{}, {"VarCharValue": "a"}])

    def test_a_missing_table_or_bad_sql_fails_the_query_with_athenas_reason(self):
        _, status = run(self.athena, 'SELECT * FROM "audit"."nosuch"')
        self.assertEqual(status["State"], "FAILED")
        self.assertIn("TABLE_NOT_FOUND", status["StateChangeReason"])
        self.assertIn("awsdatacatalog.audit.nosuch", status["StateChangeReason"])
        _, status = run(self.athena, "SELECT FROM WHERE")
        self.assertEqual(status["State"], "FAILED")
        qid, status = run(self.athena, "SELECT * FROM \"audit\".\"nosuch\"")
        with self.assertRaises(ClientError) as raised:
            self.athena.get_query_results(QueryExecutionId=qid)
        self.assertIn("FAILED", raised.exception.response["Error"]["Message"])

    def test_a_table_in_a_missing_database_fails(self):
        _, status = run(self.athena, DDL.replace("`audit`.`trail`", "`nodb`.`trail`"))
        self.assertEqual(status["State"], "FAILED")
        self.assertIn("Database does not exist: nodb", status["StateChangeReason"])

    def test_a_query_needs_an_output_location_and_an_existing_workgroup(self):
        with self.assertRaises(ClientError) as raised:
            self.athena.start_query_execution(QueryString="SELECT 1", WorkGroup="nowhere")
        self.assertIn("No output location provided", raised.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError):
            self.athena.start_query_execution(QueryString="SELECT 1", WorkGroup="nosuch")

    def test_a_running_query_has_no_results_yet_and_can_be_stopped(self):
        control("athena", {"min_running_ms": 30000})
        try:
            qid = self.athena.start_query_execution(QueryString="SELECT 1", WorkGroup="audit")["QueryExecutionId"]
            for _ in range(100):
                state = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
                if state == "RUNNING":
                    break
                time.sleep(0.02)
            self.assertEqual(state, "RUNNING")
            with self.assertRaises(ClientError) as raised:
                self.athena.get_query_results(QueryExecutionId=qid)
            self.assertIn("has not yet finished", raised.exception.response["Error"]["Message"])
            self.athena.stop_query_execution(QueryExecutionId=qid)
            self.assertEqual(wait(self.athena, qid)["State"], "CANCELLED")
        finally:
            control("athena", {"min_running_ms": 0})
        listed = json.loads(urllib.request.urlopen(f"{emu.ENDPOINT}/_emulator/athena", timeout=10).read())
        self.assertIn(("CANCELLED", qid), {(e["state"], e["id"]) for e in listed["executions"]})

    def test_only_the_partitions_a_query_names_are_read_and_a_damaged_one_fails_it(self):
        s3 = client("s3", ACCOUNT)
        base = "damaged/AWSLogs/111111111111/CloudTrail/us-east-1"
        s3.put_object(Bucket=BUCKET, Key=f"{base}/2026/03/02/g.json.gz",
                      Body=gzip.compress(json.dumps({"Records": [{"eventID": "ok"}]}).encode()))
        s3.put_object(Bucket=BUCKET, Key=f"{base}/2026/03/05/h.json.gz", Body=b"not gzip at all")
        ddl = DDL.replace("`audit`.`trail`", "`audit`.`damaged`").replace(f"s3://{BUCKET}/AWSLogs/",
                                                                         f"s3://{BUCKET}/damaged/AWSLogs/")
        self.assertEqual(run(self.athena, ddl)[1]["State"], "SUCCEEDED")
        qid, status = run(self.athena, "SELECT count(*) AS n FROM \"audit\".\"damaged\" "
                                       "WHERE log_day BETWEEN '2026/03/01' AND '2026/03/03'")
        self.assertEqual(status["State"], "SUCCEEDED", status)
        rows = self.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
        self.assertEqual(rows[1]["Data"], [{"VarCharValue": "1"}])
        _, status = run(self.athena, "SELECT count(*) FROM \"audit\".\"damaged\"")
        self.assertEqual(status["State"], "FAILED")
        self.assertIn("HIVE_CURSOR_ERROR", status["StateChangeReason"])

    def test_a_tables_metadata_is_what_its_ddl_defined_and_a_missing_one_is_not_found(self):
        table = self.athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="audit",
                                               TableName="trail")["TableMetadata"]
        self.assertEqual(table["Name"], "trail")
        self.assertEqual(table["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(table["Columns"], [{"Name": "line", "Type": "string"}])
        self.assertEqual([k["Name"] for k in table["PartitionKeys"]], ["account", "region", "log_day"])
        parameters = table["Parameters"]
        self.assertEqual(parameters["projection.account.values"], "111111111111")
        self.assertEqual(parameters["projection.log_day.range"], "2026/03/01,NOW")
        self.assertEqual(parameters["storage.location.template"],
                         f"s3://{BUCKET}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{log_day}}/")
        self.assertEqual(parameters["location"], f"s3://{BUCKET}/AWSLogs/")
        for database, name in (("audit", "nosuch"), ("nodb", "trail")):
            with self.assertRaises(ClientError) as raised:
                self.athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=database, TableName=name)
            self.assertEqual(raised.exception.response["Error"]["Code"], "MetadataException")
            self.assertIn("EntityNotFoundException", raised.exception.response["Error"]["Message"])
        # Tables are kept per account: another account's catalog does not have it.
        with self.assertRaises(ClientError):
            client("athena", "900000000072").get_table_metadata(
                CatalogName="AwsDataCatalog", DatabaseName="audit", TableName="trail")

    def test_another_accounts_executions_are_not_found(self):
        qid, _ = run(self.athena, "SELECT 1")
        with self.assertRaises(ClientError):
            client("athena", "900000000072").get_query_execution(QueryExecutionId=qid)


if __name__ == "__main__":
    unittest.main()
