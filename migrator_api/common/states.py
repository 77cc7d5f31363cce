"""Statuses of volumes and migrations, and the transitions between them.

The conductor records every step of a migration in the database before
it takes it (``Migration.phase``); after a restart it resumes or rolls
back from the recorded phase.
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

# Migration status, mirrored into Volume.migration_status.
M_STARTING = 'starting'
M_MIGRATING = 'migrating'
M_COMPLETING = 'completing'
M_CANCELLING = 'cancelling'
M_SUCCESS = 'success'
M_ERROR = 'error'
M_CANCELLED = 'cancelled'

MIGRATION_STATUSES = (M_STARTING, M_MIGRATING, M_COMPLETING, M_CANCELLING,
                      M_SUCCESS, M_ERROR, M_CANCELLED)
MIGRATION_RUNNING = (M_STARTING, M_MIGRATING, M_COMPLETING, M_CANCELLING)
MIGRATION_FINISHED = (M_SUCCESS, M_ERROR, M_CANCELLED)
MIGRATION_CANCELLABLE = (M_STARTING, M_MIGRATING)

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

# The phases a cancel is accepted in (before the point of no return).
# Every move out of one of them also expects no cancel recorded, so that
# of a cancel and the move, whichever is recorded second fails.
MIGRATION_CANCELLABLE_PHASES = (P_QUEUED, P_CREATING_DESTINATION,
                                P_FREEZING, P_COPYING)

# The migration status each phase belongs to while running.
PHASE_STATUS = {
    P_QUEUED: M_STARTING,
    P_CREATING_DESTINATION: M_STARTING,
    P_FREEZING: M_STARTING,
    P_COPYING: M_MIGRATING,
    P_SWITCHING: M_COMPLETING,
    P_FINALIZING: M_COMPLETING,
    P_DELETING_SOURCE: M_COMPLETING,
    P_FOLDING: M_COMPLETING,
}

# Service (agent) binaries.
BINARY_VOLUME = 'migrator-volume'
BINARY_COMPUTE = 'migrator-compute'
BINARY_CONDUCTOR = 'migrator-conductor'
