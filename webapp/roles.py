"""The app's two roles, held as Django groups.

- ``reviewer``: the review queue and its audit, the restricted marts (names, dates of birth,
  identifiers), and every page an analyst sees.
- ``analyst``: linkage quality and the dashboard, read only from the BI file of marts about no
  one child (``published/marts.duckdb``: disclosure-controlled aggregates, quality summaries);
  never the person-level or restricted files.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

REVIEWER = "reviewer"
ANALYST = "analyst"
ROLES = (REVIEWER, ANALYST)
# What each role may open: a reviewer sees everything an analyst sees.
PAGES_OF = {
    REVIEWER: {"review", "audit", "restricted", "quality", "dashboard"},
    ANALYST: {"quality", "dashboard"},
}


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The user's role, the stronger one if they hold both; None without one."""
    if not user.is_authenticated:
        return None
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role in names), None)


def set_role(user: AbstractBaseUser, role: str | None) -> None:
    """Give the user exactly this role (or none)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role)[0])


def page_for(page: str) -> Callable:
    """A view open only to logged-in users whose role includes ``page``; others get 403."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            role = role_of(request.user)
            if role is None or page not in PAGES_OF[role]:
                return render(
                    request,
                    "webapp/forbidden.html",
                    {"page": page, "role": role},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def context(request: HttpRequest) -> dict[str, object]:
    """Template context: the user's role and the pages it opens (for the menu)."""
    role = role_of(request.user)
    return {"role": role, "pages": PAGES_OF.get(role, set()) if role else set()}
