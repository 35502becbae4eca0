/* raw_lmdb_torture: a writer and verifier on raw LMDB, the stand-in that validates the fault
 * harnesses (powerloss_test.sh, crash_test.sh, enospc_test.sh) independently of the store. It
 * has the command-line contract the store's own torture tool must have:
 *
 *   raw_lmdb_torture write DIR --acks FILE [--nosync] [--count N]
 *     commits one transaction per iteration (key k<N> = value(N), key last = N), continuing
 *     from the stored `last`, and after each successful commit appends "ack <N>\n" to FILE with
 *     one write(2) on an O_APPEND fd. Runs until killed, or until N acks with --count.
 *     Exit 1 with a message on a store error (e.g. "No space left on device").
 *   raw_lmdb_torture verify DIR --acks FILE
 *     exit 0 when every acked commit is present and the whole database reads back intact,
 *     1 on loss or corruption (lines starting "loss:" or "corrupt:"), 2 on usage/other errors.
 *     Intact: the env opens, a cursor walk finds exactly k1..k<last> with good values, and the
 *     free list (dbi 0) names each page once, within the file.
 *
 * value(N) is a deterministic function of N: "n=<N>;", filler, and a 64-bit FNV-1a checksum of
 * the rest. Most values are 24..323 bytes; one in eight is 2100..5999 bytes (overflow pages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { max_value = 6000 };
static const size_t map_size = (size_t)1 << 30;

_Noreturn static void fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("raw_lmdb_torture: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Writes value(n) into buf (max_value bytes) and returns its length. */
static size_t make_value(uint64_t n, unsigned char *buf)
{
    uint64_t h = mix(n);
    /* Mostly small values; one in eight takes one or two overflow pages. */
    size_t len = h % 8 == 0 ? 2100 + (size_t)(h / 8 % (max_value - 2100)) : 24 + (size_t)(h / 8 % 300);
    int head = snprintf((char *)buf, max_value, "n=%" PRIu64 ";", n);
    uint64_t r = n, bits = 0;
    for (size_t i = (size_t)head; i < len - 16; ++i, bits >>= 8) {
        if ((i - (size_t)head) % 8 == 0)
            bits = mix(++r);
        buf[i] = (unsigned char)('a' + (bits & 0xff) % 26);
    }
    char sum[17];
    snprintf(sum, sizeof sum, "%016" PRIx64, fnv1a(buf, len - 16));
    memcpy(buf + len - 16, sum, 16);
    return len;
}

static int checksum_ok(const unsigned char *p, size_t len)
{
    if (len < 16)
        return 0;
    char sum[17];
    snprintf(sum, sizeof sum, "%016" PRIx64, fnv1a(p, len - 16));
    return memcmp(sum, p + len - 16, 16) == 0;
}

static int parse_number(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

struct options {
    const char *dir, *acks;
    int nosync;
    uint64_t count;
};

_Noreturn static void usage(void)
{
    fail(2, "usage: raw_lmdb_torture write DIR --acks FILE [--nosync] [--count N]\n"
            "       raw_lmdb_torture verify DIR --acks FILE");
}

static struct options parse(int argc, char **argv, int writing)
{
    struct options o = {0};
    if (argc < 3)
        usage();
    o.dir = argv[2];
    for (int i = 3; i < argc; ++i) {
        if (strcmp(argv[i], "--acks") == 0 && i + 1 < argc)
            o.acks = argv[++i];
        else if (writing && strcmp(argv[i], "--nosync") == 0)
            o.nosync = 1;
        else if (writing && strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (!parse_number(argv[i + 1], strlen(argv[i + 1]), &o.count) || o.count == 0)
                usage();
            ++i;
        } else
            usage();
    }
    if (!o.acks)
        usage();
    return o;
}

static int open_env(const char *dir, unsigned flags, MDB_env **env)
{
    int rc = mdb_env_create(env);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_mapsize(*env, map_size)) || (rc = mdb_env_open(*env, dir, flags, 0644))) {
        mdb_env_close(*env);
        *env = NULL;
    }
    return rc;
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size)
        fail(2, "path too long: %s/%s", dir, name);
}

/* LMDB writes a new file's meta pages without syncing them: a power loss before the first sync
 * can leave a data.mdb that no longer opens. So a new store is made in DIR/.create, synced, and
 * renamed into place; until the rename there is no data.mdb, which reads as an empty store. */
static void create_store(const char *dir, unsigned flags)
{
    char tmp[4096], from[4096], to[4096], lock[4096];
    path_in(tmp, sizeof tmp, dir, ".create");
    path_in(from, sizeof from, tmp, "data.mdb");
    path_in(lock, sizeof lock, tmp, "lock.mdb");
    path_in(to, sizeof to, dir, "data.mdb");
    unlink(from);
    unlink(lock);
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        fail(1, "cannot create %s: %s", tmp, strerror(errno));
    MDB_env *env;
    int rc = open_env(tmp, flags, &env);
    if (rc)
        fail(1, "cannot create the store in %s: %s", tmp, mdb_strerror(rc));
    if ((rc = mdb_env_sync(env, 1)))
        fail(1, "cannot sync the new store: %s", mdb_strerror(rc));
    mdb_env_close(env);
    if (rename(from, to) != 0)
        fail(1, "cannot rename %s to %s: %s", from, to, strerror(errno));
    unlink(lock);
    rmdir(tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0)
        fail(1, "cannot sync directory %s: %s", dir, strerror(errno));
    close(dfd);
}

static int write_main(struct options o)
{
    unsigned flags = o.nosync ? MDB_NOSYNC : 0;
    if (mkdir(o.dir, 0755) != 0 && errno != EEXIST)
        fail(1, "cannot create %s: %s", o.dir, strerror(errno));
    char data[4096];
    path_in(data, sizeof data, o.dir, "data.mdb");
    if (access(data, F_OK) != 0)
        create_store(o.dir, flags);

    int ack_fd = open(o.acks, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (ack_fd < 0)
        fail(2, "cannot open %s: %s", o.acks, strerror(errno));

    MDB_env *env;
    int rc = open_env(o.dir, flags, &env);
    if (rc)
        fail(1, "cannot open the store in %s: %s", o.dir, mdb_strerror(rc));
    MDB_txn *txn;
    MDB_dbi dbi;
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi)))
        fail(1, "cannot begin: %s", mdb_strerror(rc));
    uint64_t n = 0;
    MDB_val key = {.mv_size = 4, .mv_data = "last"}, val;
    rc = mdb_get(txn, dbi, &key, &val);
    if (rc == 0 && !parse_number(val.mv_data, val.mv_size, &n))
        fail(1, "corrupt: bad value of key last");
    if (rc && rc != MDB_NOTFOUND)
        fail(1, "cannot read key last: %s", mdb_strerror(rc));
    mdb_txn_abort(txn);

    unsigned char value[max_value];
    for (uint64_t acked = 0; o.count == 0 || acked < o.count; ++acked) {
        ++n;
        char k[32], last[32];
        int klen = snprintf(k, sizeof k, "k%" PRIu64, n);
        int llen = snprintf(last, sizeof last, "%" PRIu64, n);
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
            fail(1, "cannot begin transaction %" PRIu64 ": %s", n, mdb_strerror(rc));
        MDB_val kv = {.mv_size = (size_t)klen, .mv_data = k};
        MDB_val vv = {.mv_size = make_value(n, value), .mv_data = value};
        MDB_val lk = {.mv_size = 4, .mv_data = "last"};
        MDB_val lv = {.mv_size = (size_t)llen, .mv_data = last};
        if ((rc = mdb_put(txn, dbi, &kv, &vv, 0)) || (rc = mdb_put(txn, dbi, &lk, &lv, 0))) {
            mdb_txn_abort(txn);
            fail(1, "put in transaction %" PRIu64 " failed: %s", n, mdb_strerror(rc));
        }
        if ((rc = mdb_txn_commit(txn)))
            fail(1, "commit of transaction %" PRIu64 " failed: %s", n, mdb_strerror(rc));
        char line[48];
        int len = snprintf(line, sizeof line, "ack %" PRIu64 "\n", n);
        if (write(ack_fd, line, (size_t)len) != len)
            fail(2, "cannot append to %s: %s", o.acks, strerror(errno));
    }
    mdb_env_close(env);
    close(ack_fd);
    return 0;
}

/* --- verify --- */

static int g_problems;

static void problem(const char *kind, const char *fmt, ...)
{
    if (++g_problems > 20)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", kind);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The acked numbers, sorted and deduplicated. A missing file means nothing was acked. */
static uint64_t *read_acks(const char *path, size_t *count)
{
    *count = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return NULL;
        fail(2, "cannot read %s: %s", path, strerror(errno));
    }
    size_t cap = 1024;
    uint64_t *acks = malloc(cap * sizeof *acks);
    char line[128];
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        uint64_t n;
        if (line[len] != '\n') /* a torn last line: the writer died inside write(2) */
            break;
        if (len < 5 || memcmp(line, "ack ", 4) != 0 || !parse_number(line + 4, len - 4, &n))
            fail(2, "bad line in %s: %.*s", path, (int)len, line);
        if (*count == cap)
            acks = realloc(acks, (cap *= 2) * sizeof *acks);
        acks[(*count)++] = n;
    }
    fclose(f);
    qsort(acks, *count, sizeof *acks, compare_u64);
    size_t out = 0;
    for (size_t i = 0; i < *count; ++i)
        if (out == 0 || acks[out - 1] != acks[i])
            acks[out++] = acks[i];
    *count = out;
    return acks;
}

/* The free list (dbi 0, as mdb_stat -f reads it): each record an IDL of page numbers, all of
 * them past the meta pages, below the last used page, and freed only once. */
static void check_free_list(MDB_env *env, MDB_txn *txn)
{
    MDB_envinfo info;
    mdb_env_info(env, &info);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, 0, &cur);
    if (rc) {
        problem("corrupt", "cannot open the free list: %s", mdb_strerror(rc));
        return;
    }
    size_t count = 0, cap = 256;
    size_t *pages = malloc(cap * sizeof *pages);
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const size_t *idl = val.mv_data;
        if (val.mv_size < sizeof(size_t) || val.mv_size != (idl[0] + 1) * sizeof(size_t)) {
            problem("corrupt", "free list record of %zu bytes is malformed", val.mv_size);
            continue;
        }
        for (size_t i = 1; i <= idl[0]; ++i) {
            if (idl[i] < 2 || idl[i] > info.me_last_pgno)
                problem("corrupt", "free list names page %zu (last page %zu)", idl[i],
                        info.me_last_pgno);
            if (count == cap)
                pages = realloc(pages, (cap *= 2) * sizeof *pages);
            pages[count++] = idl[i];
        }
    }
    if (rc != MDB_NOTFOUND)
        problem("corrupt", "reading the free list: %s", mdb_strerror(rc));
    mdb_cursor_close(cur);
    qsort(pages, count, sizeof *pages, compare_size);
    for (size_t i = 1; i < count; ++i)
        if (pages[i] == pages[i - 1])
            problem("corrupt", "page %zu is freed twice", pages[i]);
    free(pages);
}

static int verify_main(struct options o)
{
    size_t nacks;
    uint64_t *acks = read_acks(o.acks, &nacks);
    uint64_t max_ack = nacks ? acks[nacks - 1] : 0;

    char data[4096];
    path_in(data, sizeof data, o.dir, "data.mdb");
    if (access(data, F_OK) != 0) {
        if (nacks == 0) {
            printf("verify: ok (no store yet, nothing acked)\n");
            return 0;
        }
        printf("loss: %s is missing but %zu commits were acked\n", data, nacks);
        return 1;
    }

    MDB_env *env;
    int rc = open_env(o.dir, MDB_RDONLY, &env);
    if (rc) {
        printf("corrupt: the store does not open: %s\n", mdb_strerror(rc));
        return 1;
    }
    MDB_txn *txn;
    MDB_dbi dbi;
    if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi))) {
        printf("corrupt: cannot begin a read transaction: %s\n", mdb_strerror(rc));
        return 1;
    }

    /* Every acked commit is there, with its exact value. */
    unsigned char expect[max_value];
    size_t lost = 0;
    for (size_t i = 0; i < nacks; ++i) {
        char k[32];
        MDB_val key = {.mv_size = (size_t)snprintf(k, sizeof k, "k%" PRIu64, acks[i]), .mv_data = k};
        MDB_val val;
        rc = mdb_get(txn, dbi, &key, &val);
        if (rc == MDB_NOTFOUND) {
            ++lost;
            problem("loss", "acked commit %" PRIu64 " is missing", acks[i]);
        } else if (rc) {
            problem("corrupt", "reading acked key %s: %s", k, mdb_strerror(rc));
        } else {
            size_t len = make_value(acks[i], expect);
            if (val.mv_size != len || memcmp(val.mv_data, expect, len) != 0)
                problem("corrupt", "acked key %s has a wrong value", k);
        }
    }

    /* The whole tree: keys k1..k<last> exactly, each value intact. */
    uint64_t last = 0, keys = 0, max_key = 0;
    int have_last = 0;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, dbi, &cur))) {
        printf("corrupt: cannot open a cursor: %s\n", mdb_strerror(rc));
        return 1;
    }
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const char *k = key.mv_data;
        uint64_t n;
        if (key.mv_size == 4 && memcmp(k, "last", 4) == 0) {
            have_last = 1;
            if (!parse_number(val.mv_data, val.mv_size, &last))
                problem("corrupt", "key last has a bad value");
        } else if (key.mv_size >= 2 && k[0] == 'k' && parse_number(k + 1, key.mv_size - 1, &n) && n > 0) {
            ++keys;
            if (n > max_key)
                max_key = n;
            char head[32];
            int hlen = snprintf(head, sizeof head, "n=%" PRIu64 ";", n);
            if (!checksum_ok(val.mv_data, val.mv_size))
                problem("corrupt", "key k%" PRIu64 ": bad checksum", n);
            else if (val.mv_size < (size_t)hlen || memcmp(val.mv_data, head, (size_t)hlen) != 0)
                problem("corrupt", "key k%" PRIu64 ": value of another key", n);
        } else {
            problem("corrupt", "unexpected key of %zu bytes", key.mv_size);
        }
    }
    if (rc != MDB_NOTFOUND)
        problem("corrupt", "walking the database: %s", mdb_strerror(rc));
    mdb_cursor_close(cur);
    if (keys > 0 && !have_last)
        problem("corrupt", "key last is missing");
    if (have_last && (max_key != last || keys != last))
        problem("corrupt", "last = %" PRIu64 " but %" PRIu64 " keys up to k%" PRIu64, last, keys, max_key);
    if (last < max_ack && lost == 0)
        problem("loss", "last = %" PRIu64 " but commit %" PRIu64 " was acked", last, max_ack);

    check_free_list(env, txn);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    free(acks);
    if (g_problems) {
        printf("verify: FAIL (%d problems; %zu acked, %zu of them lost; last = %" PRIu64 ")\n",
               g_problems, nacks, lost, last);
        return 1;
    }
    printf("verify: ok (%zu acked, last = %" PRIu64 ")\n", nacks, last);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "write") == 0)
        return write_main(parse(argc, argv, 1));
    if (strcmp(argv[1], "verify") == 0)
        return verify_main(parse(argc, argv, 0));
    usage();
}
