import migrator_api  # noqa: F401  selects the threading backend first
