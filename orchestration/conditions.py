"""The automation condition every asset downstream of the raw tables uses."""

import dagster as dg

# Refresh once anything upstream changed, but not while a blocking check upstream has failed:
# bad data (an ERROR-severity expectation not met) must not flow into linkage and the marts.
REFRESH_WHEN_UPSTREAM_CHANGES = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
)
