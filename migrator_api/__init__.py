from migrator_api.common import threads as _threads

_threads.init_threading_backend()
