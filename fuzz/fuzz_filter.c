/* fuzz/fuzz_filter.c — the display-filter lexer, parser and compiler on arbitrary text,
 * and every program that compiles run over real decoded packets (a DNS query, a TCP SYN,
 * an ICMPv6 advertisement from the lab sample). Nothing may crash, leak or hang; a
 * refused filter must say where. Seeds: the conformance and invalid tables
 * (scripts/fuzz-seeds.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/dissect.h"
#include "filter/filter.h"
#include "../tests/unit/frames.h"

static struct packet packets[3];

static void decode(struct packet *p, const uint8_t *b, size_t n)
{
	struct pkt_meta m = { .number = 1, .caplen = (uint32_t)n, .wirelen = (uint32_t)n, .linktype = LT_ETHERNET,
			      .ts_digits = 6 };
	packet_begin(p, &m, b);
	dissect_frame(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		dissect_init();
		decode(&packets[0], dns_query_udp, sizeof dns_query_udp);
		decode(&packets[1], tcp_syn, sizeof tcp_syn);
		decode(&packets[2], icmpv6_na, sizeof icmpv6_na);
		ready = true;
	}
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct df_error err;
	struct df_filter *f = df_compile(text, &err);
	if (f) {
		for (int i = 0; i < 3; i++) (void)df_match(f, &packets[i]);
		df_set_reference(f, &packets[1]); /* ${field} references take the SYN's values */
		for (int i = 0; i < 3; i++) (void)df_match(f, &packets[i]);
		df_set_reference(f, NULL);
		struct field_mask m = { 0 };
		df_mask_add(f, &m);
		(void)df_is_packet_local(f);
		df_free(f);
	} else if (err.msg[0] == '\0' || err.pos > strlen(text) + 1) {
		abort(); /* a refusal must say why and where */
	}
	free(text);
	return 0;
}
