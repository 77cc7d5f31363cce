# Select oslo.service's threading backend before any test module imports
# oslo.messaging (which would otherwise pick eventlet).
import migrator_api  # noqa: F401
