"""``python -m suiren``: the same command line as ``suiren`` (a checkout used without its
entry point installed, ``PYTHONPATH=src python -m suiren …``)."""

from suiren.cli.main import main

if __name__ == "__main__":
    main()
