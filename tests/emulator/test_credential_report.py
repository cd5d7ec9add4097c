"""IAM credential reports in the emulator behave as AWS keeps them (ext/credential_report.py): a picture taken at
generation, dated by the emulator clock, kept for four hours, with the root row and CSV quoting.

Run from the repository root::

    .venv/bin/python -m unittest tests/emulator/test_credential_report.py -v
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import sys
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_emulator as emu  # noqa: E402
from test_emulator import client, control  # noqa: E402


def setUpModule() -> None:
    emu.setUpModule()


def tearDownModule() -> None:
    control("clock", {"reset": True})
    emu.tearDownModule()


def rows(iam) -> tuple[dt.datetime, list[dict[str, str]]]:
    report = iam.get_credential_report()
    return report["GeneratedTime"], list(csv.DictReader(io.StringIO(report["Content"].decode())))


class CredentialReportTests(unittest.TestCase):
    def test_no_report_before_one_is_generated(self):
        iam = client("iam", "900000000051")
        with self.assertRaises(ClientError) as raised:
            iam.get_credential_report()
        self.assertEqual(raised.exception.response["Error"]["Code"], "ReportNotPresent")

    def test_the_report_is_a_picture_taken_at_generation_and_kept_four_hours(self):
        acct = "900000000052"
        iam = client("iam", acct)
        control("clock", {"now": "2026-05-01T10:00:00Z"})
        iam.create_user(UserName="pat,q")  # IAM allows commas in names
        iam.create_login_profile(UserName="pat,q", Password="Passw0rd!Passw0rd!")
        iam.create_user(UserName="kid")
        key = iam.create_access_key(UserName="kid")["AccessKey"]["AccessKeyId"]
        iam.update_access_key(UserName="kid", AccessKeyId=key, Status="Inactive")
        self.assertEqual(iam.generate_credential_report()["State"], "STARTED")
        generated, found = rows(iam)
        self.assertEqual(generated, dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.timezone.utc))
        self.assertEqual(found[0]["user"], "<root_account>")
        self.assertEqual(found[0]["arn"], f"arn:aws:iam::{acct}:root")
        self.assertEqual(found[0]["password_enabled"], "not_supported")
        by_name = {r["user"]: r for r in found}
        self.assertEqual(by_name["pat,q"]["arn"], f"arn:aws:iam::{acct}:user/pat,q")
        self.assertEqual(by_name["pat,q"]["password_enabled"], "true")
        self.assertEqual(by_name["pat,q"]["access_key_1_active"], "false")
        self.assertEqual(by_name["pat,q"]["access_key_1_last_rotated"], "N/A")
        self.assertEqual(by_name["kid"]["password_enabled"], "false")
        self.assertEqual(by_name["kid"]["access_key_1_active"], "false")  # inactive, but present:
        self.assertNotEqual(by_name["kid"]["access_key_1_last_rotated"], "N/A")

        # Changes after generation are not in the report, and a report younger than four hours is kept.
        iam.create_user(UserName="late")
        iam.create_access_key(UserName="late")
        control("clock", {"now": "2026-05-01T13:59:00Z"})
        self.assertEqual(iam.generate_credential_report()["State"], "COMPLETE")
        generated, found = rows(iam)
        self.assertEqual(generated.hour, 10)
        self.assertNotIn("late", {r["user"] for r in found})
        # Older than four hours: a new picture.
        control("clock", {"now": "2026-05-01T14:01:00Z"})
        self.assertEqual(iam.generate_credential_report()["State"], "COMPLETE")
        generated, found = rows(iam)
        self.assertEqual((generated.hour, generated.minute), (14, 1))
        late = next(r for r in found if r["user"] == "late")
        self.assertEqual(late["access_key_1_active"], "true")


if __name__ == "__main__":
    unittest.main()
