"""Entry point of the frozen bundle (PyInstaller cannot start a console script)."""

from relbook.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
