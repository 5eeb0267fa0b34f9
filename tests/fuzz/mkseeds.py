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


# net: header (driver features, queue sizes, ring addresses, RAM length),
# RAM, then frames (u16 length, bytes) the host end sends.  Rings at
# fixed places (16 entries), buffers from 0x6000; each queue's chains are lists of
# (len, writable) with their contents.
F_MRG, F_CTRL_VQ, F_CTRL_RX, F_MAC_ADDR = 1 << 15, 1 << 17, 1 << 18, 1 << 23
F_INDIRECT, F_EVENT_IDX = 1 << 28, 1 << 29
NQ_RINGS = [(0x0000, 0x1000, 0x1400), (0x2000, 0x3000, 0x3400),
            (0x4000, 0x5000, 0x5400)]


def net(name, feat, queues, frames=(), indirect=()):
    """queues: for rx, tx, ctrl a list of chains or None (disabled); a
    chain is a list of (len, writable, content).  indirect: (queue, chain
    index) pairs put in an indirect table."""
    ram = bytearray(0x6000)
    buf, tbl = 0x6000, 0x5800
    sizes = []
    for q, chains in enumerate(queues):
        if chains is None:
            sizes.append(0)
            continue
        sizes.append(16)
        d, a = NQ_RINGS[q][0], NQ_RINGS[q][1]
        di = 0
        for ci, chain in enumerate(chains):
            descs = []
            for ln, w, content in chain:
                descs.append((buf, ln, WRITE if w else 0))
                ram.extend(b'\0' * (buf + ln - len(ram)))
                ram[buf:buf + len(content)] = content
                buf += (ln + 15) & ~15
            if (q, ci) in indirect:
                for i, (ad, ln, fl) in enumerate(descs):
                    nf = NEXT if i + 1 < len(descs) else 0
                    struct.pack_into('<QIHH', ram, tbl + 16 * i, ad, ln,
                                     fl | nf, i + 1 if nf else 0)
                struct.pack_into('<QIHH', ram, d + 16 * di, tbl,
                                 16 * len(descs), INDIRECT, 0)
                tbl += 16 * len(descs)
                head, di = di, di + 1
            else:
                head = di
                for i, (ad, ln, fl) in enumerate(descs):
                    nf = NEXT if i + 1 < len(descs) else 0
                    struct.pack_into('<QIHH', ram, d + 16 * (di + i), ad, ln,
                                     fl | nf, di + i + 1 if nf else 0)
                di += len(descs)
            struct.pack_into('<H', ram, a + 4 + 2 * ci, head)
        struct.pack_into('<HH', ram, a, 0, len(chains))
    hdr = struct.pack('<I3B', feat, *sizes)
    for d, a, u in NQ_RINGS:
        hdr += struct.pack('<HHH', d, a, u)
    hdr += struct.pack('<H', len(ram))
    body = b''.join(struct.pack('<H', len(f)) + f for f in frames)
    put('net', name, hdr + bytes(ram) + body)


def eth(dst, n, seed=0):
    return dst + b'\x02\0\0\0\0\x01\x88\xb5' + bytes((i * 7 + seed) & 0xff
                                                     for i in range(n - 14))


BCAST, OTHER = b'\xff' * 6, b'\x02\x11\x22\x33\x44\x55'
MCAST = b'\x01\x00\x5e\x00\x00\x01'
rxbufs = lambda n, ln: [[(ln, 1, b'')] for _ in range(n)]
net('rx-plain', 0, [rxbufs(4, 2048), None, None],
    [eth(BCAST, 60), eth(OTHER, 1500, 1)])
net('rx-mrg', F_MRG, [rxbufs(6, 512), None, None],
    [eth(BCAST, 1400), eth(OTHER, 100, 2), eth(BCAST, 600, 3)])
net('rx-too-small', 0, [rxbufs(2, 64), None, None], [eth(BCAST, 200), eth(BCAST, 40)])
# MRG_RXBUF, a first buffer smaller than the header: that frame is
# dropped (the header once went over two buffers); the next arrives.
net('rx-small-first', F_MRG, [[[(10, 1, b'')]] + rxbufs(2, 512), None, None],
    [eth(BCAST, 100), eth(BCAST, 60, 1)])
net('rx-no-buffers', F_MRG, [rxbufs(1, 256), None, None],
    [eth(BCAST, 60, i) for i in range(4)])
# An empty datagram is dropped and counted; the frame behind it arrives.
net('rx-empty', 0, [rxbufs(2, 2048), None, None], [b'', eth(BCAST, 60)])
net('rx-indirect', F_MRG | F_INDIRECT | F_EVENT_IDX,
    [[[(12, 1, b''), (100, 1, b''), (2000, 1, b'')]] + rxbufs(2, 1024),
     None, None], [eth(BCAST, 300), eth(BCAST, 1500, 4)], indirect=[(0, 0)])
hdr0 = b'\0' * 12
net('tx', 0, [None, [[(12, 0, hdr0), (60, 0, eth(OTHER, 60))],
                     [(72, 0, hdr0 + eth(BCAST, 60, 5))],
                     [(12, 0, b'\x01' + b'\0' * 11), (60, 0, eth(OTHER, 60))],
                     [(8, 0, b'')]], None])
net('tx-indirect', F_INDIRECT, [None, [[(6, 0, hdr0), (6, 0, hdr0),
                                        (60, 0, eth(BCAST, 60, 6))]], None],
    indirect=[(1, 0)])


def ctrl(cls, cmd, data):
    return [(2 + len(data), 0, bytes([cls, cmd]) + data), (1, 1, b'')]


def mac_table(uni, multi):
    return (struct.pack('<I', len(uni)) + b''.join(uni) +
            struct.pack('<I', len(multi)) + b''.join(multi))


MYMAC = b'\x02\x00\x00\x00\x00\x01'
CTRL_F = F_CTRL_VQ | F_CTRL_RX | F_MAC_ADDR
net('ctrl-filter', CTRL_F, [rxbufs(8, 2048), None,
    [ctrl(0, 0, b'\0'), ctrl(0, 1, b'\0'),
     ctrl(1, 0, mac_table([OTHER], [MCAST])), ctrl(1, 1, MYMAC),
     ctrl(4, 0, b'\x01\x00'), ctrl(3, 0, b''), ctrl(2, 0, b'\x01\0')]],
    [eth(OTHER, 60), eth(MCAST, 60, 1), eth(MYMAC, 60, 2),
     eth(b'\x02\x99\x99\x99\x99\x99', 60, 3), eth(BCAST, 60, 4)])
net('ctrl-bad', CTRL_F, [None, None,
    [ctrl(1, 0, struct.pack('<I', 65) + b'\0' * 8), ctrl(0, 0, b'\0\0'),
     ctrl(1, 1, MCAST), [(2, 0, b'\0\0')]]])


# qcow2: real qemu-img/qemu-io output, a top image backed by base.qcow2
# (4 KiB clusters keep them small), then hand-broken variants.  Input:
# u32 top length, u32 base length, flags, 7 spare, top, base, 8-byte ops
# (op, pattern, u32 sector, sectors - 1, iovec split).
import shutil
import subprocess
import tempfile


def qops(*ops):
    return b''.join(struct.pack('<BBIBB', *o) for o in ops)


def qcow2_seeds():
    if not shutil.which('qemu-img') or not shutil.which('qemu-io'):
        print('mkseeds: qemu-img/qemu-io missing (package qemu-utils), '
              'qcow2 seeds not written')
        return
    tmp = tempfile.mkdtemp()
    run = lambda *a: subprocess.run(a, cwd=tmp, check=True,
                                    stdout=subprocess.DEVNULL)
    qc = ['-o', 'cluster_size=4096']
    run('qemu-img', 'create', '-q', '-f', 'qcow2', *qc, 'base.qcow2', '1M')
    run('qemu-io', '-c', 'write -P 0x11 0 8k', '-c', 'write -P 0x22 512k 8k',
        'base.qcow2')
    run('qemu-img', 'create', '-q', '-f', 'qcow2', *qc, '-b', 'base.qcow2',
        '-F', 'qcow2', 'top.qcow2')
    base = open(os.path.join(tmp, 'base.qcow2'), 'rb').read()
    top = open(os.path.join(tmp, 'top.qcow2'), 'rb').read()
    run('qemu-io', '-c', 'write -P 0x33 4k 4k', 'top.qcow2')
    top_w = open(os.path.join(tmp, 'top.qcow2'), 'rb').read()
    run('qemu-img', 'create', '-q', '-f', 'raw', 'base.raw', '256k')
    run('qemu-img', 'create', '-q', '-f', 'qcow2', *qc, '-b', 'base.raw',
        '-F', 'raw', 'top-raw.qcow2')
    top_raw = open(os.path.join(tmp, 'top-raw.qcow2'), 'rb').read()
    shutil.rmtree(tmp)

    def q(name, t, b, ops, flags=0):
        put('qcow2', name, struct.pack('<IIB7x', len(t), len(b), flags) +
            t + b + ops)

    rw = qops((1, 0x44, 0, 7, 0), (0, 0, 0, 15, 100), (2, 0, 8, 7, 0),
              (0, 0, 0, 15, 0), (3, 0, 1020, 7, 0), (0, 0, 1020, 15, 3),
              (4, 0, 0, 0, 0), (1, 0x55, 2040, 63, 17), (0, 0, 2040, 63, 0))
    q('fresh', top, base, rw)
    q('written', top_w, base, qops((0, 0, 0, 31, 0), (1, 0x66, 9, 3, 0),
                                   (0, 0, 8, 7, 200), (2, 0, 0, 63, 0),
                                   (0, 0, 0, 31, 0)))
    q('read-only', top, base, qops((0, 0, 1024, 15, 0), (1, 1, 0, 0, 0)), 1)
    q('raw-backing', top_raw, b'\x77' * 4096, rw)
    # Broken by hand: L1 entry at the header, backing name leaving the
    # directory, the image as its own backing file, cluster_bits 31.
    t = bytearray(top_w)
    l1 = struct.unpack_from('>Q', t, 40)[0]
    struct.pack_into('>Q', t, l1, 0x8000000000000000)
    q('l1-at-header', bytes(t), base, rw)
    boff, blen = struct.unpack_from('>QI', t, 8)
    t = bytearray(top)
    name = b'../../etc/passwd'[:blen].ljust(blen, b'/')
    t[boff:boff + blen] = name
    q('backing-escape', bytes(t), base, rw)
    t = bytearray(top)
    t[boff:boff + blen] = b'top.qcow2'.ljust(blen, b'\0')
    struct.pack_into('>I', t, 16, 9)
    q('backing-loop', bytes(t), base, rw)
    t = bytearray(top)
    struct.pack_into('>I', t, 20, 31)
    q('cluster-bits', bytes(t), base, rw)


qcow2_seeds()

# virtio-mmio, virtio-pci (tests/fuzz/xport.h): byte 0 the device and the
# transport variant, a 16-bit length, the register accesses, then guest
# RAM with a ring (desc 0x1000, avail 0x2000, used 0x3000 unless a legacy
# layout puts them elsewhere) holding one request.
def acc(region, size, off, val=None, settle=False):
    b = region | {1: 0, 2: 1, 4: 2, 8: 3}[size] << 3
    b |= (0x20 if val is not None else 0) | (0x40 if settle else 0)
    out = struct.pack('<BH', b, off)
    return out + (val.to_bytes(size, 'little') if val is not None else b'')


def xram(chain, desc=0x1000, avail=0x2000, used=0x3000):
    """chain: list of (gpa, len, writable) as one descriptor chain."""
    ram = bytearray(0x8000)
    for i, (gpa, ln, w) in enumerate(chain):
        nf = NEXT if i + 1 < len(chain) else 0
        struct.pack_into('<QIHH', ram, desc + 16 * i, gpa, ln,
                         (WRITE if w else 0) | nf, i + 1 if nf else 0)
    struct.pack_into('<HHH', ram, avail, 0, 1, 0)
    del used
    return bytes(ram)


def xport(name, target, dev, ops, ram):
    put(target, name, bytes([dev]) + struct.pack('<H', len(ops)) + ops + ram)


RNG_CHAIN = [(0x4000, 64, 1)]
BLK_CHAIN = [(0x4000, 16, 0), (0x5000, 512, 1), (0x6000, 1, 1)]


def blk_ram(ram, rtype=0, sector=1):
    ram = bytearray(ram)
    struct.pack_into('<IIQ', ram, 0x4000, rtype, 0, sector)
    return bytes(ram)


def mmio_v2(qsz=8, features=(1, 0)):
    M = 0
    o = acc(M, 4, 0x70, 1) + acc(M, 4, 0x70, 3)
    o += acc(M, 4, 0x24, 1) + acc(M, 4, 0x20, features[0])
    o += acc(M, 4, 0x24, 0) + acc(M, 4, 0x20, features[1])
    o += acc(M, 4, 0x70, 0xb) + acc(M, 4, 0x70)
    o += acc(M, 4, 0x30, 0) + acc(M, 4, 0x34) + acc(M, 4, 0x38, qsz)
    o += acc(M, 4, 0x80, 0x1000) + acc(M, 4, 0x90, 0x2000)
    o += acc(M, 4, 0xa0, 0x3000) + acc(M, 4, 0x44, 1)
    o += acc(M, 4, 0x70, 0xf)
    return o


KICK_MMIO = acc(0, 4, 0x50, 0, settle=True) + acc(0, 4, 0x60) + \
    acc(0, 4, 0x64, 1) + acc(0, 4, 0x70)
put_ops = mmio_v2() + KICK_MMIO
xport('rng', 'virtio-mmio', 0, put_ops + acc(0, 4, 0x70, 0), xram(RNG_CHAIN))
xport('blk-read', 'virtio-mmio', 1, put_ops + acc(1, 8, 0) + acc(1, 4, 0x14),
      blk_ram(xram(BLK_CHAIN)))
xport('blk-ro-write', 'virtio-mmio', 3, put_ops, blk_ram(xram(BLK_CHAIN), 1))
xport('event-idx', 'virtio-mmio', 0,
      mmio_v2(features=(1, 1 << 29)) + KICK_MMIO, xram(RNG_CHAIN))
xport('regs', 'virtio-mmio', 0,
      b''.join(acc(0, 4, r) for r in range(0, 0x100, 4)) +
      acc(0, 2, 0x70) + acc(0, 1, 0x71) + acc(0, 4, 0x70, 0x80) +
      acc(0, 4, 0x70, 1) + acc(0, 4, 0x70, 0), b'')
# Version 1: GuestPageSize, QueueNum, QueueAlign, QueuePFN (ring at 0x1000,
# avail right after the descriptors, used on the next page).
legacy = acc(0, 4, 0x70, 3) + acc(0, 4, 0x28, 4096) + acc(0, 4, 0x30, 0) + \
    acc(0, 4, 0x38, 8) + acc(0, 4, 0x3c, 4096) + acc(0, 4, 0x40, 1) + \
    acc(0, 4, 0x70, 7) + KICK_MMIO + acc(0, 4, 0x40)
xport('legacy', 'virtio-mmio', 4, legacy, xram(RNG_CHAIN, avail=0x1080))
xport('race', 'virtio-mmio', 1,
      mmio_v2() + acc(0, 4, 0x50, 0) + acc(7, 2, 0x2002, 0) +
      acc(7, 8, 0x1000, 0x7ff0) + acc(0, 4, 0x70, 0, settle=True),
      blk_ram(xram(BLK_CHAIN)))


# virtio-pci: regions 0 config, 1 capability, 2 BAR0, 3 BAR1, 4 common,
# 5 BAR4 pages ISR/device/notify (from 0x1000), 6 BAR4, 7 RAM.
def pci_modern(features=1, qsz=8, vector=None):
    o = acc(0, 2, 4, 7)				# COMMAND: I/O, memory, master
    o += acc(4, 1, 0x14, 1) + acc(4, 1, 0x14, 3)
    o += acc(4, 4, 0x08, 1) + acc(4, 4, 0x0c, features)
    o += acc(4, 4, 0x08, 0) + acc(4, 4, 0x0c, 1 << 28)
    o += acc(4, 1, 0x14, 0xb) + acc(4, 1, 0x14)
    o += acc(4, 2, 0x16, 0) + acc(4, 2, 0x18, qsz)
    o += acc(4, 8, 0x20, 0x1000) + acc(4, 8, 0x28, 0x2000)
    o += acc(4, 4, 0x30, 0x3000) + acc(4, 4, 0x34, 0)
    if vector is not None:
        o += acc(4, 2, 0x1a, vector) + acc(4, 2, 0x10, vector)
    o += acc(4, 2, 0x1c, 1) + acc(4, 1, 0x14, 0xf)
    return o


KICK_PCI = acc(5, 2, 0x2000, 0, settle=True) + acc(5, 1, 0) + acc(4, 1, 0x14)
MSIX = acc(1, 2, 0x2, 0x8000) + acc(3, 4, 0, 0xfee00000) + \
    acc(3, 4, 8, 0x4021) + acc(3, 4, 12, 0)
xport('rng', 'virtio-pci', 0, pci_modern() + KICK_PCI + acc(4, 1, 0x14, 0),
      xram(RNG_CHAIN))
xport('blk-read', 'virtio-pci', 1, pci_modern() + KICK_PCI + acc(5, 8, 0x1000),
      blk_ram(xram(BLK_CHAIN)))
xport('msix', 'virtio-pci', 0, MSIX + pci_modern(vector=0) + KICK_PCI +
      acc(3, 4, 0x800) + acc(3, 4, 12, 1) + acc(5, 2, 0x2000, 0, True) +
      acc(3, 4, 0x800) + acc(3, 4, 12, 0), xram(RNG_CHAIN))
xport('modern-only', 'virtio-pci', 8, pci_modern() + KICK_PCI,
      xram(RNG_CHAIN))
# The PCI_CFG window (capability 4 on a transitional rng: MSI-X, common,
# notify, ISR, PCI_CFG): BAR 4, offset 0x14 (status), length 1, data.
window = acc(1, 1, 0x404, 4) + acc(1, 4, 0x408, 0x14) + acc(1, 4, 0x40c, 1)
xport('pci-cfg-window', 'virtio-pci', 0,
      window + acc(1, 1, 0x410, 3) + acc(1, 1, 0x410) + acc(1, 1, 0x410, 0),
      b'')
# Legacy: the I/O BAR, queue PFN 1 (ring at 0x1000, avail after the 8
# descriptors... the legacy size is the maximum, so avail moves with it).
legacy = acc(0, 2, 4, 7) + acc(2, 1, 0x12, 3) + acc(2, 4, 4, 0) + \
    acc(2, 2, 0xe, 0) + acc(2, 2, 0xc) + acc(2, 4, 8, 1) + \
    acc(2, 1, 0x12, 7) + acc(2, 2, 0x10, 0, settle=True) + acc(2, 1, 0x13) + \
    acc(2, 1, 0x12, 0)
xport('legacy', 'virtio-pci', 4, legacy, xram(RNG_CHAIN, avail=0x1000 + 16 * 256))
xport('config-space', 'virtio-pci', 0,
      b''.join(acc(0, 4, r) for r in range(0, 0x100, 4)) +
      acc(0, 4, 0x10, 0xffffffff) + acc(0, 4, 0x10) + acc(0, 4, 0x24, 0xffffffff) +
      acc(0, 2, 4, 0) + acc(0, 2, 4, 7), b'')


# p9-path: op (bits 0-2 what, 3-5 slot a, 6-7 open flags), slot b, name
# length (bit 7: the name 8 times), name.  Slot 0 is the export's root;
# it holds file, dir/{sub,inner,up -> ../..}, out -> ../sentinel and
# abs -> the sentinel's absolute path.
def pp(what, a, b, name=b'', flags=0, rep=False):
    return bytes([what | a << 3 | flags << 6, b,
                  len(name) | (0x80 if rep else 0)]) + name


WALK, OPEN, REOPEN, PARENT, RM, SWAP, PLANT, MKDIR = range(8)
put('p9-path', 'walk-open', pp(WALK, 0, 1, b'dir') + pp(WALK, 1, 2, b'inner') +
    pp(REOPEN, 2, 0) + pp(REOPEN, 1, 0, flags=2) + pp(PARENT, 2, 0) +
    pp(OPEN, 1, 0, b'new', flags=3))
put('p9-path', 'dotdot', pp(WALK, 0, 1, b'..') + pp(WALK, 1, 2, b'..') +
    pp(WALK, 0, 3, b'dir') + pp(WALK, 3, 4, b'..') + pp(WALK, 4, 5, b'..') +
    pp(REOPEN, 5, 0, flags=2) + pp(WALK, 0, 1, b'dir/..'))
put('p9-path', 'symlinks', pp(WALK, 0, 1, b'out') + pp(REOPEN, 1, 0) +
    pp(WALK, 0, 2, b'abs') + pp(OPEN, 0, 0, b'out') + pp(WALK, 0, 3, b'dir') +
    pp(WALK, 3, 4, b'up') + pp(WALK, 4, 5, b'dir') + pp(OPEN, 3, 0, b'up', flags=2))
put('p9-path', 'swap', pp(WALK, 0, 1, b'file') + pp(SWAP, 1, 0, b'\1') +
    pp(REOPEN, 1, 0) + pp(WALK, 0, 2, b'dir') + pp(WALK, 2, 3, b'sub') +
    pp(SWAP, 2, 0) + pp(REOPEN, 2, 0, flags=2) + pp(WALK, 2, 4, b'inner') +
    pp(REOPEN, 3, 0, flags=2) + pp(PARENT, 3, 0))
put('p9-path', 'removed', pp(WALK, 0, 1, b'dir') + pp(WALK, 1, 2, b'sub') +
    pp(RM, 2, 0) + pp(REOPEN, 2, 0, flags=2) + pp(WALK, 2, 3, b'x') +
    pp(MKDIR, 2, 0, b'y') + pp(OPEN, 2, 0, b'z', flags=3) + pp(PARENT, 2, 0))
put('p9-path', 'plant', pp(PLANT, 0, 0, b'../sentinel!l1') +
    pp(PLANT, 0, 0, b'/!l2') + pp(WALK, 0, 1, b'l1') + pp(OPEN, 0, 0, b'l2', flags=2) +
    pp(MKDIR, 0, 0, b'm') + pp(WALK, 0, 2, b'm') + pp(PLANT, 2, 0, b'..!up') +
    pp(WALK, 2, 3, b'up') + pp(REOPEN, 3, 0, flags=2))
put('p9-path', 'long', pp(WALK, 0, 1, b'a' * 100, rep=True) +
    pp(MKDIR, 0, 0, b'b' * 127) + pp(WALK, 0, 1, b'b' * 127) +
    pp(MKDIR, 1, 0, b'c' * 127) + pp(WALK, 1, 2, b'c' * 127) +
    pp(OPEN, 2, 0, b'd' * 40, flags=3, rep=True) + pp(WALK, 0, 3, b'x\0y') +
    pp(WALK, 0, 4, b'dir/inner') + pp(WALK, 0, 5, b'.'))


# blk: a 16-byte header (flags, log2 queue size, desc/avail/used gpa,
# refused features, second batch size), then RAM with the requests.
def blk_batch(reqs, flags=0, qlog=4, refuse=0, second=0, indirect=()):
    """reqs: list of (type, sector, [(len, writable)], payload)."""
    desc, avail, used, buf, tbl = 0x1000, 0x2000, 0x3000, 0x4000, 0x9800
    ram = bytearray(0xa000)
    d = 0
    for n, (rtype, sector, segs, payload) in enumerate(reqs):
        struct.pack_into('<IIQ', ram, buf, rtype, 0, sector)
        ram[buf + 16:buf + 16 + len(payload)] = payload
        chain = [(buf, 16 + len(payload), 0)]
        b = buf + 0x400
        for ln, w in segs:
            chain.append((b, ln, WRITE if w else 0))
            b += (ln + 15) & ~15
        buf = (b + 0xfff) & ~0xfff
        if n in indirect:
            for i, (a, ln, f) in enumerate(chain):
                nf = NEXT if i + 1 < len(chain) else 0
                struct.pack_into('<QIHH', ram, tbl + 16 * i, a, ln, f | nf,
                                 i + 1 if nf else 0)
            struct.pack_into('<QIHH', ram, desc + 16 * d, tbl,
                             16 * len(chain), INDIRECT, 0)
            tbl += 16 * len(chain)
            struct.pack_into('<H', ram, avail + 4 + 2 * n, d)
            d += 1
            continue
        struct.pack_into('<H', ram, avail + 4 + 2 * n, d)
        for i, (a, ln, f) in enumerate(chain):
            nf = NEXT if i + 1 < len(chain) else 0
            struct.pack_into('<QIHH', ram, desc + 16 * (d + i), a, ln,
                             f | nf, d + i + 1 if nf else 0)
        d += len(chain)
    struct.pack_into('<HH', ram, avail, 0, len(reqs))
    hdr = struct.pack('<BBHHHBB6x', flags, qlog, desc, avail, used, refuse,
                      second)
    return hdr + bytes(ram)


IN, OUT, FLUSH, GET_ID, DISCARD, WZ = 0, 1, 4, 8, 11, 13
put('blk', 'read', blk_batch([(IN, 2, [(1024, 1), (1, 1)], b'')]))
put('blk', 'read-ro', blk_batch([(IN, 5, [(512, 1), (1, 1)], b''),
                                 (OUT, 0, [(1, 1)], b'x' * 512)], flags=1))
put('blk', 'write-read', blk_batch([(OUT, 3, [(1, 1)], b'w' * 512),
                                    (IN, 3, [(512, 1), (1, 1)], b''),
                                    (FLUSH, 0, [(1, 1)], b'')], flags=2))
put('blk', 'mixed', blk_batch([(GET_ID, 0, [(20, 1), (1, 1)], b''),
                               (DISCARD, 0, [(1, 1)], struct.pack('<QII', 8, 8, 0)),
                               (WZ, 16, [(1, 1)], struct.pack('<QII', 16, 8, 1)),
                               (IN, 127, [(1024, 1), (1, 1)], b''),
                               (99, 0, [(1, 1)], b'')], flags=6, indirect=(1,)))
put('blk', 'two-batches', blk_batch([(IN, 0, [(512, 1), (1, 1)], b''),
                                     (IN, 1, [(100, 1), (412, 1), (1, 1)], b'')],
                                    flags=9, second=2))
put('blk', 'no-status', blk_batch([(IN, 0, [], b'')]))
