"""The live part of the demo: a running QEMU guest keeps writing to its
volume while migrator moves the volume to another backend.

Run by tools/demo.sh against a running migrator-all (MIGRATOR_ENDPOINT).
The guest needs no operating system: QEMU serves its disk and the demo
writes into it through QEMU's own I/O path (qemu-io on the monitor), so
every write follows the overlays and block jobs exactly as a guest's
would.  At the end every byte of the destination is compared with what
the volume held plus every write the guest made.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import libvirt

from migrator_testing import guests as lv

MiB = 1024 * 1024
#: Exit status when no guest can run here: demo.sh then shows the
#: migration of a volume that is not attached.
NO_GUEST = 3


def cli(*args, capture=True):
    cmd = ['migrator'] + list(args)
    if not capture:
        return subprocess.run(cmd).returncode
    out = subprocess.run(['migrator', '-f', 'json'] + list(args),
                         check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def main():
    size_mib = int(os.environ.get('MIGRATOR_DEMO_SIZE_MIB', 320))
    host = cli('service', 'list')
    host = [s['host'] for s in host if s['binary'] == 'migrator-compute'][0]
    conn = lv.open_connection()
    instance = str(uuid.uuid4())
    name = 'migrator-demo-%s' % instance[:8]
    try:
        dom = lv.create_domain(conn, name, instance)
    except libvirt.libvirtError as e:
        print('== no QEMU guest can run here (%s)'
              % str(e).splitlines()[0])
        conn.close()
        return NO_GUEST
    try:
        problem = lv.kvm_problem(conn)
        print('== a running QEMU guest: %s (%s)' % (
            name, 'KVM' if problem is None
            else 'TCG, no KVM: %s' % problem))
        vol = cli('volume', 'create', '--size', '%dM' % size_mib,
                  '--backend', 'file1', '--name', 'live-demo', '--wait')
        src = vol['location']['data']['path']
        model = bytearray(os.urandom(size_mib * MiB))
        model[:8 * MiB] = bytes(8 * MiB)          # a hole at the start
        with open(src, 'r+b') as f:
            f.seek(8 * MiB)
            f.write(model[8 * MiB:])
            os.fsync(f.fileno())
        print('== volume %s filled with %d MiB of random data'
              % (vol['id'], size_mib))
        att = cli('attachment', 'create', vol['id'], instance, host,
                  '--wait')
        print('== attached to the guest as %s; the guest now writes to it '
              'without pause' % att['device'])
        writer = lv.GuestWriter(name, att['device'], model)
        writer.start()
        writer.wait_for(3)
        before = writer.count
        rc = cli('migrate', vol['id'], 'file2', '--wait', capture=False)
        writer.wait_for(3)
        writer.stop()
        if rc != 0:
            print('migration failed')
            return 1
        lv.guest_flush(dom, att['device'])
        after = cli('volume', 'show', vol['id'])
        dst = after['location']['data']['path']
        print('== the guest made %d writes during the migration, %d in all'
              % (writer.count - before, writer.count))
        data = lv.read_image(dst, 'raw')
        if data != bytes(model):
            print('DATA CHECK FAILED: %s differs from what the guest wrote'
                  % dst)
            return 1
        if os.path.exists(src):
            print('the old copy %s was not deleted' % src)
            return 1
        if dst not in dom.XMLDesc(0):
            print('the guest does not use %s' % dst)
            return 1
        print('Data check passed: all %d MiB on backend %s (%s) are what '
              'the guest wrote; it runs on the destination, the old copy '
              'is gone.' % (size_mib, after['backend'], dst))
        # The attachment took a new id in the switch (dest_attachment_id).
        cli('attachment', 'delete', after['attachments'][0]['id'],
            capture=False)
        return 0
    finally:
        time.sleep(0.5)
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
        dom.undefine()
        conn.close()


if __name__ == '__main__':
    sys.exit(main())
