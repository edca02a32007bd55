/* egress/ident.h — what a program's binary is (SHA-256), which package it belongs to, and who
 * last wrote it.
 *
 * The file is read through a descriptor opened at the process's exec (proc_attr_on_exe) or
 * when it is first seen (/proc/PID/exe, which is the file that ran even when its path was
 * replaced since), held while the file is known, never a path opened again later unless
 * the process is gone (then the path, only if it is still the same device and inode).
 * Hashes are cached by (device, inode, size, mtime, ctime) and computed by one thread of
 * their own: a 200 MB browser is hashed without holding up the packets.
 *
 * Writes are watched in the directories of the binaries known: fanotify (FAN_CLOSE_WRITE,
 * with the writer's pid; needs CAP_SYS_ADMIN) where permitted, inotify (no pid) otherwise.
 * The writer is the package manager when it is dpkg, apt or rpm (or a process they ran), or
 * when the file was written under dpkg's temporary name (NAME.dpkg-new); the program itself
 * when the writer's executable is the file or lives in the program's own directory. The
 * package and version come from dpkg's database, and a file verifies when its MD5 is the
 * one dpkg's md5sums list for it. */
#ifndef PKTSCOPE_EGRESS_IDENT_H
#define PKTSCOPE_EGRESS_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "egress/baseline.h"

#define IDENT_MAX_FILES 1024   /* binaries held open and cached at once (least recently used go) */
#define IDENT_MAX_WRITES 1024  /* writes remembered (the newest) */
#define IDENT_MAX_DIRS 4096    /* directories watched */

enum ident_state { IDENT_READY, IDENT_PENDING, IDENT_UNREADABLE };

struct ident_result {
	char sha256[65];
	char package[128], version[64];
	bool verified;
	enum bl_writer writer;
	int writer_pid;
	char writer_exe[256];
};

struct ident;
/* dpkg_root: where dpkg's database is ("/var/lib/dpkg"). How writes are watched (or why
 * they are not) is said in note. */
struct ident *ident_open(const char *dpkg_root, char *note, size_t notelen);
void ident_close(struct ident *id);
/* The watcher's descriptor to poll (-1 none), and its events. */
int ident_fd(const struct ident *id);
void ident_events(struct ident *id);
/* A descriptor of a process's executable, opened at its exec: kept (or closed when the file
 * is already held). */
void ident_hold(struct ident *id, int fd);
/* The identity of process pid's executable exe (device and inode as recorded at its exec;
 * 0: unknown). PENDING while it is hashed: ask again. */
enum ident_state ident_get(struct ident *id, pid_t pid, const char *exe, uint64_t dev, uint64_t ino,
			   struct ident_result *out);

struct ident_stats { uint64_t hashed, hashed_bytes, held, writes, evicted, unreadable; };
void ident_stats(const struct ident *id, struct ident_stats *st);

/* Exposed for the unit tests: the package owning path (in dpkg's database under root), its
 * version and the MD5 dpkg lists for it; false when no package has it. */
bool ident_dpkg_lookup(const char *root, const char *path, char *pkg, size_t pkgcap, char *version, size_t vercap,
		       char md5hex[33]);

#endif
