/* capture/bfile.c — record-aligned buffered output, cut back to the last whole record when
 * a write fails (see bfile.h). */
#include "capture/bfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

int bf_open(struct bfile *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->is_stdout = !strcmp(path, "-");
	f->fd = f->is_stdout ? STDOUT_FILENO : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) return -1;
	f->buf = xmalloc(BFILE_BUF);
	return 0;
}

int bf_flush(struct bfile *f)
{
	if (f->err) return -1;
	size_t off = 0;
	while (off < f->len) {
		ssize_t w = write(f->fd, f->buf + off, f->len - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			f->err = w < 0 ? errno : ENOSPC;
			/* a part of the gathered records may be on disk: cut it back to whole ones */
			if (!f->is_stdout && ftruncate(f->fd, (off_t)f->committed) == 0) lseek(f->fd, (off_t)f->committed, SEEK_SET);
			f->len = 0;
			return -1;
		}
		off += (size_t)w;
	}
	f->committed += f->len;
	f->len = 0;
	return 0;
}

int bf_record2(struct bfile *f, const void *a, size_t an, const void *b, size_t bn)
{
	if (f->err) return -1;
	if (f->len + an + bn > BFILE_BUF && bf_flush(f) < 0) return -1;
	if (an + bn > BFILE_BUF) { /* cannot happen with the writers' caps */
		f->err = EFBIG;
		return -1;
	}
	memcpy(f->buf + f->len, a, an);
	if (bn) memcpy(f->buf + f->len + an, b, bn);
	f->len += an + bn;
	return 0;
}

int bf_record(struct bfile *f, const void *rec, size_t n) { return bf_record2(f, rec, n, NULL, 0); }

int bf_close(struct bfile *f)
{
	int rc = bf_flush(f);
	if (!f->is_stdout && f->fd >= 0 && close(f->fd) != 0 && rc == 0) {
		f->err = errno;
		rc = -1;
	}
	free(f->buf);
	f->buf = NULL;
	return rc;
}
