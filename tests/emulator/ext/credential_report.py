"""IAM credential reports as AWS keeps them.

moto 5.2.5 implements GenerateCredentialReport and GetCredentialReport, but
not as AWS does where gateaudit depends on it (it reads the report instead of
calling GetLoginProfile and ListAccessKeys for every user):

* ``GeneratedTime`` is a constant (2015-02-02T20:02:02Z); AWS answers when the
  report was made.  Here it is the emulator clock at generation.
* moto renders the report's rows at GetCredentialReport time, so it always
  shows the present.  AWS's report is a picture taken when it was generated:
  users, passwords and keys created later are not in it.  Here the content is
  rendered once, at generation.
* AWS makes a new report only when the last one is older than four hours
  ("You can generate a credential report as often as once every four hours",
  IAM User Guide, Getting credential reports); a newer one is kept and the
  answer is ``COMPLETE``.  moto regenerates on every call.
* The report's first row after the header is the account root user
  (``<root_account>``, ``password_enabled`` ``not_supported``); moto has none.
* Fields are CSV: a user name may contain a comma (IAM allows ``+=,.@_-``);
  moto joins fields with bare commas.  Here they are written with Python's csv
  module (quoted when needed).

Not emulated: ``ReportInProgress`` (generation completes at once) and
``ReportExpired`` (AWS does not document when a report expires).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from typing import Any

from . import clock

#: AWS regenerates a report only when the last one is older than this.
REGENERATE_AFTER = _dt.timedelta(hours=4)

HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
          "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
          "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
          "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
          "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
          "cert_2_active,cert_2_last_rotated").split(",")


def _user_fields(user: Any) -> list[str]:
    """moto's row for ``user`` as a list of fields (its name and ARN may contain commas: they are known, so
    they are cut off before the rest, whose dates and flags never contain one, is split)."""
    line = user.to_csv().rstrip("\n")
    prefix = f"{user.name},{user.arn},"
    rest = line[len(prefix):] if line.startswith(prefix) else line.split(",", 2)[-1]
    return [user.name, user.arn] + rest.split(",")


def _root_fields(account_id: str, created: _dt.datetime) -> list[str]:
    when = created.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    fields = ["<root_account>", f"arn:aws:iam::{account_id}:root", when, "not_supported", "no_information",
              "not_supported", "not_supported", "false"]
    fields += ["false", "N/A", "N/A", "N/A", "N/A"] * 2
    fields += ["false", "N/A", "false", "N/A"]
    return fields


def render(backend: Any, account_id: str, now: _dt.datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerow(_root_fields(account_id, now))
    for user in list(backend.users.values()):
        writer.writerow(_user_fields(user))
    return out.getvalue()


def install() -> None:
    from moto.iam.exceptions import ReportNotPresentException
    from moto.iam.models import IAMBackend
    from moto.iam.responses import IamResponse
    from moto.core.responses import ActionResult

    def generate(self: IAMBackend) -> str:
        """Makes a report unless one younger than four hours exists; 'STARTED' or 'COMPLETE' as AWS answers."""
        now = clock.now()
        existing = getattr(self, "gateaudit_report", None)
        if existing is not None and now - existing[0] < REGENERATE_AFTER:
            return "COMPLETE"
        self.gateaudit_report = (now, render(self, self.account_id, now))
        return "STARTED" if existing is None else "COMPLETE"

    def get(self: IAMBackend) -> tuple[_dt.datetime, str]:
        existing = getattr(self, "gateaudit_report", None)
        if existing is None:
            raise ReportNotPresentException("Credential report not present")
        return existing

    def generate_response(self: IamResponse) -> ActionResult:
        state = self.backend.gateaudit_generate_report()
        result = {"State": state}
        if state == "STARTED":
            result["Description"] = "No report exists. Starting a new report generation task"
        return ActionResult(result)

    def get_response(self: IamResponse) -> ActionResult:
        generated, content = self.backend.gateaudit_get_report()
        return ActionResult({"Content": content, "ReportFormat": "text/csv",
                             "GeneratedTime": clock.iso_z(generated)})

    IAMBackend.gateaudit_generate_report = generate
    IAMBackend.gateaudit_get_report = get
    IamResponse.generate_credential_report = generate_response
    IamResponse.get_credential_report = get_response
