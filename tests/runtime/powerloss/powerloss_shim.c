/* powerloss_shim: an LD_PRELOAD library that simulates a power loss for LMDB's data file.
 *
 * It tracks the file descriptors of files named data.mdb and keeps an undo journal of every write
 * on them that is not yet durable (the old bytes of the range, read just before the write). A
 * successful fsync/fdatasync empties the journal; a write through an fd opened O_DSYNC/O_SYNC is
 * durable at once. At the chosen crash point the shim does not sync: it undoes a random part of
 * the journal (each write kept, dropped or torn at 512-byte sectors), perhaps truncates the file
 * to its last durable size, and kills its own process with SIGKILL.
 *
 * Environment:
 *   POWERLOSS_AT=K       crash at the K-th fsync/fdatasync of a tracked fd (0 or unset: never)
 *   POWERLOSS_WRITES=1   count tracked write calls instead of syncs (crash before the K-th write)
 *   POWERLOSS_SEED=S     seed of the keep/drop/tear choices (default 1)
 *   POWERLOSS_VERBOSE=1  one summary line on stderr before dying; 2 also traces each tracked call
 *
 * Model: undoing a subset of the journal newest first leaves every sector holding one of the
 * versions it had since the last sync, which is what a disk may hold after losing power. A
 * durable write patches the old bytes of older entries, so no undo reverts it.
 *
 * Intercepted: open/open64/openat/openat64/creat (and the fortified __open*_2), dup/dup2/dup3,
 * close, write/pwrite/pwrite64/writev/pwritev/pwritev2, fsync/fdatasync. That covers LMDB 0.9
 * without MDB_WRITEMAP: pwrite for single pages and meta pages, lseek+writev for runs of pages,
 * fdatasync. Not modelled: MDB_WRITEMAP (writes through a shared mapping bypass the shim, and
 * msync is not intercepted), sync_file_range (not a durability barrier; passed through), ftruncate
 * and fcntl(F_DUPFD) on data.mdb (LMDB 0.9 does neither without MDB_WRITEMAP), directory metadata
 * (creations and renames are taken as durable), torn writes through O_DSYNC fds (LMDB writes
 * there only a meta page's ~120 changed bytes, within one sector).
 *
 * One lock serialises tracked calls, so in a multithreaded writer each write is journaled and
 * performed atomically with respect to the crash; untracked fds take a lock-free fast path.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { max_fds = 4096, max_files = 16, sector_size = 512 };

struct pl_entry {
    off_t off;
    size_t len;
    unsigned char *old; /* the bytes of [off, off+len) before the write; zeros beyond EOF */
};

struct pl_file {
    dev_t dev;
    ino_t ino;
    int io_fd;          /* our own O_RDWR fd: reads old bytes, restores them at the crash */
    off_t durable_size; /* size at the last sync (or when first opened) */
    struct pl_entry *entries;
    size_t count, capacity;
};

/* fd -> file index + 1 (0: untracked), read without the lock on the fast path. */
static unsigned char g_fd_file[max_fds];
static unsigned char g_fd_sync[max_fds];
static struct pl_file g_files[max_files];
static size_t g_file_count;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long g_crash_at;
static int g_count_writes;
static int g_verbose;
static uint64_t g_rng;
static unsigned long long g_syncs, g_writes;
static unsigned long long g_calls_pwrite, g_calls_write, g_calls_writev, g_calls_pwritev, g_calls_fsync,
    g_calls_fdatasync, g_calls_dsync_writes;

/* The real functions. */
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real___openat_2)(int, const char *, int);
static int (*real___openat64_2)(int, const char *, int);
static int (*real_creat)(const char *, mode_t);
static int (*real_creat64)(const char *, mode_t);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_pwritev64v2)(int, const struct iovec *, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void *resolve(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "powerloss_shim: dlsym(RTLD_NEXT, %s) failed\n", name);
        abort();
    }
    return p;
}

/* Pointer stores are idempotent, so a race between two threads resolving one name is harmless. */
#define REAL(name) (real_##name ? real_##name : (*(void **)&real_##name = resolve(#name), real_##name))

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    (void)!REAL(write)(2, buf, (size_t)n);
}

static uint64_t next_random(void)
{
    /* splitmix64: small, seedable, good enough for choosing fates. */
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long long env_number(const char *name, unsigned long long fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    return strtoull(v, NULL, 10);
}

__attribute__((constructor)) static void powerloss_init(void)
{
    g_crash_at = env_number("POWERLOSS_AT", 0);
    g_count_writes = env_number("POWERLOSS_WRITES", 0) != 0;
    g_verbose = (int)env_number("POWERLOSS_VERBOSE", 0);
    g_rng = env_number("POWERLOSS_SEED", 1);
}

static int is_data_file(const char *path)
{
    if (!path)
        return 0;
    const char *slash = strrchr(path, '/');
    return strcmp(slash ? slash + 1 : path, "data.mdb") == 0;
}

static int tracked_file(int fd)
{
    if (fd < 0 || fd >= max_fds)
        return 0;
    return __atomic_load_n(&g_fd_file[fd], __ATOMIC_ACQUIRE);
}

static void track(int fd, const char *path, int flags)
{
    if (fd < 0 || fd >= max_fds || !is_data_file(path))
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    pthread_mutex_lock(&g_lock);
    size_t i = 0;
    while (i < g_file_count && !(g_files[i].dev == st.st_dev && g_files[i].ino == st.st_ino))
        ++i;
    if (i == g_file_count) {
        if (g_file_count == max_files) {
            pthread_mutex_unlock(&g_lock);
            say("powerloss_shim: too many data files, not tracking %s\n", path);
            return;
        }
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        int io_fd = REAL(open)(self, O_RDWR | O_CLOEXEC);
        if (io_fd < 0) {
            pthread_mutex_unlock(&g_lock);
            say("powerloss_shim: cannot reopen %s read-write, not tracking it\n", path);
            return;
        }
        struct pl_file *f = &g_files[g_file_count++];
        memset(f, 0, sizeof *f);
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->io_fd = io_fd;
        f->durable_size = st.st_size;
    }
    g_fd_sync[fd] = (flags & (O_DSYNC | O_SYNC)) != 0;
    __atomic_store_n(&g_fd_file[fd], (unsigned char)(i + 1), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&g_lock);
    if (g_verbose >= 2)
        say("powerloss_shim: tracking fd %d (%s%s)\n", fd, path, g_fd_sync[fd] ? ", O_DSYNC" : "");
}

static void untrack(int fd)
{
    if (!tracked_file(fd))
        return;
    pthread_mutex_lock(&g_lock);
    __atomic_store_n(&g_fd_file[fd], 0, __ATOMIC_RELEASE);
    g_fd_sync[fd] = 0;
    pthread_mutex_unlock(&g_lock);
}

static void copy_tracking(int from, int to)
{
    if (to < 0 || to >= max_fds)
        return;
    pthread_mutex_lock(&g_lock);
    unsigned char file = (from >= 0 && from < max_fds) ? g_fd_file[from] : 0;
    g_fd_sync[to] = file ? g_fd_sync[from] : 0;
    __atomic_store_n(&g_fd_file[to], file, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&g_lock);
}

static off_t file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : 0;
}

static void clear_journal(struct pl_file *f)
{
    for (size_t i = 0; i < f->count; ++i)
        free(f->entries[i].old);
    f->count = 0;
}

/* Saves the old bytes of [off, off+len) before a write that is not durable yet. */
static void journal_write(struct pl_file *f, off_t off, size_t len)
{
    if (len == 0)
        return;
    if (f->count == f->capacity) {
        size_t capacity = f->capacity ? 2 * f->capacity : 64;
        struct pl_entry *entries = realloc(f->entries, capacity * sizeof *entries);
        if (!entries) {
            say("powerloss_shim: out of memory\n");
            abort();
        }
        f->entries = entries;
        f->capacity = capacity;
    }
    unsigned char *old = calloc(1, len); /* beyond EOF the old content reads as zeros */
    if (!old) {
        say("powerloss_shim: out of memory\n");
        abort();
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->io_fd, old + done, len - done, off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    f->entries[f->count++] = (struct pl_entry){.off = off, .len = len, .old = old};
}

/* A durable write: older journal entries must not undo its bytes, so they become the old bytes. */
static void pin_durable(struct pl_file *f, off_t off, const struct iovec *iov, int iovcnt, size_t len)
{
    off_t end = off + (off_t)len;
    if (end > f->durable_size)
        f->durable_size = end;
    for (size_t i = 0; i < f->count; ++i) {
        struct pl_entry *e = &f->entries[i];
        off_t lo = e->off > off ? e->off : off;
        off_t hi = e->off + (off_t)e->len < end ? e->off + (off_t)e->len : end;
        if (lo >= hi)
            continue;
        /* Copy source bytes [lo-off, hi-off) of the gathered buffer into e->old[lo-e->off]. */
        size_t skip = (size_t)(lo - off), want = (size_t)(hi - lo);
        unsigned char *dst = e->old + (lo - e->off);
        for (int k = 0; k < iovcnt && want > 0; ++k) {
            size_t n = iov[k].iov_len;
            if (skip >= n) {
                skip -= n;
                continue;
            }
            size_t take = n - skip < want ? n - skip : want;
            memcpy(dst, (const unsigned char *)iov[k].iov_base + skip, take);
            dst += take;
            want -= take;
            skip = 0;
        }
    }
}

static void restore(struct pl_file *f, const unsigned char *bytes, off_t off, size_t len)
{
    while (len > 0) {
        ssize_t n = REAL(pwrite)(f->io_fd, bytes, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            say("powerloss_shim: restoring old bytes failed: %s\n", strerror(errno));
            return;
        }
        bytes += n;
        off += n;
        len -= (size_t)n;
    }
}

/* The power loss. Called with the lock held; never returns. */
__attribute__((noreturn)) static void power_loss(const char *where, unsigned long long nth)
{
    unsigned long long kept = 0, dropped = 0, torn = 0, sectors_torn = 0, sectors_in_torn = 0;
    char sizes[256] = "";
    size_t sizes_len = 0;
    for (size_t fi = 0; fi < g_file_count; ++fi) {
        struct pl_file *f = &g_files[fi];
        /* Newest first: undoing any subset in this order leaves each sector at some version it
           held since the last sync. */
        for (size_t i = f->count; i-- > 0;) {
            struct pl_entry *e = &f->entries[i];
            uint64_t fate = next_random() % 3;
            if (fate == 0) {
                ++kept;
            } else if (fate == 1) {
                ++dropped;
                restore(f, e->old, e->off, e->len);
            } else {
                ++torn;
                off_t pos = e->off, end = e->off + (off_t)e->len;
                while (pos < end) {
                    off_t next = (pos / sector_size + 1) * sector_size;
                    if (next > end)
                        next = end;
                    ++sectors_in_torn;
                    if (next_random() & 1) {
                        ++sectors_torn;
                        restore(f, e->old + (pos - e->off), pos, (size_t)(next - pos));
                    }
                    pos = next;
                }
            }
        }
        off_t size = file_size(f->io_fd);
        if (size > f->durable_size && (next_random() & 1)) {
            if (ftruncate(f->io_fd, f->durable_size) == 0 && sizes_len < sizeof sizes - 64)
                sizes_len += (size_t)snprintf(sizes + sizes_len, sizeof sizes - sizes_len,
                                              "; size %lld -> %lld", (long long)size,
                                              (long long)f->durable_size);
        }
    }
    if (g_verbose)
        say("powerloss_shim: power loss at %s #%llu (pid %d): %llu unsynced writes: %llu kept, "
            "%llu dropped, %llu torn (%llu of %llu sectors reverted)%s; calls: pwrite %llu, writev "
            "%llu, write %llu, pwritev %llu, O_DSYNC writes %llu, fsync %llu, fdatasync %llu\n",
            where, nth, (int)getpid(), kept + dropped + torn, kept, dropped, torn, sectors_torn,
            sectors_in_torn, sizes, g_calls_pwrite, g_calls_writev, g_calls_write, g_calls_pwritev,
            g_calls_dsync_writes, g_calls_fsync, g_calls_fdatasync);
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}

/* Runs one write on a tracked fd: count it, perhaps crash, journal it, perform it. */
static ssize_t tracked_write(int fd, off_t off, const struct iovec *iov, int iovcnt, const char *name,
                             ssize_t (*perform)(int, const struct iovec *, int, off_t),
                             unsigned long long *calls)
{
    size_t len = 0;
    for (int k = 0; k < iovcnt; ++k)
        len += iov[k].iov_len;
    pthread_mutex_lock(&g_lock);
    unsigned char file = g_fd_file[fd];
    if (!file) { /* closed meanwhile */
        pthread_mutex_unlock(&g_lock);
        return perform(fd, iov, iovcnt, off);
    }
    struct pl_file *f = &g_files[file - 1];
    int sync = g_fd_sync[fd];
    ++*calls;
    if (sync)
        ++g_calls_dsync_writes;
    ++g_writes;
    if (g_count_writes && g_writes == g_crash_at)
        power_loss("write", g_writes);
    off_t pos = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
    if (g_verbose >= 2)
        say("powerloss_shim: %s fd %d off %lld len %zu%s\n", name, fd, (long long)pos, len,
            sync ? " (O_DSYNC)" : "");
    if (!sync && pos >= 0)
        journal_write(f, pos, len);
    ssize_t n = perform(fd, iov, iovcnt, off);
    int saved = errno;
    if (sync && n > 0 && pos >= 0)
        pin_durable(f, pos, iov, iovcnt, (size_t)n);
    pthread_mutex_unlock(&g_lock);
    errno = saved;
    return n;
}

static int tracked_sync(int fd, int data_only)
{
    pthread_mutex_lock(&g_lock);
    unsigned char file = g_fd_file[fd];
    if (!file) {
        pthread_mutex_unlock(&g_lock);
        return data_only ? REAL(fdatasync)(fd) : REAL(fsync)(fd);
    }
    ++*(data_only ? &g_calls_fdatasync : &g_calls_fsync);
    ++g_syncs;
    if (!g_count_writes && g_syncs == g_crash_at)
        power_loss(data_only ? "fdatasync" : "fsync", g_syncs);
    if (g_verbose >= 2)
        say("powerloss_shim: %s fd %d\n", data_only ? "fdatasync" : "fsync", fd);
    int rc = data_only ? REAL(fdatasync)(fd) : REAL(fsync)(fd);
    int saved = errno;
    if (rc == 0) {
        struct pl_file *f = &g_files[file - 1];
        clear_journal(f);
        f->durable_size = file_size(f->io_fd);
    }
    pthread_mutex_unlock(&g_lock);
    errno = saved;
    return rc;
}

/* --- opening and closing --- */

static int needs_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define MODE_ARG(flags)                                                                            \
    mode_t mode = 0;                                                                               \
    if (needs_mode(flags)) {                                                                       \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode = (mode_t)va_arg(ap, int);                                                            \
        va_end(ap);                                                                                \
    }

int open(const char *path, int flags, ...)
{
    MODE_ARG(flags);
    int fd = REAL(open)(path, flags, mode);
    track(fd, path, flags);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    MODE_ARG(flags);
    int fd = REAL(open64)(path, flags, mode);
    track(fd, path, flags);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    int fd = REAL(openat)(dirfd, path, flags, mode);
    track(fd, path, flags);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    int fd = REAL(openat64)(dirfd, path, flags, mode);
    track(fd, path, flags);
    return fd;
}

int __open_2(const char *path, int flags)
{
    int fd = REAL(__open_2)(path, flags);
    track(fd, path, flags);
    return fd;
}

int __open64_2(const char *path, int flags)
{
    int fd = REAL(__open64_2)(path, flags);
    track(fd, path, flags);
    return fd;
}

int __openat_2(int dirfd, const char *path, int flags)
{
    int fd = REAL(__openat_2)(dirfd, path, flags);
    track(fd, path, flags);
    return fd;
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    int fd = REAL(__openat64_2)(dirfd, path, flags);
    track(fd, path, flags);
    return fd;
}

int creat(const char *path, mode_t mode)
{
    int fd = REAL(creat)(path, mode);
    track(fd, path, O_WRONLY | O_CREAT | O_TRUNC);
    return fd;
}

int creat64(const char *path, mode_t mode)
{
    int fd = REAL(creat64)(path, mode);
    track(fd, path, O_WRONLY | O_CREAT | O_TRUNC);
    return fd;
}

int close(int fd)
{
    untrack(fd);
    return REAL(close)(fd);
}

int dup(int fd)
{
    int to = REAL(dup)(fd);
    if (to >= 0 && tracked_file(fd))
        copy_tracking(fd, to);
    return to;
}

int dup2(int fd, int to)
{
    int rc = REAL(dup2)(fd, to);
    if (rc >= 0 && rc != fd && (tracked_file(fd) || tracked_file(rc)))
        copy_tracking(fd, rc);
    return rc;
}

int dup3(int fd, int to, int flags)
{
    int rc = REAL(dup3)(fd, to, flags);
    if (rc >= 0 && (tracked_file(fd) || tracked_file(rc)))
        copy_tracking(fd, rc);
    return rc;
}

/* --- writes: each entry point adapts to tracked_write's gathered form --- */

static ssize_t perform_write(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    (void)iovcnt, (void)off;
    return REAL(write)(fd, iov[0].iov_base, iov[0].iov_len);
}

static ssize_t perform_pwrite(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    (void)iovcnt;
    return REAL(pwrite)(fd, iov[0].iov_base, iov[0].iov_len, off);
}

static ssize_t perform_writev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    (void)off;
    return REAL(writev)(fd, iov, iovcnt);
}

static ssize_t perform_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    return REAL(pwritev)(fd, iov, iovcnt, off);
}

static __thread int t_pwritev2_flags;

static ssize_t perform_pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    return REAL(pwritev2)(fd, iov, iovcnt, off, t_pwritev2_flags);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    if (!tracked_file(fd))
        return REAL(write)(fd, buf, count);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = count};
    return tracked_write(fd, -1, &iov, 1, "write", perform_write, &g_calls_write);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    if (!tracked_file(fd))
        return REAL(pwrite)(fd, buf, count, off);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = count};
    return tracked_write(fd, off, &iov, 1, "pwrite", perform_pwrite, &g_calls_pwrite);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
    if (!tracked_file(fd))
        return REAL(pwrite64)(fd, buf, count, off);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = count};
    return tracked_write(fd, off, &iov, 1, "pwrite64", perform_pwrite, &g_calls_pwrite);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (!tracked_file(fd))
        return REAL(writev)(fd, iov, iovcnt);
    return tracked_write(fd, -1, iov, iovcnt, "writev", perform_writev, &g_calls_writev);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    if (!tracked_file(fd))
        return REAL(pwritev)(fd, iov, iovcnt, off);
    return tracked_write(fd, off, iov, iovcnt, "pwritev", perform_pwritev, &g_calls_pwritev);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    if (!tracked_file(fd))
        return REAL(pwritev64)(fd, iov, iovcnt, off);
    return tracked_write(fd, off, iov, iovcnt, "pwritev64", perform_pwritev, &g_calls_pwritev);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    if (!tracked_file(fd))
        return REAL(pwritev2)(fd, iov, iovcnt, off, flags);
    t_pwritev2_flags = flags;
    return tracked_write(fd, off, iov, iovcnt, "pwritev2", perform_pwritev2, &g_calls_pwritev);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    if (!tracked_file(fd))
        return REAL(pwritev64v2)(fd, iov, iovcnt, off, flags);
    t_pwritev2_flags = flags;
    return tracked_write(fd, off, iov, iovcnt, "pwritev64v2", perform_pwritev2, &g_calls_pwritev);
}

/* --- syncs --- */

int fsync(int fd)
{
    if (!tracked_file(fd))
        return REAL(fsync)(fd);
    return tracked_sync(fd, 0);
}

int fdatasync(int fd)
{
    if (!tracked_file(fd))
        return REAL(fdatasync)(fd);
    return tracked_sync(fd, 1);
}
