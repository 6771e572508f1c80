"""``python -m webapp createuser NAME --role reviewer|analyst``: a local account with a hashed
password (asked for twice; or read from ``--password-file`` or the ``WEBAPP_PASSWORD``
variable, for scripts). Run again to change a user's password or role."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.roles import ROLES, set_role


class Command(BaseCommand):
    help = "Create (or update) a local account with a role."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument("--password-file", type=Path, help="read the password from a file")

    def _password(self, options: dict) -> str:
        if options["password_file"]:
            return options["password_file"].read_text(encoding="utf-8").strip()
        if os.environ.get("WEBAPP_PASSWORD"):
            return os.environ["WEBAPP_PASSWORD"]
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise CommandError("the passwords differ")
        return password

    def handle(self, *args: object, **options: object) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=options["username"])
        password = self._password(options)
        try:
            validate_password(password, user)
        except ValidationError as error:
            if created:
                user.delete()
            raise CommandError(" ".join(error.messages)) from error
        user.set_password(password)
        user.email = options["email"] or user.email
        user.save()
        set_role(user, options["role"])
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} {user.username} with the {options['role']} role")
