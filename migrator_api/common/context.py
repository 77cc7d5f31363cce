"""Request context carried through the API, RPC and the agents."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """A security context and request information."""

    def to_policy_values(self):
        values = super().to_policy_values()
        values['project_id'] = self.project_id
        return values

    def elevated(self):
        ctx = self.from_dict(self.to_dict())
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles = list(ctx.roles) + ['admin']
        return ctx


def get_admin_context():
    """A context for the services' own work (flows, recovery, reports)."""
    return RequestContext(user_id=None, project_id=None, is_admin=True,
                          roles=['admin', 'member', 'reader'],
                          overwrite=False)
