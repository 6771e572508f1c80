"""The review and reporting web app (Django): the linkage review queue, linkage quality and the
dashboard, read from the published marts; it writes only reviewers' decisions and its logs, in
its own SQLite file. Start it with ``make app``; accounts with
``python -m webapp createuser NAME --role reviewer|analyst``."""
