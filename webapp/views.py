"""Pages: login, review (and its decisions and undo), audit, linkage quality, dashboard."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.contrib.auth import login as log_in
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from webapp import charts, published, reports, review
from webapp.models import LoginFailure, RecordView, ReviewDecision
from webapp.roles import REVIEWER, page_for, role_of


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``settings.WEBAPP_PROXY_COUNT`` reverse
    proxies the address the nearest of them appended to X-Forwarded-For. Entries further left
    were written by the client itself, so they are never trusted."""
    proxies = settings.WEBAPP_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies][:100]
    return request.META.get("REMOTE_ADDR", "")[:100]


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _recent_failures(**match: str) -> int:
    return LoginFailure.objects.filter(failed_at__gte=_window_start(), **match).count()


def _refusal(username: str, address: str) -> str:
    """Why a login attempt is refused before its password is checked ('' if it is not)."""
    minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
    if _recent_failures(username__iexact=username) >= settings.LOGIN_FAILURE_LIMIT:
        return f"Too many failed logins for this user name: try again in {minutes} minutes."
    if address and _recent_failures(address=address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return f"Too many failed logins from this address: try again in {minutes} minutes."
    return ""


def login_view(request: HttpRequest) -> HttpResponse:
    """Local accounts: user name and password, with failed logins rate limited per user name
    (settings.LOGIN_FAILURE_LIMIT) and per client address (LOGIN_ADDRESS_FAILURE_LIMIT), each
    within LOGIN_FAILURE_WINDOW_SECONDS. A refused attempt is refused even with the right
    password, and is not itself counted."""
    form = AuthenticationForm(request, data=request.POST or None)
    status, refused = 200, ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        address = client_address(request)
        refused = _refusal(username, address)
        if refused:
            status = 429
        elif form.is_valid():
            log_in(request, form.get_user())
            LoginFailure.objects.filter(username__iexact=username).delete()
            wanted = request.POST.get("next") or request.GET.get("next") or ""
            if url_has_allowed_host_and_scheme(wanted, {request.get_host()}):
                return redirect(wanted)
            return redirect("home")
        else:
            # Failures older than the window count for nothing: their user names and client
            # addresses are not kept.
            LoginFailure.objects.filter(failed_at__lt=_window_start()).delete()
            LoginFailure.objects.create(username=username, address=address)
            status = 401
    return render(
        request,
        "webapp/login.html",
        {
            "form": form,
            "refused": refused,
            "next": request.GET.get("next", ""),
            "oidc": getattr(settings, "OIDC_ENABLED", False),
        },
        status=status,
    )


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    role = role_of(request.user)
    if role == REVIEWER:
        return redirect("review")
    if role is not None:
        return redirect("quality")
    return render(request, "webapp/forbidden.html", {"page": "any page", "role": None}, status=403)


def _not_published(request: HttpRequest, error: Exception) -> HttpResponse:
    return render(request, "webapp/not_published.html", {"error": error}, status=503)


@page_for("review")
def review_page(request: HttpRequest) -> HttpResponse:
    """The next pair in the queue (or the one asked for), side by side, with its weights."""
    try:
        waiting = review.waiting_pairs()
        wanted = (request.GET.get("l"), request.GET.get("r"))
        pair = (
            review.find_pair(*wanted)
            if all(wanted)
            else (None if waiting.empty else waiting.iloc[0])
        )
        others = (
            review.candidate_records([pair.person_key_l, pair.person_key_r])
            if pair is not None
            else pd.DataFrame()
        )
    except published.NotPublished as error:
        return _not_published(request, error)
    last = (
        ReviewDecision.objects.filter(reviewer=request.user.get_username(), undone_at__isnull=True)
        .order_by("-decided_at", "-id")
        .first()
    )
    context = {"waiting": len(waiting), "last": last, "pair": None}
    if pair is not None:
        # Every view of an identifiable record is logged.
        RecordView.objects.create(
            viewer=request.user.get_username(),
            page="review",
            record_ids=" ".join(
                [pair.record_id_l, pair.record_id_r, *others.get("record_id", pd.Series()).tolist()]
            ),
            person_keys=" ".join(
                key for key in (pair.person_key_l, pair.person_key_r) if isinstance(key, str)
            ),
        )
        context |= {
            "pair": pair,
            "rows": review.side_by_side(pair),
            "waterfall": mark_safe(charts.waterfall(review.weight_steps(pair))),
            "others": others.fillna("").to_dict("records"),
            "history": review.decisions_of_pair(pair.record_id_l, pair.record_id_r),
            "skipped": bool(pair.get("skipped", False)),
        }
    return render(request, "webapp/review.html", context)


@require_POST
@page_for("review")
def decide(request: HttpRequest) -> HttpResponse:
    """Record a decision on a pair of the published queue."""
    decision = request.POST.get("decision")
    if decision not in {value for value, _ in ReviewDecision.DECISIONS}:
        return HttpResponseBadRequest("decision must be match, non_match or skip")
    try:
        pair = review.find_pair(
            request.POST.get("record_id_l", ""), request.POST.get("record_id_r", "")
        )
    except published.NotPublished as error:
        return _not_published(request, error)
    if pair is None:
        return HttpResponseBadRequest("that pair is not in the published review queue")
    ReviewDecision.objects.create(
        record_id_l=pair.record_id_l,
        record_id_r=pair.record_id_r,
        decision=decision,
        reason=request.POST.get("reason", "").strip()[:2000],
        reviewer=request.user.get_username(),
        queue_run_id=pair.run_id if isinstance(pair.run_id, str) else "",
    )
    return redirect("review")


@require_POST
@page_for("review")
def undo(request: HttpRequest, decision_id: int) -> HttpResponse:
    """Undo a decision: the pair goes back to the queue; the event stays for the audit."""
    decision = get_object_or_404(ReviewDecision, pk=decision_id, undone_at__isnull=True)
    decision.undone_at = timezone.now()
    decision.undone_by = request.user.get_username()
    decision.save(update_fields=["undone_at", "undone_by"])
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}):
        return redirect(wanted)
    return redirect("review")


@page_for("audit")
def audit(request: HttpRequest) -> HttpResponse:
    """Every decision (newest first, with undo) and the latest views of identifiable records."""
    return render(
        request,
        "webapp/audit.html",
        {
            "decisions": ReviewDecision.objects.all()[:500],
            "views": RecordView.objects.all()[:200],
        },
    )


@page_for("restricted")
def restricted(request: HttpRequest) -> HttpResponse:
    """A restricted mart (identifiable, practitioners' lists), optionally one child; every
    child shown is logged."""
    marts = [
        name
        for name in published.tables(published.RESTRICTED)
        if not name.startswith("review_")  # the review page shows those
    ]
    mart = request.GET.get("mart") or (marts[0] if marts else "")
    person_key = request.GET.get("person_key", "").strip()
    context: dict[str, object] = {"marts": marts, "mart": mart, "person_key": person_key}
    if mart in marts:
        where = " where person_key = ?" if person_key else ""
        rows = published.query(
            published.RESTRICTED,
            f'select * from "{mart}"{where} limit {reports.TABLE_ROWS + 1}',
            [person_key] if person_key else [],
        )
        if "person_key" in rows.columns and not rows.empty:
            RecordView.objects.create(
                viewer=request.user.get_username(),
                page=f"restricted/{mart}",
                record_ids="",
                person_keys=" ".join(rows.person_key.head(reports.TABLE_ROWS).astype(str)),
            )
        context["table"] = reports.table(rows)
    return render(request, "webapp/restricted.html", context)


@page_for("quality")
def quality(request: HttpRequest) -> HttpResponse:
    try:
        return render(request, "webapp/quality.html", reports.quality_context(request.GET))
    except published.NotPublished as error:
        return _not_published(request, error)


@page_for("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        return render(request, "webapp/dashboard.html", reports.dashboard_context(request.GET))
    except published.NotPublished as error:
        return _not_published(request, error)
