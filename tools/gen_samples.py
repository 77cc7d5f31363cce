"""Generate etc/migrator/migrator.conf.sample and policy.yaml.sample.

migrator is imported first so that oslo.service runs on its threading
backend before oslo.messaging's options are loaded.
"""

import sys

import migrator_api  # noqa: F401
from oslo_config import generator
from oslo_policy import generator as policy_generator


def main(argv):
    out_dir = argv[0] if argv else 'etc/migrator'
    generator.main(['--config-file',
                    'etc/migrator/migrator-config-generator.conf',
                    '--output-file', out_dir + '/migrator.conf.sample'])
    policy_generator.generate_sample(
        ['--config-file', 'etc/migrator/migrator-policy-generator.conf',
         '--output-file', out_dir + '/policy.yaml.sample'])


if __name__ == '__main__':
    main(sys.argv[1:])
