"""Ingestion assets: one multi-asset per source, partitioned by collection period."""
