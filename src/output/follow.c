/* output/follow.c — `--follow tcp|udp,ascii|hex|raw,N`: one conversation's payload in
 * capture order, both directions interleaved, in the layout of tshark's
 * `-q -z follow,…`. A stream consumer (flow/flow.h) that writes each chunk as it
 * arrives, so following a long stream keeps memory flat. */
#include "output/output.h"

#include <stdio.h>
#include <string.h>

static const char rule[] = "===================================================================\n";

static void node(struct sbuf *sb, int i, const struct flow *f, int key_endpoint)
{
	sb_puts(sb, "Node ");
	sb_u64(sb, (uint64_t)i);
	sb_puts(sb, ": ");
	if (f->key.family == 6) {
		sb_putc(sb, '[');
		sb_ipv6(sb, f->key.addr[key_endpoint]);
		sb_putc(sb, ']');
	} else {
		sb_ipv4(sb, f->key.addr[key_endpoint]);
	}
	sb_putc(sb, ':');
	sb_u64(sb, f->key.port[key_endpoint]);
	sb_putc(sb, '\n');
}

static void header(struct follow *fo, const struct flow *f)
{
	struct sbuf *sb = fo->out;
	static const char *modes[] = { "ascii", "hex", "raw" };
	const char *proto = fo->proto == 6 ? "tcp" : "udp";
	sb_putc(sb, '\n');
	sb_puts(sb, rule);
	sb_printf(sb, "Follow: %s,%s\nFilter: %s.stream eq %lld\n", proto, modes[fo->mode], proto, (long long)fo->stream);
	node(sb, 0, f, f->client_dir);
	node(sb, 1, f, !f->client_dir);
}

static const char hexdig[] = "0123456789abcdef";

static void hex_lines(struct sbuf *sb, const uint8_t *p, size_t n, uint64_t *offset, bool indent)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;
		sb_room(sb, 96); /* keep the line in one piece of the buffer */
		if (indent) sb_putc(sb, '\t');
		static const char up[] = "0123456789ABCDEF"; /* tshark prints offsets in upper case */
		for (int sh = 28; sh >= 0; sh -= 4) sb_putc(sb, up[((*offset + i) >> sh) & 15]);
		sb_puts(sb, "  ");
		for (size_t j = 0; j < 16; j++) {
			if (j < k) {
				sb_putc(sb, hexdig[p[i + j] >> 4]);
				sb_putc(sb, hexdig[p[i + j] & 15]);
				sb_putc(sb, ' ');
			} else {
				sb_puts(sb, "   ");
			}
			if (j == 7) sb_putc(sb, ' ');
		}
		sb_putc(sb, ' ');
		for (size_t j = 0; j < k; j++) {
			uint8_t c = p[i + j];
			sb_putc(sb, c >= 0x20 && c < 0x7f ? (char)c : '.');
			if (j == 7) sb_putc(sb, ' ');
		}
		/* tshark drops one trailing space from every line: the gap after column 8 on a
		 * line of eight bytes, else a 0x20 byte that ends the line. The line is one piece
		 * of the buffer (room reserved above). */
		if (sb->buf[sb->len - 1] == ' ') sb->len--;
		sb_putc(sb, '\n');
	}
	*offset += n;
}

static void on_data(void *cctx, const struct flow *f, int dir, const uint8_t *p, size_t n, uint64_t frame)
{
	(void)f;
	(void)frame;
	struct follow *fo = cctx;
	struct sbuf *sb = fo->out;
	bool server = dir == 1;
	switch (fo->mode) {
	case FOLLOW_ASCII:
		if (server) sb_putc(sb, '\t');
		sb_u64(sb, n);
		sb_putc(sb, '\n');
		/* printable bytes, newlines and carriage returns as they are, the rest as '.' */
		for (size_t i = 0; i < n; i++)
			sb_putc(sb, (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' ? (char)p[i] : '.');
		sb_putc(sb, '\n');
		break;
	case FOLLOW_HEX:
		hex_lines(sb, p, n, &fo->offset[dir], server);
		break;
	case FOLLOW_RAW:
		if (server) sb_putc(sb, '\t');
		sb_hexbytes(sb, p, n, 0);
		sb_putc(sb, '\n');
		break;
	}
}

static void on_gap(void *cctx, const struct flow *f, int dir, uint64_t len, uint64_t frame)
{
	(void)f;
	(void)frame;
	struct follow *fo = cctx;
	fo->offset[dir] += len;
}

static const struct stream_consumer follow_consumer = { on_data, on_gap, NULL };

static const struct stream_consumer *select_stream(void *ctx, const struct flow *f, void **cctx)
{
	struct follow *fo = ctx;
	if (f->key.proto != fo->proto || f->stream != fo->stream || fo->found) return NULL;
	fo->found = true;
	header(fo, f);
	*cctx = fo;
	return &follow_consumer;
}

int follow_parse(struct follow *fo, const char *spec, char *err, size_t errlen)
{
	char proto[8], mode[8];
	long long n;
	char extra;
	memset(fo, 0, sizeof *fo);
	int k = sscanf(spec, "%7[a-z],%7[a-z],%lld%c", proto, mode, &n, &extra);
	if (k == 2 && !strchr(spec + strlen(proto) + 1, ',')) {
		n = -1; /* no stream number: -Y chooses the stream */
	} else if (k != 3 || n < 0) {
		snprintf(err, errlen, "--follow takes PROTO,MODE,STREAM (e.g. tcp,ascii,0), not '%s'", spec);
		return -1;
	}
	if (!strcmp(proto, "tcp")) fo->proto = 6;
	else if (!strcmp(proto, "udp")) fo->proto = 17;
	else {
		snprintf(err, errlen, "--follow: protocol must be tcp or udp, not '%s'", proto);
		return -1;
	}
	if (!strcmp(mode, "ascii")) fo->mode = FOLLOW_ASCII;
	else if (!strcmp(mode, "hex")) fo->mode = FOLLOW_HEX;
	else if (!strcmp(mode, "raw")) fo->mode = FOLLOW_RAW;
	else {
		snprintf(err, errlen, "--follow: mode must be ascii, hex or raw, not '%s'", mode);
		return -1;
	}
	fo->stream = n;
	return 0;
}

void follow_attach(struct follow *fo, struct flow_tracker *tr, struct sbuf *out)
{
	fo->out = out;
	flow_tracker_set_selector(tr, select_stream, fo);
}

void follow_finish(struct follow *fo)
{
	if (fo->found) sb_puts(fo->out, rule);
}
