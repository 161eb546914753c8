"""The fast stand-in pipeline these tests use: the suite's shared one (tests/stand_in_pipeline.py, from
the consolidation of the three stand-ins) where it exists, else the job system's own. Either walks the
real stages and writes small real files; the tests compare downloads with the files on disk."""

try:
    from tests import stand_in_pipeline as pipeline
except ImportError:  # before the consolidation lands
    from tests.worker import fake_pipeline as pipeline  # type: ignore[no-redef]

__all__ = ["pipeline"]
