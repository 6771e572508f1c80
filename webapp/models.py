"""The app's own records: reviewers' decisions (events, undone rather than deleted), every view
of an identifiable record, and failed logins. The linkage step reads decisions from this table
with plain SQL (``linkage_ops.linkage.store.read_app_decisions``): keep its columns."""

from __future__ import annotations

from django.db import models


class ReviewDecision(models.Model):
    """One decision on a pair of records from the review queue. Undoing it sets ``undone_at``;
    the row stays, so the audit page shows what was decided and undone, by whom and when."""

    MATCH, NON_MATCH, SKIP = "match", "non_match", "skip"
    DECISIONS = ((MATCH, "match"), (NON_MATCH, "non-match"), (SKIP, "skip"))

    record_id_l = models.CharField(max_length=300)
    record_id_r = models.CharField(max_length=300)
    decision = models.CharField(max_length=10, choices=DECISIONS)
    reason = models.TextField(blank=True)
    reviewer = models.CharField(max_length=150)
    decided_at = models.DateTimeField(auto_now_add=True)
    # Which linkage run's queue the pair was shown from.
    queue_run_id = models.CharField(max_length=100, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = (models.Index(fields=("record_id_l", "record_id_r")),)
        ordering = ("-decided_at", "-id")

    def __str__(self) -> str:
        return f"{self.decision} {self.record_id_l} / {self.record_id_r} by {self.reviewer}"


class RecordView(models.Model):
    """Someone was shown identifiable records: who, when, on which page, which records and
    children."""

    viewer = models.CharField(max_length=150)
    viewed_at = models.DateTimeField(auto_now_add=True)
    page = models.CharField(max_length=50)
    record_ids = models.TextField()
    person_keys = models.TextField(blank=True)

    class Meta:
        ordering = ("-viewed_at", "-id")


class LoginFailure(models.Model):
    """A failed login, kept to rate limit guessing (settings.LOGIN_FAILURE_LIMIT) for as long
    as it counts (LOGIN_FAILURE_WINDOW_SECONDS): the next failure removes older ones."""

    username = models.CharField(max_length=150, db_index=True)
    failed_at = models.DateTimeField(auto_now_add=True)
    address = models.CharField(max_length=100, blank=True)
