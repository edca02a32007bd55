/* fuzz/fuzz_request.c — the monitor socket's request parser (util/jsonr) on arbitrary
 * bytes, as the daemon uses it: a line parsed as one object, then its members read with
 * every getter. It must accept or refuse, never crash, read out of bounds or hang; what it
 * accepts, it accepts again when given back its own parts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1); /* exactly the bytes: an overread is caught */
	if (size) memcpy(text, data, size);
	struct jobj o, sub;
	char err[200], s[512];
	if (jsonr_object(text, size, &o, err, sizeof err) == 0) {
		for (int i = 0; i < o.n; i++) {
			const struct jv *v = &o.v[i];
			int64_t n;
			bool b, bad;
			if (jsonr_str(v, s, sizeof s) == 0 && strlen(s) >= sizeof s) abort();
			jsonr_i64(v, &n);
			jsonr_bool(v, &b);
			size_t pos = 0;
			int k = 0;
			while (jsonr_next_str(v, &pos, s, sizeof s, &bad))
				if (++k > (int)size) abort(); /* each string takes bytes: no endless walk */
			if (v->type == JV_OBJ && jsonr_sub(v, &sub, err, sizeof err) < 0) abort(); /* checked as a part already */
		}
	} else if (strncmp(err, "at byte ", 8) != 0) {
		abort(); /* a refusal says where */
	}
	free(text);
	return 0;
}
