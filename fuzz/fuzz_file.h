/* fuzz/fuzz_file.h — the harnesses that read whole capture files: the input written to a
 * temporary file, since sources open paths. */
#ifndef PKTSCOPE_FUZZ_FUZZ_FILE_H
#define PKTSCOPE_FUZZ_FUZZ_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes data to a new file whose name goes into path (a "…XXXXXX" template); false, with
 * nothing left behind, when that fails. The caller unlinks it. */
static inline bool fuzz_write_file(char *path, const uint8_t *data, size_t size)
{
	int fd = mkstemp(path);
	if (fd < 0) return false;
	bool ok = write(fd, data, size) == (ssize_t)size;
	close(fd);
	if (!ok) unlink(path);
	return ok;
}

#endif
