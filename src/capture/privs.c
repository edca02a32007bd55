/* capture/privs.c — dropping privileges once the capture handles and output files are
 * open: a root process becomes an unprivileged user (setgroups, setgid, setuid: the kernel
 * clears the capabilities of a process that leaves uid 0), and any capabilities left (a
 * binary given cap_net_raw,cap_net_admin with setcap) are cleared with capset(2). */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "capture/capture.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int clear_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capset, &h, d) != 0) {
		snprintf(err, errlen, "cannot clear capabilities: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* and never gain any again through exec */
	return 0;
}

int priv_target(const char *user, uid_t *uid, gid_t *gid)
{
	if (!user) user = "nobody";
	if (geteuid() != 0 || !strcmp(user, "root")) return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

int priv_drop(const char *user, char *err, size_t errlen)
{
	if (!user) user = "nobody";
	bool keep_root = !strcmp(user, "root");
	if (geteuid() == 0 && !keep_root) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "-Z %s: no such user", user);
			return -1;
		}
		if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
			return -1;
		}
	}
	if (keep_root) return 0;
	return clear_capabilities(err, errlen);
}
