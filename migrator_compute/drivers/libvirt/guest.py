"""Domain and disk XML helpers (pure functions on XML text), plus the
few domain queries the flows need."""

import copy
import os
import string
from xml.etree import ElementTree as ET

import libvirt

from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import images

# The path a locked stopped domain's disk points at.  It never exists,
# so libvirt refuses to start the domain ("Cannot access storage file
# .../MIGRATION-IN-PROGRESS-...") and the message tells why.
LOCK_PREFIX = 'MIGRATION-IN-PROGRESS-'

#: A volume's kind -> the ``type`` of its disk (or backingStore)
#: element.  An NBD volume is its bridge's unix socket (``bridges.py``).
_DISK_TYPES = {payloads.FILE: 'file', payloads.BLOCK: 'block',
               payloads.NBD: 'network'}


def parse(xml):
    return ET.fromstring(xml)


def tostring(elem):
    return ET.tostring(elem, encoding='unicode')


def live_xml(dom):
    return dom.XMLDesc(0)


def persistent_xml(dom):
    return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE |
                       libvirt.VIR_DOMAIN_XML_SECURE)


def disks(root):
    return root.findall('./devices/disk')


def find_disk(root, target):
    for disk in disks(root):
        t = disk.find('target')
        if t is not None and t.get('dev') == target:
            return disk
    return None


def _source_path(elem):
    """The path of the image an element (disk or backingStore) names:
    a file's or device's path, the socket of a local NBD image (a
    bridge), ``nbd://host:port/export`` for one that names a remote
    NBD export; None for anything else."""
    src = elem.find('source')
    if src is None:
        return None
    if src.get('protocol') == 'nbd':
        host = src.find('host')
        if host is None:
            return None
        if host.get('transport') == 'unix':
            return host.get('socket')
        return 'nbd://%s:%s/%s' % (host.get('name'), host.get('port', 10809),
                                   src.get('name', ''))
    return src.get('file') or src.get('dev')


def source_element(kind, path):
    """The ``<source>`` of the volume ``(kind, path)``."""
    if kind == payloads.NBD:
        src = ET.Element('source', {'protocol': 'nbd',
                                    'name': images.NBD_EXPORT})
        ET.SubElement(src, 'host', {'transport': 'unix', 'socket': path})
        return src
    return ET.Element('source', {'file' if kind == payloads.FILE else 'dev':
                                 path})


def disk_chain(disk):
    """``[(kind, path, format), ...]`` from the top image down."""
    chain = []
    elem = disk
    while elem is not None:
        path = _source_path(elem)
        if path is None:
            break
        if elem is disk:
            drv = elem.find('driver')
            fmt = drv.get('type') if drv is not None else None
        else:
            f = elem.find('format')
            fmt = f.get('type') if f is not None else None
        chain.append((elem.get('type'), path, fmt))
        elem = elem.find('backingStore')
    return chain


def top_path(root, target):
    disk = find_disk(root, target)
    if disk is None:
        return None
    chain = disk_chain(disk)
    return chain[0][1] if chain else None


def chain_paths(root, target):
    disk = find_disk(root, target)
    return [p for _k, p, _f in disk_chain(disk)] if disk is not None else []


def paths_in_use(root):
    """``{path key: target}`` of every image any disk uses (see
    ``base.path_key``)."""
    out = {}
    for disk in disks(root):
        t = disk.find('target')
        for _k, path, _f in disk_chain(disk):
            out[base.path_key(path)] = t.get('dev') if t is not None \
                else None
    return out


def device_alias(root, target):
    disk = find_disk(root, target)
    alias = disk.find('alias') if disk is not None else None
    return alias.get('name') if alias is not None else None


def set_source(disk, kind, path, fmt):
    """Point ``disk`` (an element, changed in place) at one image with
    no backing chain, keeping target, address, serial and the rest."""
    disk.set('type', _DISK_TYPES[kind])
    for old in disk.findall('source') + disk.findall('backingStore'):
        disk.remove(old)
    src = source_element(kind, path)
    drv = disk.find('driver')
    if drv is None:
        drv = ET.Element('driver', {'name': 'qemu'})
        disk.insert(0, drv)
    drv.set('type', fmt)
    disk.insert(list(disk).index(drv) + 1, src)
    return disk


def chain_disk(disk, chain):
    """A copy of ``disk`` using the image chain ``[(kind, path, format),
    ...]`` (top first), as libvirt writes it into a definition."""
    (kind, path, fmt), rest = chain[0], chain[1:]
    out = set_source(copy.deepcopy(disk), kind, path, fmt)
    parent, index = out, list(out).index(out.find('source')) + 1
    for kind, path, fmt in rest:
        store = ET.Element('backingStore', {'type': _DISK_TYPES[kind]})
        ET.SubElement(store, 'format', {'type': fmt})
        store.append(source_element(kind, path))
        parent.insert(index, store)
        parent, index = store, len(store)
    return out


def new_disk_xml(target, kind, path, fmt='raw', bus='scsi'):
    disk = ET.Element('disk', {'type': _DISK_TYPES[kind], 'device': 'disk'})
    ET.SubElement(disk, 'driver', {'name': 'qemu', 'type': fmt})
    disk.append(source_element(kind, path))
    ET.SubElement(disk, 'target', {'dev': target, 'bus': bus})
    return tostring(disk)


def lock_disk(disk, lock_path):
    """Make ``disk`` unusable: point it at a path that never exists."""
    set_source(disk, payloads.FILE, lock_path, 'raw')
    return disk


def is_locked(root, target):
    path = top_path(root, target)
    return bool(path) and os.path.basename(path).startswith(LOCK_PREFIX)


def replace_disk(domain_xml, target, new_disk):
    """Domain XML text with the disk at ``target`` replaced by the
    element ``new_disk``."""
    root = parse(domain_xml)
    devices = root.find('devices')
    old = find_disk(root, target)
    if old is None:
        raise ValueError('no disk %s in the domain XML' % target)
    index = list(devices).index(old)
    devices.remove(old)
    devices.insert(index, new_disk)
    return tostring(root)


def snapshot_xml(root, target, overlay):
    """External disk-only snapshot of ``target`` onto ``overlay``; every
    other disk is explicitly left alone."""
    snap = ET.Element('domainsnapshot')
    disks_el = ET.SubElement(snap, 'disks')
    for disk in disks(root):
        t = disk.find('target').get('dev')
        if t == target:
            d = ET.SubElement(disks_el, 'disk', {
                'name': t, 'snapshot': 'external', 'type': 'file'})
            ET.SubElement(d, 'driver', {'type': 'qcow2'})
            ET.SubElement(d, 'source', {'file': overlay})
        else:
            ET.SubElement(disks_el, 'disk', {'name': t, 'snapshot': 'no'})
    return tostring(snap)


def copy_dest_xml(overlay2):
    disk = ET.Element('disk', {'type': 'file'})
    ET.SubElement(disk, 'driver', {'type': 'qcow2'})
    ET.SubElement(disk, 'source', {'file': overlay2})
    return tostring(disk)


def scsi_targets(root):
    return {d.find('target').get('dev') for d in disks(root)
            if d.find('target') is not None}


def next_scsi_target(*roots):
    used = set()
    for root in roots:
        if root is not None:
            used |= scsi_targets(root)
    letters = string.ascii_lowercase
    names = ['sd' + a for a in letters] + \
        ['sd' + a + b for a in letters for b in letters]
    for name in names:
        if name not in used:
            return name
    raise ValueError('no free disk target')


def has_virtio_scsi(root):
    for c in root.findall('./devices/controller'):
        if c.get('type') == 'scsi' and c.get('model') == 'virtio-scsi':
            return True
    return False


VIRTIO_SCSI_CONTROLLER = "<controller type='scsi' model='virtio-scsi'/>"
