"""The migration plan: ``planning`` (pure functions from the estate to a plan and its savings) and
``execution`` (carrying out waves); ``load``, ``store``, ``finance`` and ``export`` are the database and
file edges."""
