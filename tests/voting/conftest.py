"""The cast shared by the integrity tests."""

import pytest

from tests.factories import NomineeFactory


@pytest.fixture
def cluster_holds_run_at_once():
    """In real mode a worker runs cluster holds; here they run in the test's process, as in
    embedded mode, so that a test sees them without a worker."""
    from laurel.celery import app

    # Celery reads Django's settings under the CELERY_ namespace, whose name wins.
    eager = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager


@pytest.fixture
def field(nominee):
    """The target and fifteen other nominees in the same category."""
    return [nominee, *NomineeFactory.create_batch(15, category=nominee.category)]
