/* egress/ident_linux.c — binary identity on Linux (see ident.h): held descriptors, a hashing
 * thread, fanotify or inotify on the binaries' directories, dpkg's database. */
#define _GNU_SOURCE
#include "egress/ident.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/xalloc.h"

/* Paths are PATH_MAX; one made longer by a prefix is cut, and then simply not found. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define HASH_CHUNK (1u << 20)
#define MAX_JOBS 64
#define DPKG_FILE_MAX (64u << 20) /* an md5sums or status file read at most this far */
#define ANCESTORS 8               /* how far up a writer's parents the package manager is looked for */

struct file_ent {
	bool used, busy;              /* busy: a job for it is queued or running */
	uint64_t dev, ino;
	int fd;                       /* held */
	int64_t size, mtime_ns, ctime_ns; /* the version hashed (or being hashed) */
	enum ident_state st;
	char path[PATH_MAX];
	struct ident_result r;
	uint64_t used_at;
};

struct write_rec { uint64_t dev, ino; pid_t pid; bool pkgmgr; char exe[256]; };

struct job { uint64_t dev, ino; int64_t size, mtime_ns, ctime_ns; int fd; char path[PATH_MAX]; };

struct dir_ent { uint64_t dev, ino; int wd; char path[PATH_MAX]; };

struct ident {
	char root[PATH_MAX];
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
	struct file_ent files[IDENT_MAX_FILES];
	uint64_t clock;
	struct job jobs[MAX_JOBS];
	unsigned jhead, jcount;
	int fan, ino;                 /* one of them, or neither */
	struct dir_ent *dirs;
	unsigned ndirs;
	struct write_rec writes[IDENT_MAX_WRITES];
	unsigned wnext;
	struct ident_stats st;
};

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

/* ---- dpkg ---- */

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < 0) {
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size < DPKG_FILE_MAX ? (size_t)st.st_size : DPKG_FILE_MAX;
	char *buf = xmalloc(cap + 1);
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0) break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The line of an md5sums file that lists rel ("usr/bin/curl"): its MD5, or false. */
static bool md5_line(const char *text, size_t len, const char *rel, char md5hex[33])
{
	char pat[PATH_MAX + 4];
	int pn = snprintf(pat, sizeof pat, "  %s\n", rel);
	if (pn <= 0 || (size_t)pn >= sizeof pat) return false;
	for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), pat, (size_t)pn));) {
		if (p - text >= 32 && (p - text == 32 || p[-33] == '\n')) {
			memcpy(md5hex, p - 32, 32);
			md5hex[32] = '\0';
			return true;
		}
		p++;
	}
	return false;
}

static void dpkg_version(const char *root, const char *pkg, const char *arch, char *version, size_t cap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/status", root);
	size_t len;
	char *text = slurp(path, &len);
	version[0] = '\0';
	if (!text) return;
	char want[256];
	snprintf(want, sizeof want, "Package: %s\n", pkg);
	for (char *s = text; s && *s;) {
		char *end = strstr(s, "\n\n");
		if (end) end[1] = '\0';
		if (!strncmp(s, want, strlen(want))) {
			const char *a = strstr(s, "\nArchitecture: ");
			bool arch_ok = !arch || (a && !strncmp(a + 15, arch, strlen(arch)) && a[15 + strlen(arch)] == '\n');
			const char *v = strstr(s, "\nVersion: ");
			if (arch_ok && v) {
				snprintf(version, cap, "%.*s", (int)strcspn(v + 10, "\n"), v + 10);
				break;
			}
		}
		s = end ? end + 2 : NULL;
	}
	free(text);
}

bool ident_dpkg_lookup(const char *root, const char *path, char *pkg, size_t pkgcap, char *version, size_t vercap,
		       char md5hex[33])
{
	/* dpkg lists paths without the leading slash, and as the package ships them: with the
	 * merged /usr, /usr/bin/x may be listed as bin/x */
	char rel[PATH_MAX], alt[PATH_MAX];
	snprintf(rel, sizeof rel, "%s", path[0] == '/' ? path + 1 : path);
	if (!strncmp(rel, "usr/", 4)) snprintf(alt, sizeof alt, "%s", rel + 4);
	else snprintf(alt, sizeof alt, "usr/%s", rel);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/info", root);
	DIR *d = opendir(dir);
	if (!d) return false;
	struct dirent *de;
	bool found = false;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n <= 8 || strcmp(de->d_name + n - 8, ".md5sums")) continue;
		char f[PATH_MAX];
		snprintf(f, sizeof f, "%s/%s", dir, de->d_name);
		size_t len;
		char *text = slurp(f, &len);
		if (!text) continue;
		if (md5_line(text, len, rel, md5hex) || md5_line(text, len, alt, md5hex)) {
			found = true;
			char name[256];
			snprintf(name, sizeof name, "%.*s", (int)(n - 8), de->d_name);
			char *colon = strchr(name, ':'); /* multiarch: libfoo:amd64 */
			if (colon) *colon++ = '\0';
			snprintf(pkg, pkgcap, "%s", name);
			dpkg_version(root, name, colon, version, vercap);
		}
		free(text);
	}
	closedir(d);
	return found;
}

/* ---- hashing (the thread) ---- */

static void hex(const unsigned char *p, unsigned n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool hash_fd(int fd, char sha[65], char md5[33], uint64_t *bytes)
{
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *m = EVP_MD_CTX_new();
	unsigned char *buf = xmalloc(HASH_CHUNK);
	bool ok = s && m && EVP_DigestInit_ex(s, EVP_sha256(), NULL) && EVP_DigestInit_ex(m, EVP_md5(), NULL);
	off_t off = 0;
	while (ok) {
		ssize_t r = pread(fd, buf, HASH_CHUNK, off);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) ok = false;
		if (r <= 0) break;
		ok = EVP_DigestUpdate(s, buf, (size_t)r) && EVP_DigestUpdate(m, buf, (size_t)r);
		off += r;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n;
	if (ok && EVP_DigestFinal_ex(s, d, &n)) hex(d, n, sha);
	else ok = false;
	if (ok && EVP_DigestFinal_ex(m, d, &n)) hex(d, n, md5);
	else ok = false;
	free(buf);
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(m);
	*bytes = (uint64_t)off;
	return ok;
}

static struct file_ent *find(struct ident *id, uint64_t dev, uint64_t ino)
{
	for (unsigned i = 0; i < IDENT_MAX_FILES; i++)
		if (id->files[i].used && id->files[i].dev == dev && id->files[i].ino == ino) return &id->files[i];
	return NULL;
}

static void *hasher(void *arg)
{
	struct ident *id = arg;
	pthread_mutex_lock(&id->mu);
	for (;;) {
		while (!id->stop && !id->jcount) pthread_cond_wait(&id->wake, &id->mu);
		if (id->stop) break;
		struct job j = id->jobs[id->jhead];
		id->jhead = (id->jhead + 1) % MAX_JOBS;
		id->jcount--;
		pthread_mutex_unlock(&id->mu);

		struct ident_result r;
		memset(&r, 0, sizeof r);
		char md5[33], want[33];
		uint64_t bytes = 0;
		bool ok = hash_fd(j.fd, r.sha256, md5, &bytes);
		close(j.fd);
		if (ok && ident_dpkg_lookup(id->root, j.path, r.package, sizeof r.package, r.version, sizeof r.version, want))
			r.verified = !strcmp(md5, want);

		pthread_mutex_lock(&id->mu);
		struct file_ent *e = find(id, j.dev, j.ino);
		if (e) {
			e->busy = false;
			if (e->size == j.size && e->mtime_ns == j.mtime_ns && e->ctime_ns == j.ctime_ns) {
				e->r = r;
				e->st = ok ? IDENT_READY : IDENT_UNREADABLE;
			}
		}
		id->st.hashed++;
		id->st.hashed_bytes += bytes;
	}
	pthread_mutex_unlock(&id->mu);
	return NULL;
}

/* ---- watching ---- */

static bool is_pkgmgr_name(const char *comm)
{
	static const char *const names[] = { "dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "rpm", "dnf",
					     "yum", "packagekitd", "dpkg-deb" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(comm, names[i])) return true;
	return false;
}

/* Whether pid, or one of its parents, is the package manager. */
static bool pkgmgr_pid(pid_t pid)
{
	for (int i = 0; i < ANCESTORS && pid > 1; i++) {
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%d/status", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) return false;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0) return false;
		buf[n] = '\0';
		if (!strncmp(buf, "Name:\t", 6)) {
			char comm[32];
			snprintf(comm, sizeof comm, "%.*s", (int)strcspn(buf + 6, "\n"), buf + 6);
			if (is_pkgmgr_name(comm)) return true;
		}
		const char *pp = strstr(buf, "\nPPid:\t");
		if (!pp) return false;
		pid = (pid_t)atoi(pp + 7);
	}
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static void record_write(struct ident *id, uint64_t dev, uint64_t ino, pid_t pid, const char *name)
{
	struct write_rec *w = &id->writes[id->wnext];
	id->wnext = (id->wnext + 1) % IDENT_MAX_WRITES;
	memset(w, 0, sizeof *w);
	w->dev = dev;
	w->ino = ino;
	w->pid = pid;
	w->pkgmgr = ends_with(name, ".dpkg-new") || ends_with(name, ".dpkg-tmp") || (pid > 0 && pkgmgr_pid(pid));
	if (pid > 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/exe", pid);
		ssize_t n = readlink(path, w->exe, sizeof w->exe - 1);
		w->exe[n > 0 ? n : 0] = '\0';
	}
	id->st.writes++;
}

static const struct write_rec *last_write(const struct ident *id, uint64_t dev, uint64_t ino)
{
	for (unsigned k = 1; k <= IDENT_MAX_WRITES; k++) {
		const struct write_rec *w = &id->writes[(id->wnext + IDENT_MAX_WRITES - k) % IDENT_MAX_WRITES];
		if (w->ino == ino && w->dev == dev && (w->ino || w->dev)) return w;
	}
	return NULL;
}

static void fan_events(struct ident *id)
{
	char buf[8192] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = read(id->fan, buf, sizeof buf);
		if (n <= 0) return;
		for (struct fanotify_event_metadata *md = (void *)buf; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
			if (md->vers != FANOTIFY_METADATA_VERSION) return;
			if (md->fd < 0) continue;
			struct stat st;
			char link[64], path[PATH_MAX];
			snprintf(link, sizeof link, "/proc/self/fd/%d", md->fd);
			ssize_t pl = readlink(link, path, sizeof path - 1);
			path[pl > 0 ? pl : 0] = '\0';
			if (fstat(md->fd, &st) == 0 && S_ISREG(st.st_mode))
				record_write(id, (uint64_t)st.st_dev, (uint64_t)st.st_ino, md->pid, path);
			close(md->fd);
		}
	}
}

static void ino_events(struct ident *id)
{
	char buf[8192] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = read(id->ino, buf, sizeof buf);
		if (n <= 0) return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (void *)p;
			p += sizeof *ev + ev->len;
			if (!ev->len) continue;
			for (unsigned i = 0; i < id->ndirs; i++) {
				if (id->dirs[i].wd != ev->wd) continue;
				char path[PATH_MAX + 256];
				snprintf(path, sizeof path, "%s/%s", id->dirs[i].path, ev->name);
				struct stat st;
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
					const struct write_rec *w = last_write(id, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
					/* a rename keeps the file: its writer is the one that wrote it */
					if (!(ev->mask & IN_MOVED_TO) || !w) record_write(id, (uint64_t)st.st_dev, (uint64_t)st.st_ino, 0, ev->name);
				}
				break;
			}
		}
	}
}

void ident_events(struct ident *id)
{
	if (id->fan >= 0) fan_events(id);
	else if (id->ino >= 0) ino_events(id);
}

static void watch_dir_of(struct ident *id, const char *file)
{
	if (id->fan < 0 && id->ino < 0) return;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) return;
	*slash = '\0';
	struct stat st;
	if (stat(dir, &st) < 0) return;
	for (unsigned i = 0; i < id->ndirs; i++)
		if (id->dirs[i].dev == (uint64_t)st.st_dev && id->dirs[i].ino == (uint64_t)st.st_ino) return;
	if (id->ndirs >= IDENT_MAX_DIRS) return;
	int wd = 0;
	if (id->fan >= 0) {
		if (fanotify_mark(id->fan, FAN_MARK_ADD, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, dir) < 0) return;
	} else if ((wd = inotify_add_watch(id->ino, dir, IN_CLOSE_WRITE | IN_MOVED_TO)) < 0) {
		return;
	}
	id->dirs = xrealloc(id->dirs, (id->ndirs + 1) * sizeof *id->dirs);
	struct dir_ent *d = &id->dirs[id->ndirs++];
	d->dev = (uint64_t)st.st_dev;
	d->ino = (uint64_t)st.st_ino;
	d->wd = wd;
	snprintf(d->path, sizeof d->path, "%s", dir);
}

/* ---- files ---- */

static void strip_deleted(char *path)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(path), k = sizeof deleted - 1;
	if (n > k && !strcmp(path + n - k, deleted)) path[n - k] = '\0';
}

/* A slot for a new file (the least recently used one that is not being hashed goes). */
static struct file_ent *slot(struct ident *id)
{
	struct file_ent *best = NULL;
	for (unsigned i = 0; i < IDENT_MAX_FILES; i++) {
		struct file_ent *e = &id->files[i];
		if (!e->used) return e;
		if (!e->busy && (!best || e->used_at < best->used_at)) best = e;
	}
	if (best) {
		close(best->fd);
		best->used = false;
		id->st.evicted++;
		id->st.held--;
	}
	return best;
}

/* Takes fd (a file opened at path) into the table: its entry, or NULL (fd closed). */
static struct file_ent *adopt(struct ident *id, int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	struct file_ent *e = find(id, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (e) {
		close(fd);
		return e;
	}
	if (!(e = slot(id))) {
		close(fd);
		return NULL;
	}
	memset(e, 0, sizeof *e);
	e->used = true;
	e->fd = fd;
	e->dev = (uint64_t)st.st_dev;
	e->ino = (uint64_t)st.st_ino;
	e->st = IDENT_PENDING;
	e->size = -1; /* not hashed yet */
	snprintf(e->path, sizeof e->path, "%s", path);
	strip_deleted(e->path);
	e->used_at = ++id->clock;
	id->st.held++;
	watch_dir_of(id, e->path);
	return e;
}

void ident_hold(struct ident *id, int fd)
{
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = '\0';
	pthread_mutex_lock(&id->mu);
	adopt(id, fd, path);
	pthread_mutex_unlock(&id->mu);
}

/* The process's executable: through /proc while it lives (the very file it runs), else by
 * its path when that is still the same file. -1 when neither. */
static int open_exe(pid_t pid, const char *exe, uint64_t dev, uint64_t ino)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	struct stat st;
	int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0 && fstat(fd, &st) == 0 && (!ino || ((uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino))) return fd;
	if (fd >= 0) close(fd);
	if (!ino || !exe[0]) return -1; /* a path alone says nothing about which file ran */
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", exe);
	strip_deleted(p);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino) return fd;
	if (fd >= 0) close(fd);
	return -1;
}

static bool system_dir(const char *dir)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/local/sbin",
					    "/usr/lib", "/usr/libexec", "/tmp", "/var/tmp", "/" };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (!strcmp(dir, dirs[i])) return true;
	return false;
}

/* Who wrote e last, as far as the watcher saw. */
static void classify(const struct ident *id, const struct file_ent *e, struct ident_result *out)
{
	const struct write_rec *w = last_write(id, e->dev, e->ino);
	out->writer = BLW_UNKNOWN;
	if (!w) return;
	out->writer_pid = w->pid;
	snprintf(out->writer_exe, sizeof out->writer_exe, "%s", w->exe);
	strip_deleted(out->writer_exe);
	if (w->pkgmgr) {
		out->writer = BLW_PACKAGE_MANAGER;
		return;
	}
	if (!w->pid) return;
	/* its own updater: the program itself, or a program of its own directory (tree) */
	char dir[PATH_MAX], wdir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", e->path);
	snprintf(wdir, sizeof wdir, "%s", out->writer_exe);
	char *s = strrchr(dir, '/'), *t = strrchr(wdir, '/');
	if (s) *s = '\0';
	if (t) *t = '\0';
	size_t wl = strlen(wdir);
	bool own = !strcmp(out->writer_exe, e->path) ||
		   (wl && !system_dir(wdir) && !system_dir(dir) && !strncmp(dir, wdir, wl) && (dir[wl] == '\0' || dir[wl] == '/'));
	out->writer = own ? BLW_SELF : BLW_OTHER;
}

enum ident_state ident_get(struct ident *id, pid_t pid, const char *exe, uint64_t dev, uint64_t ino,
			   struct ident_result *out)
{
	memset(out, 0, sizeof *out);
	ident_events(id); /* a write just before this run is known before it is judged */
	pthread_mutex_lock(&id->mu);
	struct file_ent *e = ino ? find(id, dev, ino) : NULL;
	if (!e) {
		int fd = open_exe(pid, exe, dev, ino);
		if (fd >= 0) e = adopt(id, fd, exe);
	}
	if (!e) {
		id->st.unreadable++;
		pthread_mutex_unlock(&id->mu);
		return IDENT_UNREADABLE;
	}
	e->used_at = ++id->clock;
	struct stat st;
	enum ident_state state = IDENT_UNREADABLE;
	if (fstat(e->fd, &st) == 0) {
		int64_t m = ts_ns(st.st_mtim), c = ts_ns(st.st_ctim);
		if (e->size == (int64_t)st.st_size && e->mtime_ns == m && e->ctime_ns == c && (e->st != IDENT_PENDING || e->busy)) {
			state = e->st;
		} else if (!e->busy && id->jcount < MAX_JOBS) { /* a new version, or never hashed: to the thread */
			int dup = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
			if (dup >= 0) {
				e->size = (int64_t)st.st_size;
				e->mtime_ns = m;
				e->ctime_ns = c;
				e->st = IDENT_PENDING;
				e->busy = true;
				struct job *j = &id->jobs[(id->jhead + id->jcount++) % MAX_JOBS];
				*j = (struct job){ e->dev, e->ino, e->size, m, c, dup, "" };
				snprintf(j->path, sizeof j->path, "%s", e->path);
				pthread_cond_signal(&id->wake);
			}
			state = IDENT_PENDING;
		} else {
			state = IDENT_PENDING; /* the thread is on it (or its queue is full): asked again */
		}
	}
	if (state == IDENT_READY) {
		*out = e->r;
		classify(id, e, out);
	}
	pthread_mutex_unlock(&id->mu);
	return state;
}

struct ident *ident_open(const char *dpkg_root, char *note, size_t notelen)
{
	struct ident *id = xcalloc(1, sizeof *id);
	snprintf(id->root, sizeof id->root, "%s", dpkg_root ? dpkg_root : "/var/lib/dpkg");
	pthread_mutex_init(&id->mu, NULL);
	pthread_cond_init(&id->wake, NULL);
	id->ino = -1;
	id->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (id->fan >= 0) {
		snprintf(note, notelen, "binaries' writes watched by fanotify (with the writer)");
	} else {
		int e = errno;
		id->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		snprintf(note, notelen, "fanotify unavailable (%s): %s", strerror(e),
			 id->ino >= 0 ? "binaries' writes watched by inotify (without the writer)" : "binaries' writes not watched");
	}
	if (pthread_create(&id->thread, NULL, hasher, id) == 0) id->running = true;
	return id;
}

int ident_fd(const struct ident *id) { return id->fan >= 0 ? id->fan : id->ino; }

void ident_close(struct ident *id)
{
	if (!id) return;
	if (id->running) {
		pthread_mutex_lock(&id->mu);
		id->stop = true;
		pthread_cond_signal(&id->wake);
		pthread_mutex_unlock(&id->mu);
		pthread_join(id->thread, NULL);
	}
	for (unsigned i = 0; i < id->jcount; i++) close(id->jobs[(id->jhead + i) % MAX_JOBS].fd);
	for (unsigned i = 0; i < IDENT_MAX_FILES; i++)
		if (id->files[i].used) close(id->files[i].fd);
	if (id->fan >= 0) close(id->fan);
	if (id->ino >= 0) close(id->ino);
	free(id->dirs);
	pthread_mutex_destroy(&id->mu);
	pthread_cond_destroy(&id->wake);
	free(id);
}

void ident_stats(const struct ident *id, struct ident_stats *st)
{
	pthread_mutex_lock((pthread_mutex_t *)&id->mu);
	*st = id->st;
	pthread_mutex_unlock((pthread_mutex_t *)&id->mu);
}
