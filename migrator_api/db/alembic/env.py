from alembic import context

from migrator_api.db import models

config = context.config


def run_migrations_online():
    engine = config.attributes['engine']
    with engine.begin() as connection:
        context.configure(connection=connection,
                          target_metadata=models.Base.metadata,
                          render_as_batch=True)
        context.run_migrations()


run_migrations_online()
