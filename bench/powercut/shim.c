// pcut shim: LD_PRELOAD library that logs every file mutation / sync under $PCUT_DIR to $PCUT_LOG.
// Build: gcc -O2 -shared -fPIC -o shim.so shim.c -ldl -lpthread
//
// Log = sequence of records: struct rec header followed by `plen` path bytes and `dlen` data bytes.
// Each record is written with one raw write(2) on an O_APPEND fd under a global mutex, so the
// log survives kill -9 and the sequence numbers give a total order consistent with real time:
//  * data-changing calls (write, pwrite, ftruncate, ...) are logged AFTER they returned;
//  * fsync/fdatasync are logged when they START (before the call) and again when they RETURN.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    T_OPEN = 1, T_WRITE = 2, T_TRUNC = 3, T_SYNC_START = 4, T_SYNC_END = 5, T_CLOSE = 6,
    T_UNLINK = 7, T_RENAME = 8, T_MMAP = 9, T_LINK = 10, T_FALLOC = 11, T_NOTE = 12,
};

struct rec {
    uint32_t magic;  // 0x50435554 'PCUT'
    uint32_t type;
    uint64_t seq;
    int32_t tid;
    int32_t fd;
    int64_t a, b, c;  // meaning per type (see pcut.py)
    uint64_t dev, ino;
    int32_t ret, err;
    uint32_t plen, dlen;
};

#define MAXFD 65536
struct fdent {
    char *path;  // NULL: not tracked (outside PCUT_DIR or unknown yet)
    int known;   // 1: we looked at this fd (path may be NULL = outside dir)
    uint64_t dev, ino;
};
static struct fdent fdtab[MAXFD];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t seqno;
static int logfd = -1;
static char dirpref[PATH_MAX];
static size_t dirlen;
static int inited;

static int (*r_open)(const char *, int, ...);
static int (*r_open64)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static int (*r_openat64)(int, const char *, int, ...);
static int (*r_creat)(const char *, mode_t);
static int (*r_creat64)(const char *, mode_t);
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*r_writev)(int, const struct iovec *, int);
static ssize_t (*r_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*r_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*r_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*r_ftruncate)(int, off_t);
static int (*r_ftruncate64)(int, off64_t);
static int (*r_fsync)(int);
static int (*r_fdatasync)(int);
static int (*r_sync_file_range)(int, off64_t, off64_t, unsigned int);
static int (*r_close)(int);
static int (*r_unlink)(const char *);
static int (*r_unlinkat)(int, const char *, int);
static int (*r_rename)(const char *, const char *);
static int (*r_renameat)(int, const char *, int, const char *);
static int (*r_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*r_linkat)(int, const char *, int, const char *, int);
static void *(*r_mmap)(void *, size_t, int, int, int, off_t);
static void *(*r_mmap64)(void *, size_t, int, int, int, off64_t);
static ssize_t (*r_sendfile)(int, int, off_t *, size_t);
static ssize_t (*r_sendfile64)(int, int, off64_t *, size_t);
static int (*r_fallocate)(int, int, off_t, off_t);
static int (*r_fallocate64)(int, int, off64_t, off64_t);
static int (*r_posix_fallocate)(int, off_t, off_t);
static int (*r_posix_fallocate64)(int, off64_t, off64_t);
static ssize_t (*r_copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned int);
static int (*r_dup)(int);
static int (*r_dup2)(int, int);
static int (*r_dup3)(int, int, int);
static off64_t (*r_lseek64)(int, off64_t, int);

#define RES(name) r_##name = dlsym(RTLD_NEXT, #name)

static void init(void) {
    if (inited) return;
    RES(open); RES(open64); RES(openat); RES(openat64); RES(creat); RES(creat64);
    RES(write); RES(pwrite); RES(pwrite64); RES(writev); RES(pwritev); RES(pwritev64); RES(pwritev2);
    RES(ftruncate); RES(ftruncate64); RES(fsync); RES(fdatasync); RES(sync_file_range); RES(close);
    RES(unlink); RES(unlinkat); RES(rename); RES(renameat); RES(renameat2); RES(linkat);
    RES(mmap); RES(mmap64); RES(sendfile); RES(sendfile64); RES(fallocate); RES(fallocate64);
    RES(posix_fallocate); RES(posix_fallocate64); RES(copy_file_range); RES(dup); RES(dup2); RES(dup3);
    RES(lseek64);
    const char *d = getenv("PCUT_DIR");
    const char *l = getenv("PCUT_LOG");
    if (d && l) {
        if (!realpath(d, dirpref)) { strncpy(dirpref, d, sizeof dirpref - 1); }
        dirlen = strlen(dirpref);
        while (dirlen > 1 && dirpref[dirlen - 1] == '/') dirpref[--dirlen] = 0;
        logfd = r_open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd >= 0 && logfd < 3) {  // keep away from stdio fds
            int n = fcntl(logfd, F_DUPFD_CLOEXEC, 100);
            r_close(logfd);
            logfd = n;
        }
    }
    __sync_synchronize();
    inited = 1;
}

__attribute__((constructor)) static void ctor(void) { init(); }

static int under_dir(const char *p) {
    if (!p || logfd < 0) return 0;
    if (strncmp(p, dirpref, dirlen) != 0) return 0;
    return p[dirlen] == 0 || p[dirlen] == '/';
}

static void raw_write_all(int fd, const char *b, size_t n) {
    while (n > 0) {
        ssize_t w = r_write(fd, b, n);
        if (w < 0) { if (errno == EINTR) continue; return; }
        b += w; n -= (size_t)w;
    }
}

// Writes one record. data may be an iovec list (iov/iovcnt) or a flat buffer.
static void logrec(uint32_t type, int fd, int64_t a, int64_t b, int64_t c, uint64_t dev, uint64_t ino,
                   int ret, int err, const char *path, const char *path2,
                   const void *data, size_t dlen, const struct iovec *iov, int iovcnt) {
    if (logfd < 0) return;
    int saved = errno;
    size_t plen = path ? strlen(path) : 0;
    size_t p2len = path2 ? strlen(path2) : 0;
    size_t total_d = path2 ? p2len : dlen;
    size_t tot = sizeof(struct rec) + plen + total_d;
    char *buf = malloc(tot);
    if (!buf) { errno = saved; return; }
    struct rec *r = (struct rec *)buf;
    memset(r, 0, sizeof *r);
    r->magic = 0x50435554; r->type = type; r->tid = (int32_t)syscall(SYS_gettid); r->fd = fd;
    r->a = a; r->b = b; r->c = c; r->dev = dev; r->ino = ino; r->ret = ret; r->err = err;
    r->plen = (uint32_t)plen; r->dlen = (uint32_t)total_d;
    char *p = buf + sizeof *r;
    if (plen) { memcpy(p, path, plen); p += plen; }
    if (path2) { memcpy(p, path2, p2len); }
    else if (iov) {
        size_t left = dlen;
        for (int i = 0; i < iovcnt && left > 0; i++) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
            memcpy(p, iov[i].iov_base, n); p += n; left -= n;
        }
    } else if (dlen) memcpy(p, data, dlen);
    pthread_mutex_lock(&mu);
    r->seq = ++seqno;
    raw_write_all(logfd, buf, tot);
    pthread_mutex_unlock(&mu);
    free(buf);
    errno = saved;
}

// Looks up fd; fills in from /proc/self/fd on first sight. Returns path or NULL if untracked.
static const char *fdpath(int fd, uint64_t *dev, uint64_t *ino) {
    if (fd < 0 || fd >= MAXFD || logfd < 0 || fd == logfd) return NULL;
    struct fdent *e = &fdtab[fd];
    if (!e->known) {
        char lnk[64], tgt[PATH_MAX];
        snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(lnk, tgt, sizeof tgt - 1);
        if (n > 0) {
            tgt[n] = 0;
            if (under_dir(tgt)) {
                struct stat st;
                if (fstat(fd, &st) == 0) { e->dev = st.st_dev; e->ino = st.st_ino; }
                e->path = strdup(tgt);
                logrec(T_OPEN, fd, -1, 0, 1 /*late*/, e->dev, e->ino, fd, 0, e->path, NULL, NULL, 0, NULL, 0);
            }
        }
        e->known = 1;
    }
    if (dev) *dev = e->dev;
    if (ino) *ino = e->ino;
    return e->path;
}

static void fd_forget(int fd) {
    if (fd < 0 || fd >= MAXFD) return;
    free(fdtab[fd].path);
    fdtab[fd].path = NULL; fdtab[fd].known = 0; fdtab[fd].dev = fdtab[fd].ino = 0;
}

static void after_open(int fd, int flags) {
    if (fd < 0 || fd >= MAXFD || logfd < 0 || fd == logfd) return;
    fd_forget(fd);
    char lnk[64], tgt[PATH_MAX];
    snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(lnk, tgt, sizeof tgt - 1);
    fdtab[fd].known = 1;
    if (n <= 0) return;
    tgt[n] = 0;
    if (!under_dir(tgt)) return;
    struct stat st;
    if (fstat(fd, &st) == 0) { fdtab[fd].dev = st.st_dev; fdtab[fd].ino = st.st_ino; }
    fdtab[fd].path = strdup(tgt);
    // a = flags (O_TRUNC noted here: the truncation is a data change logged after it happened)
    logrec(T_OPEN, fd, flags, (int64_t)st.st_size, 0, fdtab[fd].dev, fdtab[fd].ino, fd, 0, tgt, NULL, NULL, 0, NULL, 0);
}

// Absolute (not symlink-resolved for the last component) path of dirfd/p.
static int abspath(int dirfd, const char *p, char *out) {
    char base[PATH_MAX];
    if (!p) return 0;
    if (p[0] == '/') { strncpy(base, p, PATH_MAX - 1); base[PATH_MAX - 1] = 0; }
    else {
        char d[PATH_MAX];
        if (dirfd == AT_FDCWD) { if (!getcwd(d, sizeof d)) return 0; }
        else {
            char lnk[64];
            snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(lnk, d, sizeof d - 1);
            if (n <= 0) return 0;
            d[n] = 0;
        }
        snprintf(base, sizeof base, "%s/%s", d, p);
    }
    // resolve the directory part
    char *slash = strrchr(base, '/');
    char dirpart[PATH_MAX], rd[PATH_MAX];
    if (slash == base) strcpy(dirpart, "/");
    else { memcpy(dirpart, base, slash - base); dirpart[slash - base] = 0; }
    if (!realpath(dirpart, rd)) strcpy(rd, dirpart);
    snprintf(out, PATH_MAX, "%s/%s", strcmp(rd, "/") ? rd : "", slash + 1);
    return 1;
}

#define ENTER() do { if (!inited) init(); } while (0)

static int getmode(int flags, va_list ap) {
    return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? va_arg(ap, int) : 0;
}

int open(const char *p, int flags, ...) {
    ENTER(); va_list ap; va_start(ap, flags); int m = getmode(flags, ap); va_end(ap);
    int fd = r_open(p, flags, m); if (fd >= 0) after_open(fd, flags); return fd;
}
int open64(const char *p, int flags, ...) {
    ENTER(); va_list ap; va_start(ap, flags); int m = getmode(flags, ap); va_end(ap);
    int fd = r_open64(p, flags, m); if (fd >= 0) after_open(fd, flags); return fd;
}
int openat(int d, const char *p, int flags, ...) {
    ENTER(); va_list ap; va_start(ap, flags); int m = getmode(flags, ap); va_end(ap);
    int fd = r_openat(d, p, flags, m); if (fd >= 0) after_open(fd, flags); return fd;
}
int openat64(int d, const char *p, int flags, ...) {
    ENTER(); va_list ap; va_start(ap, flags); int m = getmode(flags, ap); va_end(ap);
    int fd = r_openat64(d, p, flags, m); if (fd >= 0) after_open(fd, flags); return fd;
}
int creat(const char *p, mode_t m) {
    ENTER(); int fd = r_creat(p, m); if (fd >= 0) after_open(fd, O_CREAT | O_WRONLY | O_TRUNC); return fd;
}
int creat64(const char *p, mode_t m) {
    ENTER(); int fd = r_creat64(p, m); if (fd >= 0) after_open(fd, O_CREAT | O_WRONLY | O_TRUNC); return fd;
}

static int64_t cur_off(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND)) { struct stat st; if (fstat(fd, &st) == 0) return st.st_size; }
    return r_lseek64(fd, 0, SEEK_CUR);
}

ssize_t write(int fd, const void *b, size_t n) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    if (!p) return r_write(fd, b, n);
    int64_t off = cur_off(fd);
    ssize_t r = r_write(fd, b, n);
    if (r > 0) logrec(T_WRITE, fd, off, r, 0, dev, ino, (int)r, 0, p, NULL, b, (size_t)r, NULL, 0);
    return r;
}
ssize_t pwrite(int fd, const void *b, size_t n, off_t o) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    ssize_t r = r_pwrite(fd, b, n, o);
    if (p && r > 0) logrec(T_WRITE, fd, o, r, 1, dev, ino, (int)r, 0, p, NULL, b, (size_t)r, NULL, 0);
    return r;
}
ssize_t pwrite64(int fd, const void *b, size_t n, off64_t o) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    ssize_t r = r_pwrite64(fd, b, n, o);
    if (p && r > 0) logrec(T_WRITE, fd, o, r, 1, dev, ino, (int)r, 0, p, NULL, b, (size_t)r, NULL, 0);
    return r;
}
ssize_t writev(int fd, const struct iovec *v, int c) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    if (!p) return r_writev(fd, v, c);
    int64_t off = cur_off(fd);
    ssize_t r = r_writev(fd, v, c);
    if (r > 0) logrec(T_WRITE, fd, off, r, 2, dev, ino, (int)r, 0, p, NULL, NULL, (size_t)r, v, c);
    return r;
}
ssize_t pwritev(int fd, const struct iovec *v, int c, off_t o) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    ssize_t r = r_pwritev(fd, v, c, o);
    if (p && r > 0) logrec(T_WRITE, fd, o, r, 3, dev, ino, (int)r, 0, p, NULL, NULL, (size_t)r, v, c);
    return r;
}
ssize_t pwritev64(int fd, const struct iovec *v, int c, off64_t o) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    ssize_t r = r_pwritev64(fd, v, c, o);
    if (p && r > 0) logrec(T_WRITE, fd, o, r, 3, dev, ino, (int)r, 0, p, NULL, NULL, (size_t)r, v, c);
    return r;
}
ssize_t pwritev2(int fd, const struct iovec *v, int c, off_t o, int fl) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    int64_t off = (o == -1 && p) ? cur_off(fd) : o;
    ssize_t r = r_pwritev2(fd, v, c, o, fl);
    if (p && r > 0) logrec(T_WRITE, fd, off, r, 3, dev, ino, (int)r, 0, p, NULL, NULL, (size_t)r, v, c);
    return r;
}
int ftruncate(int fd, off_t l) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    int r = r_ftruncate(fd, l);
    if (p && r == 0) logrec(T_TRUNC, fd, l, 0, 0, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
int ftruncate64(int fd, off64_t l) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    int r = r_ftruncate64(fd, l);
    if (p && r == 0) logrec(T_TRUNC, fd, l, 0, 0, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
static int do_sync(int fd, int kind, int (*real)(int)) {
    uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    if (!p) return real(fd);
    logrec(T_SYNC_START, fd, kind, 0, 0, dev, ino, 0, 0, p, NULL, NULL, 0, NULL, 0);
    int r = real(fd);
    int e = errno;
    logrec(T_SYNC_END, fd, kind, 0, 0, dev, ino, r, r ? e : 0, p, NULL, NULL, 0, NULL, 0);
    errno = e;
    return r;
}
int fsync(int fd) { ENTER(); return do_sync(fd, 1, r_fsync); }
int fdatasync(int fd) { ENTER(); return do_sync(fd, 2, r_fdatasync); }
int sync_file_range(int fd, off64_t o, off64_t n, unsigned int f) {
    // not a durability barrier: only noted
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino);
    int r = r_sync_file_range(fd, o, n, f);
    if (p) logrec(T_NOTE, fd, 1, o, n, dev, ino, r, 0, p, NULL, "sync_file_range", 15, NULL, 0);
    return r;
}
int close(int fd) {
    ENTER();
    if (fd >= 0 && fd < MAXFD && fd != logfd) {
        uint64_t dev, ino; const char *p = fdtab[fd].known ? fdtab[fd].path : NULL;
        dev = fdtab[fd].dev; ino = fdtab[fd].ino;
        char *keep = p ? strdup(p) : NULL;
        fd_forget(fd);
        int r = r_close(fd);
        int e = errno;
        if (keep) { logrec(T_CLOSE, fd, 0, 0, 0, dev, ino, r, 0, keep, NULL, NULL, 0, NULL, 0); free(keep); }
        errno = e;
        return r;
    }
    return r_close(fd);
}
// For path ops the absolute path is computed before the call (the file may vanish).
int unlink(const char *p) {
    ENTER(); char a[PATH_MAX]; int ok = logfd >= 0 && abspath(AT_FDCWD, p, a) && under_dir(a);
    int r = r_unlink(p);
    if (ok && r == 0) logrec(T_UNLINK, -1, 0, 0, 0, 0, 0, r, 0, a, NULL, NULL, 0, NULL, 0);
    return r;
}
int unlinkat(int d, const char *p, int fl) {
    ENTER(); char a[PATH_MAX]; int ok = logfd >= 0 && abspath(d, p, a) && under_dir(a);
    int r = r_unlinkat(d, p, fl);
    if (ok && r == 0) logrec(T_UNLINK, -1, fl, 0, 0, 0, 0, r, 0, a, NULL, NULL, 0, NULL, 0);
    return r;
}
int rename(const char *o, const char *n) {
    ENTER(); char a1[PATH_MAX], a2[PATH_MAX];
    int ok = logfd >= 0 && abspath(AT_FDCWD, o, a1) && abspath(AT_FDCWD, n, a2) && (under_dir(a1) || under_dir(a2));
    int r = r_rename(o, n);
    if (ok && r == 0) logrec(T_RENAME, -1, 0, 0, 0, 0, 0, r, 0, a1, a2, NULL, 0, NULL, 0);
    return r;
}
int renameat(int d1, const char *o, int d2, const char *n) {
    ENTER(); char a1[PATH_MAX], a2[PATH_MAX];
    int ok = logfd >= 0 && abspath(d1, o, a1) && abspath(d2, n, a2) && (under_dir(a1) || under_dir(a2));
    int r = r_renameat(d1, o, d2, n);
    if (ok && r == 0) logrec(T_RENAME, -1, 0, 0, 0, 0, 0, r, 0, a1, a2, NULL, 0, NULL, 0);
    return r;
}
int renameat2(int d1, const char *o, int d2, const char *n, unsigned int f) {
    ENTER(); char a1[PATH_MAX], a2[PATH_MAX];
    int ok = logfd >= 0 && abspath(d1, o, a1) && abspath(d2, n, a2) && (under_dir(a1) || under_dir(a2));
    int r = r_renameat2(d1, o, d2, n, f);
    if (ok && r == 0) logrec(T_RENAME, -1, f, 0, 0, 0, 0, r, 0, a1, a2, NULL, 0, NULL, 0);
    return r;
}
int linkat(int d1, const char *o, int d2, const char *n, int f) {
    ENTER(); char a1[PATH_MAX], a2[PATH_MAX];
    int ok = logfd >= 0 && abspath(d1, o, a1) && abspath(d2, n, a2) && (under_dir(a1) || under_dir(a2));
    int r = r_linkat(d1, o, d2, n, f);
    if (ok && r == 0) logrec(T_LINK, -1, f, 0, 0, 0, 0, r, 0, a1, a2, NULL, 0, NULL, 0);
    return r;
}
void *mmap(void *addr, size_t len, int prot, int fl, int fd, off_t o) {
    ENTER(); void *r = r_mmap(addr, len, prot, fl, fd, o);
    uint64_t dev, ino; const char *p = fd >= 0 ? fdpath(fd, &dev, &ino) : NULL;
    if (p && r != MAP_FAILED) logrec(T_MMAP, fd, (int64_t)len, prot, fl, dev, ino, 0, 0, p, NULL, &o, sizeof o, NULL, 0);
    return r;
}
void *mmap64(void *addr, size_t len, int prot, int fl, int fd, off64_t o) {
    ENTER(); void *r = r_mmap64(addr, len, prot, fl, fd, o);
    uint64_t dev, ino; const char *p = fd >= 0 ? fdpath(fd, &dev, &ino) : NULL;
    if (p && r != MAP_FAILED) logrec(T_MMAP, fd, (int64_t)len, prot, fl, dev, ino, 0, 0, p, NULL, &o, sizeof o, NULL, 0);
    return r;
}
// Data written by these without passing through our buffer cannot be reconstructed: noted so
// the reconstructor can refuse the run if they ever hit a tracked file.
ssize_t sendfile(int out, int in, off_t *o, size_t n) {
    ENTER(); const char *p = fdpath(out, NULL, NULL); ssize_t r = r_sendfile(out, in, o, n);
    if (p && r > 0) logrec(T_NOTE, out, 2, r, 0, 0, 0, (int)r, 0, p, NULL, "sendfile", 8, NULL, 0);
    return r;
}
ssize_t sendfile64(int out, int in, off64_t *o, size_t n) {
    ENTER(); const char *p = fdpath(out, NULL, NULL); ssize_t r = r_sendfile64(out, in, o, n);
    if (p && r > 0) logrec(T_NOTE, out, 2, r, 0, 0, 0, (int)r, 0, p, NULL, "sendfile", 8, NULL, 0);
    return r;
}
ssize_t copy_file_range(int fi, off64_t *oi, int fo, off64_t *oo, size_t n, unsigned int f) {
    ENTER(); const char *p = fdpath(fo, NULL, NULL); ssize_t r = r_copy_file_range(fi, oi, fo, oo, n, f);
    if (p && r > 0) logrec(T_NOTE, fo, 2, r, 0, 0, 0, (int)r, 0, p, NULL, "copy_file_range", 15, NULL, 0);
    return r;
}
int fallocate(int fd, int m, off_t o, off_t n) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino); int r = r_fallocate(fd, m, o, n);
    if (p && r == 0) logrec(T_FALLOC, fd, o, n, m, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
int fallocate64(int fd, int m, off64_t o, off64_t n) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino); int r = r_fallocate64(fd, m, o, n);
    if (p && r == 0) logrec(T_FALLOC, fd, o, n, m, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
int posix_fallocate(int fd, off_t o, off_t n) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino); int r = r_posix_fallocate(fd, o, n);
    if (p && r == 0) logrec(T_FALLOC, fd, o, n, 0, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
int posix_fallocate64(int fd, off64_t o, off64_t n) {
    ENTER(); uint64_t dev, ino; const char *p = fdpath(fd, &dev, &ino); int r = r_posix_fallocate64(fd, o, n);
    if (p && r == 0) logrec(T_FALLOC, fd, o, n, 0, dev, ino, r, 0, p, NULL, NULL, 0, NULL, 0);
    return r;
}
// dup'ed fds: forget whatever the new number meant; it is looked up lazily on first use.
int dup(int fd) { ENTER(); int r = r_dup(fd); if (r >= 0 && r < MAXFD) fd_forget(r); return r; }
int dup2(int fd, int n) { ENTER(); int r = r_dup2(fd, n); if (r >= 0 && r < MAXFD) fd_forget(r); return r; }
int dup3(int fd, int n, int f) { ENTER(); int r = r_dup3(fd, n, f); if (r >= 0 && r < MAXFD) fd_forget(r); return r; }
