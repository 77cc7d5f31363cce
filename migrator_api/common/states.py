"""The names of the statuses of volumes, attachments and migrations,
and of a migration's phases.

What the phases mean, and which may follow which, is the migration
state machine's: migrator_api.conductor.machine.
"""

# Volume status.
CREATING = 'creating'
AVAILABLE = 'available'
IN_USE = 'in-use'
ATTACHING = 'attaching'
DETACHING = 'detaching'
MAINTENANCE = 'maintenance'
DELETING = 'deleting'
ERROR = 'error'
ERROR_DELETING = 'error_deleting'

VOLUME_STATUSES = (CREATING, AVAILABLE, IN_USE, ATTACHING, DETACHING,
                   MAINTENANCE, DELETING, ERROR, ERROR_DELETING)

# Attachment status.
A_ATTACHING = 'attaching'
A_ATTACHED = 'attached'
A_DETACHING = 'detaching'
A_ERROR = 'error'

# Volume statuses a migration may start from.
MIGRATABLE_VOLUME_STATUSES = (AVAILABLE, IN_USE)

# Migration status, mirrored into Volume.migration_status.  ``queued``:
# accepted, waiting for a slot under the concurrency limits ([conductor]
# max_concurrent_*); nothing is created for it yet.
M_QUEUED = 'queued'
M_STARTING = 'starting'
M_MIGRATING = 'migrating'
M_COMPLETING = 'completing'
M_CANCELLING = 'cancelling'
M_SUCCESS = 'success'
M_ERROR = 'error'
M_CANCELLED = 'cancelled'

MIGRATION_STATUSES = (M_QUEUED, M_STARTING, M_MIGRATING, M_COMPLETING,
                      M_CANCELLING, M_SUCCESS, M_ERROR, M_CANCELLED)
# Started: holding a slot under the concurrency limits, until the end.
MIGRATION_STARTED = (M_STARTING, M_MIGRATING, M_COMPLETING, M_CANCELLING)
# Not finished (queued or started): the volume is migrating.
MIGRATION_RUNNING = (M_QUEUED,) + MIGRATION_STARTED
MIGRATION_FINISHED = (M_SUCCESS, M_ERROR, M_CANCELLED)
MIGRATION_CANCELLABLE = (M_QUEUED, M_STARTING, M_MIGRATING)

# Migration phases: the step being taken, recorded before it is taken.
P_QUEUED = 'queued'
P_CREATING_DESTINATION = 'creating_destination'
P_FREEZING = 'freezing'              # compute: volume_migration_start
P_COPYING = 'copying'
P_SWITCHING = 'switching'            # compute: volume_migration_complete
P_FINALIZING = 'finalizing'          # the volume now lives on the dest
P_DELETING_SOURCE = 'deleting_source'
P_FOLDING = 'folding'                # compute: async fold-in running
P_ROLLING_BACK = 'rolling_back'
P_DONE = 'done'

PHASES = (P_QUEUED, P_CREATING_DESTINATION, P_FREEZING, P_COPYING,
          P_SWITCHING, P_FINALIZING, P_DELETING_SOURCE, P_FOLDING,
          P_ROLLING_BACK, P_DONE)

# Backend types: the choices of a backend section's backend_type.
BACKEND_FILE = 'file'
BACKEND_BLOCK = 'block'
BACKEND_TYPES = (BACKEND_FILE, BACKEND_BLOCK)

# Service (agent) binaries.
BINARY_VOLUME = 'migrator-volume'
BINARY_COMPUTE = 'migrator-compute'
BINARY_CONDUCTOR = 'migrator-conductor'
