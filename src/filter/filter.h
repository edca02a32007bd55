/* filter/filter.h — display filters: Wireshark's filter language, compiled once into a
 * small program over field ids and run against each decoded packet.
 *
 * The language is Wireshark's (4.x): existence tests, comparisons with any/all
 * semantics, contains, matches (PCRE2), set membership, slices, bitwise and, arithmetic
 * (+ - * / %, unary minus, {…} to group), layer operators (ip.src#2, ip.src#[1-2]), field
 * references (${tcp.srcport}: the reference packet's value), the functions
 * len/count/lower/upper/abs/max/min/string and and/or/xor/not with Wireshark's precedence. Values
 * come from the packet's field record only (dissect.h); the program names the fields it
 * reads so a run can record just those.
 *
 * Nothing here prints or exits: errors come back as a message and the byte range of the
 * filter text they are about, for the caller to show under the filter. Compiling is
 * cheap and has no side effects, so a TUI can validate a filter on every keystroke.
 */
#ifndef PKTSCOPE_FILTER_FILTER_H
#define PKTSCOPE_FILTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/packet.h"

/* Caps on what a filter can make the compiler do. A longer filter or deeper nesting is
 * refused with a message: no input may exhaust the stack or take unbounded time. */
#define DF_MAX_LEN 4096      /* bytes of filter text */
#define DF_MAX_DEPTH 64      /* nested parentheses, not, functions */
#define DF_MAX_SET 1024      /* elements of one `in {…}` set */

struct df_error {
	char msg[256];
	uint32_t pos, len;       /* byte range of the filter text the message is about */
};

struct df_filter;

/* Compiles `text`. Returns the program (free with df_free), or NULL with *err filled.
 * Fields must be registered (dissect_init) before the first call. */
struct df_filter *df_compile(const char *text, struct df_error *err);
void df_free(struct df_filter *f);

/* Whether packet p passes. p must have recorded the fields df_mask_add names. */
bool df_match(const struct df_filter *f, const struct packet *p);

/* The reference packet for ${field} references (Wireshark's selected packet): its values
 * are copied, p may go after the call; NULL forgets them. Without one a reference has no
 * value, so a test using it is false (as in tshark, which has no selected packet). */
void df_set_reference(struct df_filter *f, const struct packet *p);
/* Whether the program has ${…} references, and the fields they read (add them to the mask
 * of the run that decodes the reference packet). */
bool df_has_references(const struct df_filter *f);
void df_reference_mask_add(const struct df_filter *f, struct field_mask *m);

/* Adds the fields the program reads to m (so a masked run records them). */
void df_mask_add(const struct df_filter *f, struct field_mask *m);

/* Whether the program reads only packet-local fields (field_is_packet_local): then a
 * packet can be judged without conversation tracking, and a caller may decide which
 * packets (and flows) need the full pipeline before running it. */
bool df_is_packet_local(const struct df_filter *f);

/* Whether the program reads a protocol layer's bytes (`http[0:4]`, `tls contains …`,
 * `http2 matches …`): the run must then keep messages decoded outside the frame
 * (packet.keep_bufs), or those tests see no value. */
bool df_reads_layer_bytes(const struct df_filter *f);

/* Prints a compile error the way a person can act on it: the reason, the filter, and a
 * caret line under the offending columns. */
void df_error_print(FILE *out, const char *text, const struct df_error *err);

#endif
