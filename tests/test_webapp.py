"""The review web app with Django's test client: roles, decisions, undo, audit, access log,
rate-limited logins, single sign-on settings. A tiny published warehouse is written by hand
(the review queue from a real linkage run of two records), so no pipeline runs here."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from linkage_ops.linkage import link_records
from linkage_ops.linkage.store import read_app_decisions
from webapp.models import LoginFailure, RecordView, ReviewDecision
from webapp.roles import set_role

PASSWORD = "correct horse battery staple"
# Same surname, birth date and address, different first names: twins or one child twice?
BORDERLINE = [
    {
        "record_id": "gp:1",
        "source": "gp",
        "source_record_id": "1",
        "first_name": "Jon",
        "last_name": "Evans",
        "date_of_birth": "2015-04-04",
        "sex": "M",
        "postcode": "HR1 1AA",
        "upn": None,
        "nhs_number": None,
    },
    {
        "record_id": "school_census:1",
        "source": "school_census",
        "source_record_id": "1",
        "first_name": "Ryan",
        "last_name": "Evans",
        "date_of_birth": "2015-04-04",
        "sex": "M",
        "postcode": "HR1 1AA",
        "upn": None,
        "nhs_number": None,
    },
]


def publish(
    data_dir: Path, records: list[dict], decisions: pd.DataFrame | None = None
) -> dict[str, float | str]:
    """Link the records and write the published files the app reads, shaped as the marts
    review_queue_pairs, review_candidate_records and the quality marts are; return the
    thresholds the run used."""
    result = link_records(pd.DataFrame(records), decisions=decisions, run_id="run-1")
    keys = result.bridge.set_index("record_id").person_key
    queue = result.review_queue.rename(
        columns={"priority": "queue_position", "decision": "waiting_because"}
    ).assign(
        person_key_l=lambda q: q.record_id_l.map(keys),
        person_key_r=lambda q: q.record_id_r.map(keys),
        run_id="run-1",
    )
    candidates = (
        pd.DataFrame(records)
        .assign(person_key=lambda r: r.record_id.map(keys), period="2025-03")
        .assign(middle_names=None, former_last_name=None, la_child_id=None)
        .merge(result.bridge[["record_id", "match_method"]], on="record_id")
    )
    restricted = data_dir / "published" / "restricted"
    restricted.mkdir(parents=True, exist_ok=True)
    for database in (restricted / "restricted.duckdb", data_dir / "published" / "marts.duckdb"):
        database.unlink(missing_ok=True)
    with duckdb.connect(str(restricted / "restricted.duckdb")) as con:
        con.register("queue", queue)
        con.register("candidates", candidates)
        con.execute("create table review_queue_pairs as select * from queue")
        con.execute("create table review_candidate_records as select * from candidates")
        con.execute(
            "create table child_golden_record as select person_key, first_name, last_name "
            "from candidates"
        )
    thresholds = result.summary["thresholds"]
    parameters = result.model.report().assign(
        prior_probability=result.model.prior,
        prior_weight=result.model.prior_weight,
        match_threshold=thresholds["match_threshold"],
        review_threshold=thresholds["review_threshold"],
        run_id="r",
    )
    weights = result.pairs.assign(weight_from=result.pairs.match_weight.astype(int))
    with duckdb.connect(str(data_dir / "published" / "marts.duckdb")) as con:
        con.register("parameters", parameters)
        con.register("weights", weights)
        con.execute(
            "create table quality_model_parameters as select comparison, level as "
            "comparison_level, m as m_probability, u as u_probability, weight as match_weight, "
            "prior_probability, prior_weight, match_threshold, review_threshold, run_id "
            "from parameters"
        )
        con.execute(
            "create table quality_match_weights as select weight_from, decision, "
            "count(*) as pairs, 'r' as run_id from weights group by all"
        )
        con.execute(
            "create table quality_linkage_by_source as select * from (values "
            "('gp', '2025-03', 'link_status', 'all records', true, 10, false), "
            "('gp', '2025-03', 'link_status', 'linked', false, 8, false)) "
            "t(source, period, measure, status, is_total, records, is_suppressed)"
        )
        con.execute(
            "create table quality_linkage_bias as select * from (values "
            "('sex', 'M', 10, 8, 80.0, false)) "
            "t(breakdown, breakdown_value, records, linked_records, percent_linked, is_suppressed)"
        )
        con.execute(
            "create table quality_key_changes as select 'r' as run_id, 'merge' as reason, "
            "1 as key_changes, 2 as records_moved"
        )
        con.execute(
            "create table dashboard_kpis as select * from (values "
            "(date '2025-03-31', 'looked after', 12, 'all children', 1.2, false), "
            "(date '2025-03-31', 'care leaver', null, 'all children', null, true)) "
            "t(as_at_date, kpi, children, share_of, percent_of_cohort, is_suppressed)"
        )
        con.execute(
            "create table commissioning_demand_by_district as select * from (values "
            "(date '2025-03-31', 'need', 'HR1', 'SEN support', false, 7, false), "
            "(date '2025-03-31', 'need', 'HR2', 'SEN support', false, 9, false)) "
            "t(as_at_date, measure, postcode_district, category, is_total, children, "
            "is_suppressed)"
        )
        con.execute(
            "create table dashboard_kpis_history as select * from (values "
            "(date '2024-03-31', 'looked after', 10, null, null, false), "
            "(date '2024-10-31', 'looked after', 11, null, null, false), "
            "(date '2025-03-31', 'looked after', 12, null, null, false), "
            "(date '2024-03-31', 'care leaver', 6, null, null, false), "
            "(date '2024-10-31', 'care leaver', null, null, null, true), "
            "(date '2025-03-31', 'care leaver', 7, null, null, false)) "
            "t(as_at_date, kpi, children, share_of, percent_of_cohort, is_suppressed)"
        )
    return thresholds


@pytest.fixture
def warehouse(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    publish(tmp_path, BORDERLINE)
    return tmp_path


def user_with(role: str | None, name: str | None = None) -> User:
    user = User.objects.create_user(name or f"{role}-user", password=PASSWORD)
    set_role(user, role)
    return user


@pytest.fixture
def reviewer(client, db):
    client.force_login(user_with("reviewer"))
    return client


@pytest.fixture
def analyst(client, db):
    client.force_login(user_with("analyst"))
    return client


def app_database() -> Path:
    """The app's database file as the pipeline would open it (the test database)."""
    return Path(connection.settings_dict["NAME"])


@pytest.mark.django_db(transaction=True)
def test_a_decision_is_audited_and_honoured_by_the_next_linkage_run(warehouse, reviewer):
    page = reviewer.get(reverse("review"))
    assert page.status_code == 200
    html = page.content.decode()
    # Both records side by side, each field's level and weight, the waterfall.
    assert "Jon" in html and "Ryan" in html and "possible_twins" in html
    assert "different" in html and "<svg" in html
    # The view of identifiable records is logged.
    (view,) = RecordView.objects.all()
    assert view.viewer == "reviewer-user" and "gp:1" in view.record_ids

    response = reviewer.post(
        reverse("decide"),
        {
            "record_id_l": "gp:1",
            "record_id_r": "school_census:1",
            "decision": "match",
            "reason": "same child: Ryan is his middle name",
        },
    )
    assert response.status_code == 302
    (decision,) = ReviewDecision.objects.all()
    assert (decision.decision, decision.reviewer) == ("match", "reviewer-user")
    assert decision.decided_at is not None and decision.queue_run_id == "run-1"

    audit = reviewer.get(reverse("audit")).content.decode()
    assert "same child: Ryan is his middle name" in audit and "reviewer-user" in audit
    # Decided: no longer waiting.
    assert "No pair is waiting" in reviewer.get(reverse("review")).content.decode()

    # The linkage step reads the app's database (plain sqlite3, read-only) and links them.
    decisions = read_app_decisions(app_database())
    assert decisions.to_dict("records") == [
        {"record_id_l": "gp:1", "record_id_r": "school_census:1", "decision": "match"}
    ]
    relinked = link_records(pd.DataFrame(BORDERLINE), decisions=decisions)
    assert relinked.bridge.person_key.nunique() == 1
    assert relinked.review_queue.empty


@pytest.mark.django_db(transaction=True)
def test_undo_puts_the_pair_back_in_the_queue(warehouse, reviewer):
    reviewer.post(
        reverse("decide"),
        {"record_id_l": "gp:1", "record_id_r": "school_census:1", "decision": "non_match"},
    )
    assert "No pair is waiting" in reviewer.get(reverse("review")).content.decode()
    assert len(read_app_decisions(app_database())) == 1

    (decision,) = ReviewDecision.objects.all()
    assert reviewer.post(reverse("undo", args=[decision.id])).status_code == 302
    decision.refresh_from_db()
    assert decision.undone_at is not None and decision.undone_by == "reviewer-user"
    page = reviewer.get(reverse("review")).content.decode()
    assert "No pair is waiting" not in page and "Ryan" in page
    # Undone decisions are not honoured; the audit still lists it, as undone.
    assert read_app_decisions(app_database()).empty
    assert "by reviewer-user" in reviewer.get(reverse("audit")).content.decode()


@pytest.mark.django_db
def test_a_skipped_pair_goes_to_the_end_of_the_queue_and_decides_nothing(warehouse, reviewer):
    reviewer.post(
        reverse("decide"),
        {"record_id_l": "gp:1", "record_id_r": "school_census:1", "decision": "skip"},
    )
    page = reviewer.get(reverse("review")).content.decode()
    assert "skipped before" in page


@pytest.mark.django_db
def test_a_pair_not_in_the_published_queue_cannot_be_decided(warehouse, reviewer):
    response = reviewer.post(
        reverse("decide"),
        {"record_id_l": "gp:1", "record_id_r": "gp:99", "decision": "match"},
    )
    assert response.status_code == 400
    assert not ReviewDecision.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_reads_restricted_marts_and_each_child_shown_is_logged(warehouse, reviewer):
    page = reviewer.get(reverse("restricted"), {"mart": "child_golden_record"})
    assert page.status_code == 200
    assert "Jon" in page.content.decode() and "Ryan" in page.content.decode()
    (view,) = RecordView.objects.all()
    assert view.page == "restricted/child_golden_record" and len(view.person_keys.split()) == 2


@pytest.mark.django_db
def test_the_analyst_role_sees_only_the_pseudonymous_pages(warehouse, analyst):
    for page in ("review", "audit", "restricted"):
        response = analyst.get(reverse(page))
        assert response.status_code == 403
        assert "Jon" not in response.content.decode()
    assert (
        analyst.post(
            reverse("decide"),
            {"record_id_l": "gp:1", "record_id_r": "school_census:1", "decision": "match"},
        ).status_code
        == 403
    )
    assert not RecordView.objects.exists()
    quality = analyst.get(reverse("quality"))
    assert quality.status_code == 200
    assert "first_name" in quality.content.decode()  # model parameters
    dashboard = analyst.get(reverse("dashboard"), {"district": "HR2"})
    assert dashboard.status_code == 200
    html = dashboard.content.decode()
    assert "HR2 / SEN support" in html and "HR1 / SEN support" not in html
    assert analyst.get(reverse("home")).url == reverse("quality")


@pytest.mark.django_db
def test_the_weight_histogram_marks_the_thresholds_the_linkage_run_used(warehouse, analyst):
    thresholds = publish(warehouse, BORDERLINE)
    html = analyst.get(reverse("quality")).content.decode()
    (histogram,) = re.findall(r'<svg[^>]*id="weight-histogram".*?</svg>', html, re.S)
    assert histogram.count('class="threshold"') == 2
    assert f"match threshold {thresholds['match_threshold']:.2f}" in histogram
    assert f"review threshold {thresholds['review_threshold']:.2f}" in histogram
    # The marks sit inside the chart even where no pair scored near them.
    width = float(re.search(r'viewBox="0 0 (\S+) ', histogram).group(1))
    for x in re.findall(r'<line class="threshold" x1="([^"]+)"', histogram):
        assert 0 < float(x) < width


def kpi_trend(html: str) -> str:
    (trend,) = re.findall(r'<svg[^>]*id="kpi-trend".*?</svg>', html, re.S)
    return trend


@pytest.mark.django_db
def test_the_dashboard_draws_each_kpi_over_time_from_the_history_mart(warehouse, analyst):
    trend = kpi_trend(analyst.get(reverse("dashboard")).content.decode())
    # One panel per KPI, a point per as-at date; the withheld count is shown as such.
    for point in (
        "looked after, 2024-03-31: 10",
        "looked after, 2024-10-31: 11",
        "looked after, 2025-03-31: 12",
        "care leaver, 2024-03-31: 6",
        "care leaver, 2025-03-31: 7",
    ):
        assert f"<title>{point}</title>" in trend
    assert "care leaver, 2024-10-31: suppressed" in trend
    # The year filter keeps the as-at dates of that academic year (1 September to 31 August).
    html = analyst.get(reverse("dashboard"), {"year": "2024-25"}).content.decode()
    assert "<option selected>2024-25</option>" in html and "<option >2023-24</option>" in html
    trend = kpi_trend(html)
    assert "2024-10-31: 11" in trend and "2025-03-31: 12" in trend
    assert "2024-03-31" not in trend
    # A group that is a KPI keeps that KPI's line only.
    trend = kpi_trend(analyst.get(reverse("dashboard"), {"group": "care leaver"}).content.decode())
    assert "care leaver, 2025-03-31: 7" in trend and "looked after" not in trend


@pytest.mark.django_db
def test_pages_need_a_login_and_a_role(warehouse, client):
    for page in ("review", "audit", "quality", "dashboard"):
        response = client.get(reverse(page))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(user_with(None, "nobody"))
    assert client.get(reverse("quality")).status_code == 403


@pytest.mark.django_db
def test_failed_logins_are_rate_limited_per_user_name(warehouse, client, settings):
    user_with("reviewer", "ruth")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "ruth", "password": "wrong"})
        assert response.status_code == 401
    # Even the right password is refused until the window passes.
    response = client.post(reverse("login"), {"username": "ruth", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    LoginFailure.objects.update(failed_at="2000-01-01T00:00:00Z")
    response = client.post(reverse("login"), {"username": "ruth", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.django_db
def test_failed_logins_are_rate_limited_per_client_address(warehouse, client, settings):
    """Many user names tried from one address: the address is refused, even for a real user
    with the right password, until the window passes; other addresses are not."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    user_with("reviewer", "ruth")
    attacker = {"REMOTE_ADDR": "192.0.2.7"}
    for name in ("ada", "bob", "cy"):
        response = client.post(
            reverse("login"), {"username": name, "password": "wrong"}, **attacker
        )
        assert response.status_code == 401
    response = client.post(reverse("login"), {"username": "ruth", "password": PASSWORD}, **attacker)
    assert response.status_code == 429
    assert "Too many failed logins from this address" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The user name itself is not locked: ruth logs in from elsewhere.
    response = client.post(
        reverse("login"),
        {"username": "ruth", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.2",
    )
    assert response.status_code == 302
    client.logout()
    LoginFailure.objects.update(failed_at="2000-01-01T00:00:00Z")
    response = client.post(reverse("login"), {"username": "ruth", "password": PASSWORD}, **attacker)
    assert response.status_code == 302
    # Failures that no longer count are not kept (user names and addresses tried): the next
    # failure removes them.
    client.logout()
    client.post(reverse("login"), {"username": "dee", "password": "wrong"}, **attacker)
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["dee"]


@pytest.mark.django_db
def test_behind_the_proxy_the_client_address_is_the_one_the_proxy_saw(warehouse, client, settings):
    """Behind the authority's reverse proxy every request comes from the proxy: the address
    counted is the one the proxy appended to X-Forwarded-For (a client cannot choose it by
    sending its own header), so one client's guesses do not lock out everyone."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    settings.WEBAPP_PROXY_COUNT = 1
    user_with("reviewer", "ruth")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for forged in ("1.1.1.1", "2.2.2.2"):
        client.post(
            reverse("login"),
            {"username": "nobody", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"{forged}, 192.0.2.7",
            **proxy,
        )
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"192.0.2.7"}
    refused = client.post(
        reverse("login"),
        {"username": "ruth", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.7",
        **proxy,
    )
    assert refused.status_code == 429
    colleague = client.post(
        reverse("login"),
        {"username": "ruth", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.8",
        **proxy,
    )
    assert colleague.status_code == 302


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


@pytest.mark.django_db
def test_passwords_are_stored_hashed(tmp_path):
    user = user_with("analyst", "amir")
    assert PASSWORD not in user.password and user.password.startswith("pbkdf2_")


def test_createuser_makes_a_local_account_with_a_role(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    env = {"WAREHOUSE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    made = subprocess.run(
        [
            *(sys.executable, "-m", "webapp", "createuser", "ada", "--role", "reviewer"),
            *("--password-file", str(password_file)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "created ada with the reviewer role" in made.stdout
    with closing(sqlite3.connect(tmp_path / "app" / "app.sqlite3")) as con:
        rows = con.execute(
            "select auth_user.password, auth_group.name from auth_user "
            "join auth_user_groups on auth_user_groups.user_id = auth_user.id "
            "join auth_group on auth_group.id = auth_user_groups.group_id"
        ).fetchall()
    ((password, role),) = rows
    assert role == "reviewer" and password.startswith("pbkdf2_")
    assert (tmp_path / "app" / "secret_key").stat().st_mode & 0o077 == 0


def test_single_sign_on_is_switched_on_by_its_settings(tmp_path):
    """With the OIDC variables set, the settings add the OpenID Connect backend and its URLs."""
    env = {
        "WAREHOUSE_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "OIDC_RP_CLIENT_ID": "client",
        "OIDC_RP_CLIENT_SECRET": "secret",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.example/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": "https://login.example/token",
        "OIDC_OP_USER_ENDPOINT": "https://login.example/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": "https://login.example/keys",
        "OIDC_REVIEWER_VALUES": "Warehouse.Reviewer",
    }
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.urls import reverse\n"
        "from webapp.oidc import role_from_claims\n"
        "print('webapp.oidc.AuthorityOIDCBackend' in settings.AUTHENTICATION_BACKENDS)\n"
        "print(reverse('oidc_authentication_init'))\n"
        "print(role_from_claims({'roles': ['Warehouse.Reviewer']}))\n"
        "print(role_from_claims({'roles': ['Someone.Else']}))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.split() == ["True", "/oidc/authenticate/", "reviewer", "None"]
