#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Writes the seed corpora of tests/fuzz/ (run from the top of the tree;
# the output is committed).  A handful of valid inputs per target, each
# reaching one feature, for libFuzzer to mutate from.
import os
import struct

NEXT, WRITE, INDIRECT = 1, 2, 4
DESC, AVAIL, USED, TBL, BUF = 0x0, 0x200, 0x400, 0x800, 0xc00


def ring(chains, qsz=8, flags=0, start=0, spare=b'\0\0\0\0', indirect=None):
    """chains: list of lists of (len, writable).  indirect: index of the
    chain put in an indirect table instead of the ring."""
    ram = bytearray(0x4000)
    d, buf, tbl = 0, BUF, TBL
    heads = []
    for ci, chain in enumerate(chains):
        descs = []
        for ln, w in chain:
            descs.append([buf, ln, WRITE if w else 0])
            buf += (ln + 15) & ~15
        if ci == indirect:
            for i, x in enumerate(descs):
                nf = NEXT if i + 1 < len(descs) else 0
                struct.pack_into('<QIHH', ram, tbl + 16 * i, x[0], x[1],
                                 x[2] | nf, i + 1 if nf else 0)
            struct.pack_into('<QIHH', ram, DESC + 16 * d, tbl,
                             16 * len(descs), INDIRECT, 0)
            tbl += 16 * len(descs)
            heads.append(d)
            d += 1
            continue
        heads.append(d)
        for i, x in enumerate(descs):
            nf = NEXT if i + 1 < len(descs) else 0
            struct.pack_into('<QIHH', ram, DESC + 16 * (d + i), x[0], x[1],
                             x[2] | nf, (d + i + 1) % qsz if nf else 0)
        d += len(descs)
    for i, h in enumerate(heads):
        struct.pack_into('<H', ram, AVAIL + 4 + 2 * ((start + i) % qsz), h)
    struct.pack_into('<HH', ram, AVAIL, 0, (start + len(heads)) & 0xffff)
    hdr = struct.pack('<BHHHHHB', flags, qsz, DESC, AVAIL, USED, start,
                      len(heads) + 1) + spare
    return hdr + bytes(ram[:buf])


def put(target, name, data):
    d = os.path.join('tests/fuzz/corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# vring: plain, EVENT_IDX, INDIRECT, index wrap, odd size (refused).
put('vring', 'one-chain', ring([[(16, 0), (16, 1)]]))
put('vring', 'event-idx', ring([[(8, 0)], [(8, 1)], [(4, 0), (4, 1)]], flags=1))
put('vring', 'indirect', ring([[(16, 0), (32, 1), (1, 1)], [(8, 1)]],
                              flags=3, indirect=0))
put('vring', 'wrap', ring([[(8, 0)], [(8, 1)], [(8, 0)]], flags=1,
                          start=0xfffe, spare=b'\1\0\0\0'))
put('vring', 'odd-size', ring([[(8, 0)]], qsz=3))

# blk-req: each request type on the ring.  The out header (type, ioprio,
# sector) is placed by writing it over the first out buffer.
def blk(name, rtype, sector, chain, payload=b'', flags=0x6, cap=64):
    data = bytearray(ring([chain], flags=2,
                          spare=struct.pack('<HBB', cap, flags, 20)))
    off = 16 + BUF
    data[off:off + 16] = struct.pack('<IIQ', rtype, 0, sector)
    if payload:
        o2 = off + ((chain[0][0] + 15) & ~15)
        data[o2:o2 + len(payload)] = payload
    put('blk-req', name, bytes(data))


blk('read', 0, 8, [(16, 0), (4096, 1), (1, 1)])
blk('write', 1, 0, [(16, 0), (512, 0), (1, 1)])
blk('flush', 4, 0, [(16, 0), (1, 1)])
blk('get-id', 8, 0, [(16, 0), (20, 1), (1, 1)])
blk('discard', 11, 0, [(16, 0), (16, 0), (1, 1)],
    struct.pack('<QII', 8, 16, 0))
blk('write-zeroes', 13, 0, [(16, 0), (16, 0), (1, 1)],
    struct.pack('<QII', 0, 8, 1))
blk('read-past-end', 0, 64 * 8 - 1, [(16, 0), (1024, 1), (1, 1)])


# ctl-proto: byte 0 the piece size, then frames (u32 length, NUL-ended
# arguments).
def frame(*args):
    p = b''.join(a.encode() + b'\0' for a in args)
    return struct.pack('<I', len(p)) + p


put('ctl-proto', 'info', b'\x40' + frame('info'))
put('ctl-proto', 'two-requests', b'\x03' + frame('pause') + frame('stat', 'vm0'))
put('ctl-proto', 'sysrq', b'\xff' + frame('sysrq', 'b') + frame('balloon', '64M'))
put('ctl-proto', 'bad-name', b'\x10' + frame('info', '../x') + frame('info', '.hidden'))
put('ctl-proto', 'split-header', b'\x01' + frame('dump', 'regs'))

# cli: `lkvm run` arguments, NUL-separated (argv[0] "run" is implied).
def argv(*args):
    return b'\0'.join(a.encode() for a in args)


put('cli', 'basic', argv('-k', 'bzImage', '-m', '256M', '-c', '2', '-p', 'console=ttyS0'))
put('cli', 'disks', argv('-d', 'root.img', '--disk', 'data.qcow2,ro', '-d', 'x.raw,direct'))
put('cli', 'net-9p', argv('-n', 'mode=user,hostfwd=tcp::2222-:22', '--9p', '/tmp,tag0', 'bzImage'))
put('cli', 'misc', argv('--console', 'virtio', '--virtio-transport', 'mmio', '--name', 'vm0',
                        '--loglevel', 'debug', '--no-irqchip', '--tty', '0'))
put('cli', 'bad', argv('--mem', '12Q', '--cpus'))
put('cli', 'help', argv('--help'))


# p9: byte 0 the scatter pattern, byte 1 bit 0 read-only; then 9P2000.L
# messages (size[4] type[1] tag[2] ...) against the export tests/fuzz/p9.c
# makes: file, dir/inner, out -> ../sentinel.
def s9(x):
    x = x.encode()
    return struct.pack('<H', len(x)) + x


def msg(mtype, body, tag=1):
    return struct.pack('<IBH', 7 + len(body), mtype, tag) + body


def u32(*v):
    return struct.pack('<' + 'I' * len(v), *v)


VERSION = msg(100, u32(8192) + s9('9P2000.L'), tag=0xffff)
ATTACH = msg(104, u32(0, 0xffffffff) + s9('root') + s9('') + u32(0))


def walk(fid, newfid, *names):
    return msg(110, u32(fid, newfid) + struct.pack('<H', len(names)) +
               b''.join(s9(n) for n in names))


session = VERSION + ATTACH
put('p9', 'read-file', b'\0\0' + session + walk(0, 1, 'file') +
    msg(12, u32(1, 0)) + msg(116, u32(1) + struct.pack('<QI', 0, 100)) +
    msg(24, u32(1) + struct.pack('<Q', 0x3fff)) + msg(120, u32(1)))
put('p9', 'readdir', b'\x13\0' + session + walk(0, 1, 'dir') +
    msg(12, u32(1, 0o200000)) + msg(40, u32(1) + struct.pack('<QI', 0, 4096)))
put('p9', 'create-write', b'\x25\0' + session + walk(0, 1) +
    msg(14, u32(1) + s9('new') + u32(0o1101, 0o644, 0)) +
    msg(118, u32(1) + struct.pack('<QI', 0, 5) + b'hello') +
    msg(72, u32(0) + s9('sub') + u32(0o755, 0)) +
    msg(74, u32(0) + s9('file') + u32(0) + s9('renamed')) +
    msg(76, u32(0) + s9('renamed') + u32(0)))
put('p9', 'escape', b'\x41\0' + session + walk(0, 1, '..', 'sentinel') +
    walk(0, 2, 'out') + msg(12, u32(2, 2)) + msg(22, u32(2)) +
    msg(16, u32(0) + s9('l2') + s9('/etc/passwd') + u32(0)) +
    walk(0, 3, 'l2') + msg(12, u32(3, 0)))
put('p9', 'read-only', b'\0\1' + session + walk(0, 1, 'file') +
    msg(12, u32(1, 2)) + msg(26, u32(1) + u32(8, 0, 0, 0) +
    struct.pack('<QQQQQ', 0, 0, 0, 0, 0)))
