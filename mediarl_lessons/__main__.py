"""``python -m mediarl_lessons`` is the same as the ``mediarl-lessons`` command."""

from mediarl_lessons.cli import main

raise SystemExit(main())
