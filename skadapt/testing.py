"""What skadapt's estimators do not promise, in one public place.

``EXPECTED_FAILED_CHECKS`` maps a scikit-learn common check's name to the
reason it cannot hold; the test suite passes it to
``parametrize_with_checks(expected_failed_checks=...)``, so each is reported
as an expected failure rather than skipped, and a check that starts passing
is noticed.
"""

EXPECTED_FAILED_CHECKS = {}


def expected_failed_checks(estimator):
    """The ``expected_failed_checks`` callable for ``parametrize_with_checks``."""
    return dict(EXPECTED_FAILED_CHECKS)
