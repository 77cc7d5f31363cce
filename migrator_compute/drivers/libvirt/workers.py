"""The background threads of one driver: the asynchronous ends of
cancel and complete (rollback, fold-in), one per attachment at most,
each run under its attachment's lock, then its ``on_done`` callback."""

import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Workers(object):
    """``ctx``: the driver's Context (for the attachment locks)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._guard = threading.Lock()
        self._running = {}          # attachment id: (instance, thread)

    def spawn(self, record, name, fn, on_done):
        """Run ``fn()`` in a thread, then ``on_done(error_or_None)``."""
        aid = record['attachment_id']

        def run():
            err = None
            try:
                with self.ctx.attachment_lock(aid):
                    fn()
            except Exception as e:
                LOG.exception('%s of attachment %s failed', name, aid)
                err = e
            finally:
                with self._guard:
                    if self._running.get(aid, (None, None))[1] is \
                            threading.current_thread():
                        del self._running[aid]
            if on_done is not None:
                try:
                    on_done(err)
                except Exception:
                    LOG.exception('on_done callback of %s failed', aid)

        with self._guard:
            thread = threading.Thread(target=run, daemon=True,
                                      name='%s-%s' % (name, aid[:8]))
            self._running[aid] = (record['instance_uuid'], thread)
            thread.start()
        return thread

    def busy(self, instance_uuid):
        """Whether a thread runs for an attachment of the instance."""
        with self._guard:
            return any(u == instance_uuid
                       for u, _t in self._running.values())

    def threads(self):
        with self._guard:
            return [t for _u, t in self._running.values()]
