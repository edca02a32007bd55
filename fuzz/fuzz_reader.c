/* fuzz/fuzz_reader.c — libFuzzer harness for the capture reader: the input is a whole
 * file (pcap through libpcap, pcapng through our reader, or anything else), read to the
 * end or to the first error, each packet decoded with the TLS key log its Decryption
 * Secrets Blocks give (dissect/keylog.c parses them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "fuzz_file.h"
#include "dissect/dissect.h"
#include "dissect/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet p;
	dissect_init();
	char path[] = "/tmp/pktscope-fuzz-XXXXXX";
	if (!fuzz_write_file(path, data, size)) return 0;
	char err[512];
	struct pkt_source *s = src_open_file(path, err, sizeof err);
	if (s) {
		struct keylog *keys = keylog_new();
		src_set_secrets(s, keylog_dsb, keys);
		p.keylog = keys;
		struct pkt_meta m;
		const uint8_t *d;
		uint64_t n = 0;
		while (src_next(s, &m, &d) == SRC_OK) {
			m.number = ++n;
			packet_begin(&p, &m, d);
			dissect_frame(&p);
		}
		src_close(s);
		p.keylog = NULL;
		keylog_free(keys);
	}
	unlink(path);
	return 0;
}
