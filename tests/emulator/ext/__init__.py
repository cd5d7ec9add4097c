"""gateaudit's extensions to moto (see server.py).

``install()`` patches moto's backends/response classes in-process.  It must be
called before the moto server starts handling requests.  Each module has a
docstring that says what it adds to moto 5.2.5 and why.
"""

_INSTALLED = False


def install() -> None:
    """Apply every extension exactly once."""
    global _INSTALLED
    if _INSTALLED:
        return
    from . import athena, cloudtrail, codepipeline, credential_report, identity_center, kms, organizations, s3fix, sts

    sts.install()
    codepipeline.install()
    cloudtrail.install()
    s3fix.install()
    organizations.install()
    identity_center.install()
    kms.install()
    credential_report.install()
    athena.install()
    _INSTALLED = True
