/*
 * locktest clock shim: a per-process, run-time-adjustable wall-clock offset.
 *
 * What it is for. Redis 7.0 expires keys by the wall clock (mstime() reads gettimeofday), so moving
 * only redis-server's view of CLOCK_REALTIME reproduces the clock jump of Kleppmann's Redlock
 * critique (docs/scenarios.md, K3) without touching the kernel clock, which every container
 * on the host shares. Never set the real clock (date -s, CAP_SYS_TIME): that moves the whole
 * machine.
 *
 * Why not libfaketime. libfaketime 0.9.10 hangs Debian's redis-server (a clash with jemalloc, which
 * redis-server links; known upstream), and it does far more than this needs: it intercepts dozens
 * of functions and initialises lazily from inside them. This file is small enough to read in full.
 * It does all its setup in a constructor, never allocates, never locks, and when the offset is
 * zero costs one extra load and compare per call (measured: under 1 ns on a 23 ns call).
 *
 * One source, two programs:
 *   - built with -shared -fPIC it is the LD_PRELOAD library (locktest-clockshim.so). It replaces
 *     clock_gettime, gettimeofday and time. Readings of CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
 *     CLOCK_REALTIME_ALARM and CLOCK_TAI (and gettimeofday and time, which are realtime) get the
 *     offset added; every other clock (MONOTONIC*, BOOTTIME*, CPU-time clocks) passes through
 *     untouched, so timeouts, latency measurements and jemalloc's decay clock are unaffected.
 *   - built with -DCLOCKSHIM_TOOL it is locktest-clock, the only writer of the offset:
 *       locktest-clock get              print the offset in nanoseconds (0 if the file is missing)
 *       locktest-clock set NANOSECONDS  set the offset (creates the file if missing)
 *       locktest-clock mapped PID       exit 0 if process PID has the offset file mapped
 *
 * The offset file (path from $LOCKTEST_CLOCK_FILE, default /run/locktest/clock-offset) is 16
 * bytes: the magic "LTCLOCK1", then the offset as a signed 64-bit nanosecond count in native byte
 * order at byte 8 (8-byte aligned). Inspect it with: od -An -td8 -j8 -N8 FILE
 *
 * Update protocol. The shim maps the file read-only and MAP_SHARED once, at load; each call does
 * one atomic 64-bit load of the offset. locktest-clock maps the same file and changes the offset
 * with one atomic 64-bit store. An aligned 8-byte load or store is single-copy atomic on x86-64
 * and arm64, so a reader sees the old or the new offset, never a mix: no seqlock, no retry loop,
 * and a writer killed half-way cannot leave a state that readers spin on. Writing the file with
 * write() (printf, dd) would not give that guarantee (the kernel copies bytes with no atomicity
 * promise), which is why the writer is this program and not a shell one-liner.
 *
 * Where the file lives. In the image, at /run/locktest/clock-offset (mode 0666), on the container's
 * root file system: an overlay. With kernel overlayfs a file from an image layer is copied up to a
 * new inode the first time anyone opens it for writing, and a mapping made before that keeps
 * showing the old inode (documented overlayfs behaviour). So the shim opens the file read-write
 * before mapping it (read-only): the copy-up happens first, and the shim and every later writer
 * share one inode. Checked on fuse-overlayfs as well (this project's machines). The offset survives
 * a restart of the container, as a wrong hardware clock would. A tmpfs such as /dev/shm would
 * sidestep overlays but is the host's own with --ipc=host, shared by every container. If the file
 * is missing the shim creates it (offset 0); if it cannot, the offset stays 0 and it says so on
 * stderr once.
 *
 * Never truncate or rewrite the file with a shell redirection (echo > FILE): a mapped page beyond
 * the end of a file raises SIGBUS in redis-server. locktest-clock only ever grows it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_FILE_ENV "LOCKTEST_CLOCK_FILE"
#define CLOCK_FILE_DEFAULT "/run/locktest/clock-offset"
#define CLOCK_MAGIC "LTCLOCK1"
#define NS_PER_SEC 1000000000LL

struct clock_file {
	char magic[8];     /* CLOCK_MAGIC, not NUL-terminated */
	int64_t offset_ns; /* added to realtime readings; read and written atomically */
};

_Static_assert(sizeof(struct clock_file) == 16, "clock file layout");
_Static_assert(sizeof(CLOCK_MAGIC) - 1 == sizeof(((struct clock_file *)0)->magic), "magic size");

static const char *clock_path(void)
{
	const char *p = getenv(CLOCK_FILE_ENV);
	return (p && *p) ? p : CLOCK_FILE_DEFAULT;
}

/*
 * map_clock_file opens the clock file and maps its 16 bytes MAP_SHARED. If create, a missing file
 * is created (mode 0666) and a short one grown; an empty file gets the magic. It returns NULL and
 * sets *why when the file is missing (and !create), unusable, or not a clock file. It allocates
 * nothing, so it is safe in the shim's constructor.
 */
static struct clock_file *map_clock_file(const char *path, int create, int writable, const char **why)
{
	int fd = open(path, (create ? O_RDWR | O_CREAT : (writable ? O_RDWR : O_RDONLY)) | O_CLOEXEC, 0666);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	struct clock_file *f = NULL;
	struct stat st;
	char magic[sizeof(f->magic)];
	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if (st.st_size < (off_t)sizeof(struct clock_file)) {
		if (!create) {
			*why = "shorter than 16 bytes";
			goto out;
		}
		/* Other bytes stay zero: a new file has offset 0. fchmod undoes the umask. */
		if (ftruncate(fd, sizeof(struct clock_file)) != 0 || fchmod(fd, 0666) != 0) {
			*why = strerror(errno);
			goto out;
		}
	}
	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		*why = "cannot read the magic";
		goto out;
	}
	if (memcmp(magic, CLOCK_MAGIC, sizeof(magic)) != 0) {
		static const char zeros[sizeof(magic)];
		/* Only a file that was just created (by us or by a racing creator) may get the magic;
		 * both write the same bytes, so the race is harmless. Anything else is not ours. */
		if (!create || memcmp(magic, zeros, sizeof(magic)) != 0 ||
		    pwrite(fd, CLOCK_MAGIC, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
			*why = "not a locktest clock file (bad magic)";
			goto out;
		}
	}
	void *p = mmap(NULL, sizeof(struct clock_file), writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		*why = strerror(errno);
		goto out;
	}
	f = p;
out:
	close(fd); /* the mapping keeps the file */
	return f;
}

#ifndef CLOCKSHIM_TOOL
/* ------------------------------------------------------------------ the LD_PRELOAD library */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *restrict, void *restrict);
typedef time_t (*time_fn)(time_t *);

/*
 * The real functions, found with dlsym(RTLD_NEXT) in the constructor: glibc's versions, which
 * dispatch to the vDSO (about 23 ns, no system call). The alternatives are worse: a raw system
 * call costs about ten times more (230 ns measured here), and locating and parsing the vDSO
 * ourselves is code to get wrong for no gain. Until the constructor has run (another library's
 * constructor may read the clock first, e.g. jemalloc while initialising), calls use the
 * clock_gettime system call directly: that path needs no dlsym, so a clock reading can never
 * recurse into the dynamic linker or malloc.
 */
static clock_gettime_fn real_clock_gettime;
static gettimeofday_fn real_gettimeofday;
static time_fn real_time;

/* Points at the mapped offset once the constructor has mapped the file; at a constant 0 before or
 * without it. */
static const int64_t zero_offset;
static const int64_t *offset_ptr = &zero_offset;

static inline int64_t current_offset(void)
{
	const int64_t *p = __atomic_load_n(&offset_ptr, __ATOMIC_ACQUIRE);
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline int is_realtime(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_REALTIME_ALARM || clk == CLOCK_TAI;
}

static int unshifted_clock_gettime(clockid_t clk, struct timespec *ts)
{
	clock_gettime_fn real = __atomic_load_n(&real_clock_gettime, __ATOMIC_ACQUIRE);
	if (real)
		return real(clk, ts);
	return (int)syscall(SYS_clock_gettime, clk, ts);
}

/* shift adds off nanoseconds to *ts, keeping tv_nsec in [0, 1e9). */
static inline void shift(struct timespec *ts, int64_t off)
{
	long nsec = ts->tv_nsec + (long)(off % NS_PER_SEC);
	ts->tv_sec += (time_t)(off / NS_PER_SEC);
	if (nsec >= NS_PER_SEC) {
		nsec -= NS_PER_SEC;
		ts->tv_sec++;
	} else if (nsec < 0) {
		nsec += NS_PER_SEC;
		ts->tv_sec--;
	}
	ts->tv_nsec = nsec;
}

__attribute__((visibility("default"))) int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (!is_realtime(clk))
		return unshifted_clock_gettime(clk, ts);
	int rc = unshifted_clock_gettime(clk, ts);
	int64_t off = current_offset();
	if (rc == 0 && off != 0)
		shift(ts, off);
	return rc;
}

__attribute__((visibility("default"))) int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	int64_t off = current_offset();
	gettimeofday_fn real = __atomic_load_n(&real_gettimeofday, __ATOMIC_ACQUIRE);
	if (off == 0 && real)
		return real(tv, tz);
	/* Shifted, or before the constructor: derive it from CLOCK_REALTIME, which is what glibc does. */
	if (tz)
		memset(tz, 0, sizeof(struct timezone)); /* obsolete; glibc reports zeros too */
	struct timespec ts; /* tv is declared nonnull by glibc, so it is not checked */
	int rc = unshifted_clock_gettime(CLOCK_REALTIME, &ts);
	if (rc != 0)
		return rc;
	if (off != 0)
		shift(&ts, off);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

__attribute__((visibility("default"))) time_t time(time_t *tloc)
{
	int64_t off = current_offset();
	time_fn real = __atomic_load_n(&real_time, __ATOMIC_ACQUIRE);
	if (off == 0 && real)
		return real(tloc);
	/* time() is the coarse realtime clock's seconds (that is what the vDSO returns); shifting the
	 * full reading rather than the whole seconds keeps a fractional offset exact. */
	struct timespec ts;
	if (unshifted_clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
		return (time_t)-1;
	if (off != 0)
		shift(&ts, off);
	if (tloc)
		*tloc = ts.tv_sec;
	return ts.tv_sec;
}

static void warn(const char *path, const char *why)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "locktest-clockshim: %s: %s; the wall-clock offset stays 0\n", path, why);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

__attribute__((constructor)) static void clockshim_init(void)
{
	/* Casting dlsym's void * to a function pointer is what POSIX requires to work. */
	__atomic_store_n(&real_clock_gettime, (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime"), __ATOMIC_RELEASE);
	__atomic_store_n(&real_gettimeofday, (gettimeofday_fn)dlsym(RTLD_NEXT, "gettimeofday"), __ATOMIC_RELEASE);
	__atomic_store_n(&real_time, (time_fn)dlsym(RTLD_NEXT, "time"), __ATOMIC_RELEASE);

	/* Open read-write (creating the file if it is missing) so that an overlay copies the file up
	 * before we map it; see "Where the file lives" above. The mapping itself is read-only:
	 * redis-server cannot change its own offset. If the file cannot be opened or is not ours, the
	 * offset is 0 for the life of the process. */
	const char *path = clock_path(), *why = NULL;
	struct clock_file *f = map_clock_file(path, 1, 0, &why);
	if (!f)
		f = map_clock_file(path, 0, 0, &why); /* e.g. exists but not writable by this user */
	if (!f) {
		warn(path, why);
		return;
	}
	__atomic_store_n(&offset_ptr, (const int64_t *)&f->offset_ns, __ATOMIC_RELEASE);
}

#else
/* ------------------------------------------------------------------ locktest-clock, the writer */

static int usage(void)
{
	fprintf(stderr, "usage: locktest-clock get | set NANOSECONDS | mapped PID\n"
	                "offset file: $" CLOCK_FILE_ENV " or " CLOCK_FILE_DEFAULT "\n");
	return 2;
}

static int parse_int64(const char *s, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*v = (int64_t)x;
	return 0;
}

/* mapped reports whether /proc/PID/maps has a mapping of path. */
static int mapped(const char *pid, const char *path)
{
	char maps[64];
	snprintf(maps, sizeof(maps), "/proc/%s/maps", pid);
	FILE *fp = fopen(maps, "r");
	if (!fp) {
		fprintf(stderr, "locktest-clock: %s: %s\n", maps, strerror(errno));
		return 1;
	}
	char line[4096];
	size_t plen = strlen(path);
	int found = 0;
	while (!found && fgets(line, sizeof(line), fp)) {
		size_t n = strcspn(line, "\n");
		line[n] = '\0';
		found = n >= plen && strcmp(line + n - plen, path) == 0 && (n == plen || line[n - plen - 1] == ' ');
	}
	fclose(fp);
	if (!found) {
		fprintf(stderr, "locktest-clock: process %s does not map %s (not started with the clock shim?)\n", pid, path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = clock_path(), *why = NULL;
	if (argc == 2 && strcmp(argv[1], "get") == 0) {
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			puts("0"); /* no file: no offset */
			return 0;
		}
		struct clock_file *f = map_clock_file(path, 0, 0, &why);
		if (!f) {
			fprintf(stderr, "locktest-clock: %s: %s\n", path, why);
			return 1;
		}
		printf("%lld\n", (long long)__atomic_load_n(&f->offset_ns, __ATOMIC_SEQ_CST));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "set") == 0) {
		int64_t off;
		if (parse_int64(argv[2], &off) != 0) {
			fprintf(stderr, "locktest-clock: bad offset '%s': want a signed nanosecond count\n", argv[2]);
			return 2;
		}
		struct clock_file *f = map_clock_file(path, 1, 1, &why);
		if (!f) {
			fprintf(stderr, "locktest-clock: %s: %s\n", path, why);
			return 1;
		}
		__atomic_store_n(&f->offset_ns, off, __ATOMIC_SEQ_CST);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "mapped") == 0)
		return mapped(argv[2], path);
	return usage();
}
#endif
