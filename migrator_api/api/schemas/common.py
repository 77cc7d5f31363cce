"""Pieces shared by the request schemas."""

UUID = {'type': 'string', 'format': 'uuid'}
NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}
BOOLEAN_QUERY = {'type': 'string',
                 'enum': ['true', 'false', 'True', 'False', '1', '0']}
# Checked by validation.query: a positive integer up to [api] max_limit.
LIMIT = {'type': 'string'}
MARKER = UUID


def query(**properties):
    """A query-string schema: every value a string, nothing else."""
    return {'type': 'object', 'properties': properties,
            'additionalProperties': False}
