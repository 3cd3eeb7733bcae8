#!/usr/bin/env python3
"""Power-cut test driver for Porchlight.

  python3 pcut.py run --cycles 10              # normal configuration (synchronous=full)
  python3 pcut.py run --cycles 1 --sync normal # sanity check: app does not fsync commits
  python3 pcut.py all                          # build shim, 10 normal cycles + sanity cycle

Each cycle: seed a demo data dir, snapshot it, run `porchlight serve` under the LD_PRELOAD shim
with 16 client threads creating tickets / visitor submissions, kill -9 after 1-4 s, reconstruct
the directory as a power cut would leave it (worst case + random torn/reordered subsets + "all"
= plain process crash), and check every reconstruction.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

import pcutlog

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("PCUT_BIN", os.path.join(HERE, "..", "..", "target", "release", "porchlight"))
SHIM = os.environ.get("PCUT_SHIM", os.path.join(HERE, "shim.so"))
DB = "porchlight.sqlite3"
BASE_ENV = {
    "PORCHLIGHT_LOG_LEVEL": "warn",
    "PORCHLIGHT_SHARE_SUBMISSIONS_PER_HOUR": "1000000",
    "PORCHLIGHT_SERVER_TRUSTED_PROXIES": "127.0.0.1",
}


def env(extra=None):
    e = dict(os.environ)
    e.update(BASE_ENV)
    e.update(extra or {})
    return e


def start(args, out_path, extra_env=None, timeout=60):
    out = open(out_path, "wb")
    p = subprocess.Popen([BIN] + args, stdout=out, stderr=subprocess.STDOUT, env=env(extra_env))
    t0 = time.time()
    while time.time() - t0 < timeout:
        if b"listening on" in open(out_path, "rb").read():
            return p
        if p.poll() is not None:
            raise RuntimeError(f"porchlight exited {p.returncode}: {open(out_path).read()}")
        time.sleep(0.1)
    p.kill()
    raise RuntimeError("porchlight did not start: " + open(out_path).read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise RuntimeError("porchlight did not stop on SIGTERM")


# ---------------------------------------------------------------- HTTP client
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def req(self, method, path, form=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
            h["Origin"] = f"http://127.0.0.1:{self.port}"
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        for sc in r.msg.get_all("set-cookie") or []:
            kv = sc.split(";", 1)[0]
            k, _, v = kv.partition("=")
            if k.startswith("pl_") and k != "pl_flash":
                self.cookies[k] = v
        return r.status, r.getheader("location"), data.decode("utf-8", "replace")

    def csrf(self, path):
        st, _, body = self.req("GET", path)
        m = CSRF.search(body)
        if st != 200 or not m:
            raise RuntimeError(f"GET {path}: {st}")
        return m.group(1)


def staff_session(port):
    staff = Client(port)
    tok = staff.csrf("/login")
    st, loc, _ = staff.req("POST", "/login", {"csrf_token": tok, "email": "admin@demo.example",
                                              "password": "demo-admin-pass", "next": ""})
    if st != 303:
        raise RuntimeError(f"login: {st}")
    return dict(staff.cookies)


def client_thread(port, share, idx, cycle, stop_ev, acked, lock, errors, counter, cookies):
    try:
        staff = Client(port)
        staff.cookies = dict(cookies)  # one sign-in shared by all threads (login is rate limited)
        new_tok = staff.csrf("/tickets/new")
        vis = Client(port)
        vis_tok = vis.csrf(share)
    except Exception as e:  # noqa
        errors.append(f"setup {idx}: {e!r}")
        return
    n = 0
    while not stop_ev.is_set():
        n += 1
        kind = "c" if (n + idx) % 2 else "s"
        marker = f"pcut{cycle}-{kind}{idx}-{n}-{random.getrandbits(40):010x}"
        try:
            if kind == "c":
                st, loc, _ = staff.req("POST", "/tickets/new", {
                    "csrf_token": new_tok, "project": "ACME", "subject": marker,
                    "body": f"power cut test body {marker}", "priority": "normal", "assignee": ""})
            else:
                with lock:
                    counter[0] += 1
                    c = counter[0]
                xff = f"10.{(c >> 16) & 255}.{(c >> 8) & 255}.{c & 255}"
                st, loc, _ = vis.req("POST", share, {
                    "csrf_token": vis_tok, "title": marker, "description": f"visitor text {marker}",
                    "name": "", "email": "", "website": ""}, {"X-Forwarded-For": xff})
        except Exception as e:  # noqa  (the server was killed)
            errors.append((time.time(), f"{idx}: {e!r}"))
            return
        if st == 303:
            with lock:
                acked.append((kind, marker, time.time()))
        else:
            errors.append((time.time(), f"{idx}: {kind} status {st}"))
            if len(errors) > 50:
                return


# ---------------------------------------------------------------- checks
def db_check(d, acked):
    con = sqlite3.connect(os.path.join(d, DB))
    try:
        res = {"integrity": con.execute("PRAGMA integrity_check").fetchall()}
        res["integrity"] = "ok" if res["integrity"] == [("ok",)] else repr(res["integrity"][:5])
        q = lambda s: con.execute(s).fetchone()[0]  # noqa
        res["tickets"] = q("select count(*) from tickets")
        res["titles_docsize"] = q("select count(*) from ticket_titles_docsize")
        res["bodies_docsize"] = q("select count(*) from ticket_bodies_docsize")
        res["search_pending"] = q("select count(*) from search_pending")
        have = set()
        for s, pt in con.execute("select subject, public_title from tickets where subject like 'pcut%' or public_title like 'pcut%'"):
            have.add(s)
            have.add(pt)
        res["found_c"] = sum(1 for k, m, _ in acked if k == "c" and m in have)
        res["found_s"] = sum(1 for k, m, _ in acked if k == "s" and m in have)
        res["missing"] = [m for k, m, _ in acked if m not in have]
        res["pcut_rows"] = len([h for h in have if h])
        res["index_ok"] = res["tickets"] == res["titles_docsize"] == res["bodies_docsize"]
    finally:
        con.close()
    return res


def app_reopen(d, port, workdir):
    p = start(["serve", "--data-dir", d, "--listen", f"127.0.0.1:{port}"], os.path.join(workdir, "reopen.out"))
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/healthz")
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        status = r.status
    finally:
        stop(p)
    return status, body[:200]


def locate(recs, marker, kill_seq):
    """Evidence for a lost marker: where its commit's WAL frames were written relative to syncs."""
    mb = marker.encode()
    hits = [r for r in recs if r.type == pcutlog.T_WRITE and mb in r.data]
    if not hits:
        return {"marker": marker, "note": "marker bytes never written to any file"}
    w = hits[0]
    # the commit frame: a 24-byte WAL frame header write with a non-zero "db size after commit"
    commit = next((r for r in recs if r.seq > w.seq and r.type == pcutlog.T_WRITE and r.key() == w.key()
                   and len(r.data) == 24 and int.from_bytes(r.data[4:8], "big") != 0), None)
    if commit is not None:
        w = commit
    syncs = [r for r in recs if r.type in (pcutlog.T_SYNC_START, pcutlog.T_SYNC_END) and r.key() == w.key()]
    before = [r for r in syncs if r.seq < w.seq][-2:]
    after = [r for r in syncs if r.seq > w.seq][:4]
    return {"marker": marker, "commit_frame_write" if commit is not None else "first_write": repr(w), "all_writes": [repr(h) for h in hits[:6]],
            "syncs_before": [repr(r) for r in before], "syncs_after": [repr(r) for r in after],
            "kill_at_seq": kill_seq}


def direct_check(recs, acked, cycle):
    """SQLite-independent check: for each acknowledged marker, the WAL commit frame of the
    transaction that first wrote it (the first frame at or after the marker's page whose header
    has a non-zero "database size after commit") must have been written before the start of a
    sync of the WAL that completed before the kill. Returns (covered, not_covered, not_found, examples)."""
    horizon = pcutlog.durable_horizon(recs)
    wal = [r for r in recs if r.type == pcutlog.T_WRITE and r.path.endswith("-wal")]
    pat = re.compile(rb"pcut%d-[cs]\d+-\d+-[0-9a-f]{10}" % cycle)
    first = {}
    for i, r in enumerate(wal):
        if len(r.data) > 24:
            for m in pat.findall(r.data):
                first.setdefault(m.decode(), i)
    covered, bad, nf = 0, [], 0
    for _, m, _ in acked:
        i = first.get(m)
        if i is None:
            nf += 1
            continue
        j = i - 1 if i > 0 and len(wal[i - 1].data) == 24 else i
        commit = None
        while j < len(wal):
            r = wal[j]
            if len(r.data) == 24 and r.key() == wal[i].key() and int.from_bytes(r.data[4:8], "big") != 0:
                commit = wal[j + 1] if j + 1 < len(wal) else r  # the commit frame's page write
                break
            j += 1
        if commit is not None and commit.seq < horizon.get(commit.key(), 0):
            covered += 1
        else:
            bad.append((m, repr(commit), horizon.get(wal[i].key(), 0)))
    return covered, len(bad), nf, bad[:3]


# ---------------------------------------------------------------- one cycle
def cycle(n, workdir, sync=None, seeds=(1, 2, 3), threads=16, rng=None):
    rng = rng or random.Random(n)
    wd = os.path.join(workdir, f"cycle{n:02d}" + (f"-{sync}" if sync else ""))
    if os.path.exists(wd):
        shutil.rmtree(wd)
    os.makedirs(wd)
    D, SNAP, LOG = os.path.join(wd, "data"), os.path.join(wd, "snapshot"), os.path.join(wd, "pcut.log")
    port = 18600 + 3 * n + (1 if sync else 0) * 60
    # seed
    p = start(["demo", "--tickets", "2000", "--data-dir", D, "--listen", f"127.0.0.1:{port}"],
              os.path.join(wd, "demo.out"))
    share = re.search(r"/s/[A-Za-z0-9_-]{43}", open(os.path.join(wd, "demo.out")).read()).group(0)
    stop(p)
    subprocess.run(["cp", "-a", D, SNAP], check=True)
    initial = pcutlog.initial_inodes(D)
    extra = {"PCUT_DIR": D, "PCUT_LOG": LOG, "LD_PRELOAD": SHIM}
    if sync:
        extra["PORCHLIGHT_SQLITE_SYNCHRONOUS"] = sync
    srv = start(["serve", "--data-dir", D, "--listen", f"127.0.0.1:{port}"], os.path.join(wd, "serve.out"), extra)
    acked, errors, lock, counter, stop_ev = [], [], threading.Lock(), [0], threading.Event()
    cookies = staff_session(port)
    ts = [threading.Thread(target=client_thread, args=(port, share, i, n, stop_ev, acked, lock, errors, counter, cookies),
                           daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    delay = rng.uniform(1.0, 4.0)
    time.sleep(delay)
    # kill while the clients are still sending (stopping them first would let the server drain
    # and sync everything before the kill)
    kill_time = time.time()
    srv.send_signal(signal.SIGKILL)
    srv.wait()
    stop_ev.set()
    for t in ts:
        t.join(35)
    acked = list(acked)
    recs = pcutlog.parse(LOG)
    kill_seq = recs[-1].seq if recs else 0
    row = {"cycle": n, "sync": sync or "full(default)", "kill_after_s": round(delay, 2),
           "acked_c": sum(1 for k, _, _ in acked if k == "c"), "acked_s": sum(1 for k, _, _ in acked if k == "s"),
           "log_records": len(recs),
           "client_errors_before_kill": [e for t, e in errors if t < kill_time][:5], "recons": {}}
    wal_syncs = sum(1 for r in recs if r.type == pcutlog.T_SYNC_END and r.path.endswith("-wal"))
    row["wal_syncs"] = wal_syncs
    if row["client_errors_before_kill"]:
        print("  client errors before the kill:", row["client_errors_before_kill"], flush=True)
    json.dump([(k, m) for k, m, _ in acked], open(os.path.join(wd, "acked.json"), "w"))
    dc = direct_check(recs, acked, n)
    row["direct"] = {"covered": dc[0], "not_covered": dc[1], "not_in_wal": dc[2], "examples": dc[3]}
    modes = [("worst", 0), ("all", 0)] + [("random", s) for s in seeds]
    for mode, seed in modes:
        name = mode if mode != "random" else f"random{seed}"
        out = os.path.join(wd, "recon-" + name)
        st = pcutlog.reconstruct(recs, SNAP, D, out, initial, mode=mode, seed=seed + 1000 * n)
        chk = db_check(out, acked)
        # reopen by the app on a copy, then check again
        cp = out + "-reopened"
        if os.path.exists(cp):
            shutil.rmtree(cp)
        shutil.copytree(out, cp)
        try:
            hz = app_reopen(cp, port + 1, wd)
        except Exception as e:  # noqa
            hz = (None, repr(e)[:200])
        chk2 = db_check(cp, acked)
        ev = [locate(recs, m, kill_seq) for m in chk["missing"][:3]]
        row["recons"][name] = {
            "dropped_writes": st["dropped"], "changes": st["changes"], "dropped_by_file": st["dropped_by_file"],
            "kept_torn_pieces": st["partial_kept_pieces"], "unsupported": st["unsupported"][:3],
            "integrity": chk["integrity"], "found_c": chk["found_c"], "found_s": chk["found_s"],
            "missing": len(chk["missing"]), "index_before": (chk["tickets"], chk["titles_docsize"], chk["bodies_docsize"], chk["search_pending"]),
            "healthz": hz[0], "integrity_after": chk2["integrity"],
            "index_after": (chk2["tickets"], chk2["titles_docsize"], chk2["bodies_docsize"], chk2["search_pending"]),
            "found_after": chk2["found_c"] + chk2["found_s"], "evidence": ev,
        }
        if mode != "worst":
            shutil.rmtree(cp)
            shutil.rmtree(out)
    json.dump(row, open(os.path.join(wd, "result.json"), "w"), indent=1)
    # keep disk use down: the log and dirs of a clean cycle are not needed
    return row


def ok_recon(r):
    return (r["integrity"] == "ok" and r["integrity_after"] == "ok" and r["missing"] == 0
            and r["found_after"] == r["found_c"] + r["found_s"] and r["healthz"] == 200
            and r["index_before"][0] == r["index_before"][1] == r["index_before"][2]
            and r["index_after"][0] == r["index_after"][1] == r["index_after"][2] and r["index_after"][3] == 0)


def print_row(row):
    w = row["recons"]["worst"]
    bad = [k for k, r in row["recons"].items() if not ok_recon(r)]
    idx = lambda t: f"{t[0]}/{t[1]}/{t[2]}/{t[3]}"  # noqa
    print(f"{row['cycle']:>3} {row['sync']:<13} {row['kill_after_s']:>5} {row['acked_c']:>6} {row['acked_s']:>6} "
          f"{w['found_c']:>6} {w['found_s']:>6} {w['integrity']:>4} {idx(w['index_before']):>22} {idx(w['index_after']):>22} "
          f"{w['healthz']!s:>4} {w['dropped_writes']:>6}/{w['changes']:<6} "
          f"wal={w['dropped_by_file'].get(DB + '-wal', 0):<4} torn={sum(r['kept_torn_pieces'] for r in row['recons'].values()):<5} "
          + f"direct:{row['direct']['covered']}/{row['direct']['not_covered']}/{row['direct']['not_in_wal']} "
          + " ".join(f"{k}:{'ok' if ok_recon(r) else 'FAIL(miss=' + str(r['missing']) + ',int=' + r['integrity'] + ')'}"
                     for k, r in row["recons"].items() if k != "worst"), flush=True)
    for ex in row["direct"]["examples"]:
        print("    acked but commit frame not covered by a completed sync at the kill:", ex)
    for k in bad:
        r = row["recons"][k]
        print(f"    {k}: missing={r['missing']} integrity={r['integrity']}/{r['integrity_after']} index={r['index_before']}->{r['index_after']} healthz={r['healthz']}")
        for e in r["evidence"][:2]:
            print("     evidence:", json.dumps(e, indent=None)[:1500])


HEADER = ("direct = acked commits covered/not covered by a completed WAL sync/not found in WAL\ncyc sync          kill_s ack_c  ack_s  fnd_c  fnd_s  int  idx before(t/tt/bd/pend) idx after(t/tt/bd/pend) hz   "
          "worst dropped/changes  other reconstructions")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["run", "all"])
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--sync", default=None)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    if a.cmd == "all":
        subprocess.run(["gcc", "-O2", "-Wall", "-Wno-format-truncation", "-shared", "-fPIC", "-o", SHIM,
                        os.path.join(HERE, "shim.c"), "-ldl", "-lpthread"], check=True)
    rows = []
    print(HEADER, flush=True)
    plan = [(i, a.sync) for i in range(a.start, a.start + a.cycles)]
    if a.cmd == "all":
        plan += [(a.start + a.cycles + i, "normal") for i in range(3)]
    for i, s in plan:
        row = cycle(i, a.workdir, sync=s)
        rows.append(row)
        print_row(row)
    json.dump(rows, open(os.path.join(a.workdir, "summary.json"), "w"), indent=1)
    normal = [r for r in rows if r["sync"] != "normal"]
    lost = sum(r["recons"]["worst"]["missing"] for r in normal)
    print(f"direct check (full): acked commits not covered by a completed sync: {sum(r['direct']['not_covered'] for r in normal)}, "
          f"markers not found in the WAL: {sum(r['direct']['not_in_wal'] for r in normal)}")
    fails = [(r["cycle"], k) for r in normal for k, x in r["recons"].items() if not ok_recon(x)]
    print(f"\nfull (default) cycles: {len(normal)}; acknowledged lost in worst case: {lost}; failing reconstructions: {fails}")
    print(f"cycles where worst case dropped writes: {sum(1 for r in rows if r['recons']['worst']['dropped_writes'] > 0)}/{len(rows)}")
    caught = 0
    for r in rows:
        if r["sync"] == "normal":
            caught += r["recons"]["worst"]["missing"] > 0
            w = r["recons"]["worst"]
            print(f"sanity (synchronous=normal) cycle {r['cycle']}: acked {r['acked_c'] + r['acked_s']}, "
                  f"worst-case missing {w['missing']}, random-subset missing {[x['missing'] for k, x in r['recons'].items() if k.startswith('random')]}, "
                  f"'all' (process crash) missing {r['recons']['all']['missing']}, direct check: acked commits not covered by a sync {r['direct']['not_covered']}")
    # Fails when an acknowledged write was lost or a check failed under the default
    # configuration — or when the simulator caught no loss at all with fsyncs turned off (it
    # would then not be strict enough to trust).
    direct = sum(r["direct"]["not_covered"] + r["direct"]["not_in_wal"] for r in normal)
    if lost or fails or direct:
        sys.exit("FAILED: acknowledged writes lost or checks failed under synchronous=full")
    if a.cmd == "all" and not caught:
        sys.exit("FAILED: with synchronous=normal no loss was seen: the simulator is not strict enough")
    print("\nOK")


if __name__ == "__main__":
    main()
