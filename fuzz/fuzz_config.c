/* fuzz/fuzz_config.c — the config.toml parser on arbitrary bytes: it must accept or
 * refuse with "NAME:LINE: problem", never crash, leak or hang. Seeds: dist/ and the
 * unit test's cases. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/config.h"
#include "dissect/dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		dissect_init();
		ready = true;
	}
	struct config c = { 0 };
	char err[300];
	err[0] = '\0';
	if (config_parse((const char *)data, size, "f.toml", &c, err, sizeof err) < 0 && strncmp(err, "f.toml:", 7) != 0)
		abort(); /* a refusal names the file and line */
	for (size_t i = 0; i < c.nfilters; i++)
		if (!config_filter(&c, c.filters[i].name)) abort();
	config_free(&c);
	return 0;
}
