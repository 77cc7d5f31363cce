"""Default policies, in code: one module per resource.

``list_rules`` feeds the enforcer and the oslo.policy tools
(``oslopolicy-sample-generator --namespace migrator``).
"""

import itertools

from migrator_api.policies import attachments
from migrator_api.policies import backends
from migrator_api.policies import base
from migrator_api.policies import migrations
from migrator_api.policies import services
from migrator_api.policies import volumes


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        backends.list_rules(),
        volumes.list_rules(),
        attachments.list_rules(),
        migrations.list_rules(),
        services.list_rules(),
    ))
