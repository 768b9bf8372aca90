"""The served app's master process before it forks its workers (web.server)."""


def test_the_served_app_is_loaded_and_frozen_before_the_workers_fork():
    """``servicebook serve`` loads every page's code in the master and freezes it out of the
    garbage collector's reach (issue 14: full collections walked it on every large page)."""
    import gc
    import sys

    from servicebook.web.server import load_and_freeze

    try:
        load_and_freeze()
        assert gc.get_freeze_count() > 0
        assert "servicebook.improvement.views" in sys.modules
    finally:
        gc.unfreeze()
