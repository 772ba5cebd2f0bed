"""`portico` console script: Django's management commands with Portico's settings.

`portico demo`, `portico billrun [--at ISO]`, `portico worker` (django-tasks' db_worker), `portico serve`.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    aliases = {"worker": "db_worker"}
    if len(argv) > 1 and argv[1] in aliases:
        argv[1] = aliases[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
