"""Parse the shim's log and reconstruct a data directory as a power cut at the end of the log
would leave it.

Durability rule (worst case): a data change (write / ftruncate / O_TRUNC open / fallocate) to a
file (identified by device+inode, so an fd to an unlinked-and-recreated file does not count) is
kept only if an fsync/fdatasync on that same inode STARTED after the change RETURNED (its log
sequence number is larger: the shim logs a change after it returns and a sync before it starts)
and that sync RETURNED 0 before the kill (its end record is in the log). Everything else is lost.

Because every change before a completed sync's start is durable, the durable changes of a file
are a prefix (by sequence number) of its changes. The "random" mode keeps that prefix plus a
random page-granular subset (4 KiB aligned pieces) of the non-durable tail, applied in order:
torn and reordered writes.

Metadata (creat / unlink / rename) is taken as it stood at the kill (not modelled as lost);
the reconstruction reports whether the directory was fsynced after a file was created.
"""
import os
import random
import shutil
import struct

HDR = struct.Struct("<IIQiiqqqQQiiII")
MAGIC = 0x50435554
T_OPEN, T_WRITE, T_TRUNC, T_SYNC_START, T_SYNC_END, T_CLOSE = 1, 2, 3, 4, 5, 6
T_UNLINK, T_RENAME, T_MMAP, T_LINK, T_FALLOC, T_NOTE = 7, 8, 9, 10, 11, 12
NAMES = {1: "open", 2: "write", 3: "trunc", 4: "sync_start", 5: "sync_end", 6: "close",
         7: "unlink", 8: "rename", 9: "mmap", 10: "link", 11: "fallocate", 12: "note"}
PAGE = 4096
O_TRUNC = 0o1000


class Rec:
    __slots__ = ("type", "seq", "tid", "fd", "a", "b", "c", "dev", "ino", "ret", "err", "path",
                 "data", "path2", "gen")

    def key(self):
        return (self.dev, self.ino, self.gen)

    def __repr__(self):
        extra = ""
        if self.type == T_WRITE:
            extra = f" off={self.a} len={self.b}"
        elif self.type == T_TRUNC:
            extra = f" len={self.a}"
        elif self.type in (T_SYNC_START, T_SYNC_END):
            extra = " " + ("fsync" if self.a == 1 else "fdatasync") + (f" ret={self.ret}" if self.type == T_SYNC_END else "")
        elif self.type == T_OPEN:
            extra = f" flags={oct(self.a)}"
        return f"#{self.seq} tid={self.tid} {NAMES.get(self.type)} fd={self.fd} {os.path.basename(self.path)} ino={self.ino}{extra}"


def parse(path):
    buf = open(path, "rb").read()
    recs, pos = [], 0
    while pos + HDR.size <= len(buf):
        f = HDR.unpack_from(buf, pos)
        if f[0] != MAGIC:
            raise ValueError(f"bad magic at {pos}")
        r = Rec()
        (_, r.type, r.seq, r.tid, r.fd, r.a, r.b, r.c, r.dev, r.ino, r.ret, r.err, plen, dlen) = f
        pos += HDR.size
        if pos + plen + dlen > len(buf):
            break  # torn last record (cannot happen with kill -9, but be safe)
        r.path = buf[pos:pos + plen].decode("utf-8", "replace")
        pos += plen
        d = buf[pos:pos + dlen]
        pos += dlen
        r.path2 = None
        if r.type in (T_RENAME, T_LINK):
            r.path2, r.data = d.decode("utf-8", "replace"), b""
        else:
            r.data = d
        recs.append(r)
    recs.sort(key=lambda r: r.seq)
    for i, r in enumerate(recs):  # the sequence must be gap-free: nothing lost from the log
        if r.seq != i + 1:
            raise ValueError(f"log sequence gap at {i + 1} (got {r.seq})")
    # inode numbers are reused once a file is unlinked: a generation per (dev, ino) that moves
    # on when the file's last known name is unlinked, so the old and the new file never mix
    gen, name_ino = {}, {}
    for r in recs:
        if r.type == T_OPEN and r.ino:
            name_ino[r.path] = (r.dev, r.ino)
        if r.type == T_UNLINK and r.path in name_ino:
            di = name_ino.pop(r.path)
            if di not in name_ino.values():
                gen[di] = gen.get(di, 0) + 1
        if r.type == T_RENAME and r.path in name_ino:
            name_ino[r.path2] = name_ino.pop(r.path)
        r.gen = gen.get((r.dev, r.ino), 0) if r.ino else 0
    return recs


def changes_of(recs):
    """Data-changing records, per inode, in order."""
    out = {}
    for r in recs:
        if r.type in (T_WRITE, T_TRUNC, T_FALLOC) or (r.type == T_OPEN and r.a >= 0 and r.a & O_TRUNC):
            out.setdefault(r.key(), []).append(r)
    return out


def durable_horizon(recs):
    """Per inode: the START seq of the latest-starting sync that completed successfully.
    A change with seq < horizon is durable."""
    start_of = {}  # tid -> start record
    horizon = {}
    for r in recs:
        if r.type == T_SYNC_START:
            start_of[r.tid] = r
        elif r.type == T_SYNC_END:
            s = start_of.pop(r.tid, None)
            if s is None or s.key() != r.key():
                raise ValueError(f"unpaired sync end {r}")
            if r.ret == 0:
                horizon[r.key()] = max(horizon.get(r.key(), 0), s.seq)
    return horizon


def apply(content, r, pieces=None):
    """Applies change r to bytearray content; pieces: optional list of (off, bytes) subset."""
    if r.type == T_WRITE:
        for off, data in (pieces if pieces is not None else [(r.a, r.data)]):
            end = off + len(data)
            if len(content) < off:
                content.extend(b"\0" * (off - len(content)))
            content[off:end] = data
    elif r.type == T_TRUNC or r.type == T_OPEN:
        n = r.a if r.type == T_TRUNC else 0
        if len(content) > n:
            del content[n:]
        else:
            content.extend(b"\0" * (n - len(content)))
    elif r.type == T_FALLOC:
        if r.c == 0 and len(content) < r.a + r.b:  # plain allocate: may extend the size
            content.extend(b"\0" * (r.a + r.b - len(content)))


def page_pieces(r):
    off, data, out = r.a, r.data, []
    i = 0
    while i < len(data):
        o = off + i
        n = min(PAGE - (o % PAGE), len(data) - i)
        out.append((o, data[i:i + n]))
        i += n
    return out


def final_names(recs, initial):
    """path -> (dev, ino) at the kill. initial: path -> (dev, ino) when the server started."""
    names = dict(initial)
    for r in recs:
        if r.type == T_OPEN and r.ino:
            names[r.path] = r.key()
        elif r.type == T_UNLINK and r.ret == 0:
            names.pop(r.path, None)
            for p in [p for p in names if p.startswith(r.path + "/")]:
                names.pop(p)
        elif r.type == T_RENAME and r.ret == 0:
            if r.path in names:
                names[r.path2] = names.pop(r.path)
        elif r.type == T_LINK and r.ret == 0:
            if r.path in names:
                names[r.path2] = names[r.path]
    return names


def reconstruct(recs, snapshot, live_dir, out, initial, mode="worst", seed=0, keep_prob=0.5):
    """Builds `out` from `snapshot` (copy of the data dir taken before the server started; the
    log paths are under `live_dir`). mode: worst | random | all (= process crash only).
    Returns stats."""
    live_dir = os.path.realpath(live_dir)
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(snapshot, out, symlinks=True)
    rng = random.Random(seed)
    changes = changes_of(recs)
    horizon = durable_horizon(recs)
    names = final_names(recs, initial)
    inode_path_initial = {v: k for k, v in initial.items()}
    stats = {"changes": 0, "durable": 0, "dropped": 0, "dropped_bytes": 0, "partial_kept_pieces": 0,
             "dropped_by_file": {}, "unsupported": []}
    for r in recs:
        if r.type == T_NOTE and r.a == 2:
            stats["unsupported"].append(repr(r))
        if r.type == T_MMAP and (r.b & 2) and (r.c & 1) and not r.path.endswith("-shm"):
            stats["unsupported"].append("shared writable mmap: " + repr(r))
    contents = {}
    for key, chs in changes.items():
        orig = inode_path_initial.get(key)
        base = bytearray()
        if orig is not None:
            sp = os.path.join(snapshot, os.path.relpath(orig, live_dir))
            if os.path.isfile(sp):
                base = bytearray(open(sp, "rb").read())
        h = horizon.get(key, 0)
        for r in chs:
            stats["changes"] += 1
            if mode == "all" or r.seq < h:
                stats["durable"] += 1
                apply(base, r)
                continue
            stats["dropped"] += 1
            name = os.path.basename(r.path)
            stats["dropped_by_file"][name] = stats["dropped_by_file"].get(name, 0) + 1
            stats["dropped_bytes"] += len(r.data) if r.type == T_WRITE else 0
            if mode == "random":
                if r.type == T_WRITE:
                    kept = [p for p in page_pieces(r) if rng.random() < keep_prob]
                    stats["partial_kept_pieces"] += len(kept)
                    if kept:
                        apply(base, r, kept)
                elif rng.random() < keep_prob:
                    apply(base, r)
        contents[key] = base
    # lay out the final directory
    live_paths = {p for p in names}
    for p, key in names.items():
        rel = os.path.relpath(p, live_dir)
        if rel.startswith(".."):
            continue
        dst = os.path.join(out, rel)
        if key in contents:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(contents[key])
        elif key in inode_path_initial and inode_path_initial[key] != p:
            src = os.path.join(snapshot, os.path.relpath(inode_path_initial[key], live_dir))
            if os.path.isfile(src):
                shutil.copyfile(src, dst)
        elif key not in inode_path_initial and not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not os.path.isdir(dst):
                open(dst, "wb").close()  # created, never written
    # files that existed at start but are gone at the kill
    for p in initial:
        if p not in live_paths:
            dst = os.path.join(out, os.path.relpath(p, live_dir))
            if os.path.isfile(dst):
                os.remove(dst)
    for root, _, files in os.walk(out):
        for fn in files:
            if fn.endswith("-shm"):
                os.remove(os.path.join(root, fn))
    return stats


def initial_inodes(live_dir):
    live_dir = os.path.realpath(live_dir)
    out = {}
    for root, dirs, files in os.walk(live_dir):
        for fn in files + dirs:
            p = os.path.join(root, fn)
            st = os.lstat(p)
            if not os.path.isdir(p):
                out[p] = (st.st_dev, st.st_ino, 0)
    return out


def summary(recs):
    from collections import Counter
    c = Counter((NAMES[r.type], os.path.basename(r.path)) for r in recs)
    return c


if __name__ == "__main__":
    import sys
    recs = parse(sys.argv[1])
    for k, v in sorted(summary(recs).items()):
        print(v, *k)
    if len(sys.argv) > 2:
        for r in recs[: int(sys.argv[2])]:
            print(r)
