"""Single sign-on through the authority's OpenID Connect provider (e.g. Microsoft Entra ID),
switched on by settings (``OIDC_RP_CLIENT_ID`` and the ``OIDC_OP_*`` endpoints). A user's role
comes from a claim of the ID token or userinfo (Entra ID app roles: ``roles``), mapped by
``OIDC_REVIEWER_VALUES`` / ``OIDC_ANALYST_VALUES``; it is set again at every login, so removing
someone's role at the provider removes it here."""

from __future__ import annotations

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from webapp.roles import ANALYST, REVIEWER, set_role


def role_from_claims(claims: dict) -> str | None:
    """The app role the claims give, the stronger one first; None when they give neither."""
    values = claims.get(settings.OIDC_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    for role in (REVIEWER, ANALYST):
        if set(values) & set(settings.OIDC_ROLE_VALUES[role]):
            return role
    return None


class AuthorityOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with users named by their sign-in name and roles from
    claims."""

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        # Entra ID puts app roles in the ID token, not in the userinfo response.
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def get_username(self, claims: dict) -> str:
        return claims.get("preferred_username") or claims.get("email") or claims["sub"]

    def create_user(self, claims: dict):
        user = self.UserModel.objects.create_user(
            self.get_username(claims), email=claims.get("email", "")
        )
        user.set_unusable_password()
        user.save()
        return self.update_user(user, claims)

    def update_user(self, user, claims: dict):
        set_role(user, role_from_claims(claims))
        return user
