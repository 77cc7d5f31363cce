"""The RPC contract between migrator's processes: its one home.

Every process imports its clients from here; nothing here imports the
API side's conductor, db or api packages, so the agents stay light.

``conductor.ConductorAPI``  topic ``migrator-conductor``: the API casts
                            work to the conductor; the agents report to
                            it (heartbeats, copy progress and ends, the
                            ends of compute operations).
``volume.VolumeAPI``        topic ``migrator-volume``, server = the host
                            of a backend's volume worker: create, delete,
                            copy, backend stats.
``compute.ComputeAPI``      topic ``migrator-compute``, server = the
                            instance's host: attach, detach and the
                            compute half of the migration contract.
``payloads``                the shapes that travel: locations
                            (connection descriptions), copy status,
                            progress, backend stats.

Each client's docstring records its versions; ``base.RPCAPI`` is what
they share.
"""
