"""``python -m coaching_trials`` runs the command-line interface."""

from coaching_trials.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
