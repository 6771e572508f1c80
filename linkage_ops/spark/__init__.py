"""The warehouse on Apache Spark (``WAREHOUSE_ENGINE=spark``, see ``linkage_ops.engines``):
one Spark configuration for every process (``session``), raw and linkage tables as Parquet
(``lake``), and linkage's pairwise work on Spark (``linkage``)."""
