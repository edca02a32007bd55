/* dissect/frame.c — the frame layer: capture metadata as fields, then the link type's
 * decoder, then the protocol chain as `frame.protocols`. */
#include "dissect/decoders.h"

#include <string.h>

static void record_protocols(struct packet *p)
{
	if (p->mask && !(p->mask->bits[F_FRAME_PROTOCOLS >> 3] & (1u << (F_FRAME_PROTOCOLS & 7)))) return;
	char buf[512];
	size_t n = 0;
	for (uint8_t i = 1; i < p->nprotos; i++) { /* [0] is frame itself */
		const struct field_def *f = &field_defs[p->protos[i]];
		if (n + f->name_len + 1 >= sizeof buf) break;
		if (n) buf[n++] = ':';
		memcpy(buf + n, f->name, f->name_len);
		n += f->name_len;
	}
	pk_string(p, F_FRAME_PROTOCOLS, buf, n, 0, 0);
}

/* A quoted string of a pktscope note ("...", with \" and \\) from s[*i] into out; false
 * when it is not one. */
static bool note_quoted(const uint8_t *s, uint32_t n, uint32_t *i, char *out, size_t cap)
{
	if (*i >= n || s[*i] != '"') return false;
	size_t o = 0;
	for (uint32_t k = *i + 1; k < n; k++) {
		uint8_t ch = s[k];
		if (ch == '"') {
			out[o] = '\0';
			*i = k + 1;
			return true;
		}
		if (ch == '\\' && k + 1 < n) ch = s[++k];
		if (o + 1 < cap) out[o++] = (char)ch;
	}
	return false;
}

/* A decimal number after the word `key ` at s[*i]. */
static bool note_number(const uint8_t *s, uint32_t n, uint32_t *i, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	if (*i + kl + 1 >= n || memcmp(s + *i, key, kl) || s[*i + kl] != ' ') return false;
	uint32_t k = *i + (uint32_t)kl + 1, start = k;
	*v = 0;
	while (k < n && s[k] >= '0' && s[k] <= '9' && k - start < 10) *v = *v * 10 + (uint64_t)(s[k++] - '0');
	if (k == start) return false;
	*i = k;
	return true;
}

/* The process a pcapng comment pktscope wrote names (capture/writer.c writes it:
 * `process "NAME" pid N uid N [exe "PATH"] [cmdline "ARGS"]`), read back as proc.* fields, so
 * a capture's file filters by process as the capture did. */
static void proc_from_note(struct packet *p, const uint8_t *s, uint32_t n)
{
	static const char key[] = "process \"";
	uint32_t i = 0;
	while (i + sizeof key - 1 <= n && memcmp(s + i, key, sizeof key - 1)) i++;
	if (i + sizeof key - 1 > n) return;
	i += 8;
	char name[64], exe[512], cmd[512];
	uint64_t pid, uid;
	exe[0] = cmd[0] = '\0';
	if (!note_quoted(s, n, &i, name, sizeof name) || i >= n || s[i++] != ' ' || !note_number(s, n, &i, "pid", &pid) ||
	    i >= n || s[i++] != ' ' || !note_number(s, n, &i, "uid", &uid))
		return;
	if (i + 5 < n && !memcmp(s + i, " exe ", 5)) {
		i += 5;
		if (!note_quoted(s, n, &i, exe, sizeof exe)) return;
	}
	if (i + 9 < n && !memcmp(s + i, " cmdline ", 9)) {
		i += 9;
		if (!note_quoted(s, n, &i, cmd, sizeof cmd)) return;
	}
	p->cur_where = 0;
	p->cur_parent = PKT_NO_PARENT;
	p->buf_bias = 0;
	struct cur none = cur_make(p->data, 0);
	int slot = pk_proto(p, F_PROC, &none);
	pk_uint(p, F_PROC_PID, pid, 0, 0);
	pk_string(p, F_PROC_NAME, name, strlen(name), 0, 0);
	if (exe[0]) pk_string(p, F_PROC_EXE, exe, strlen(exe), 0, 0);
	pk_uint(p, F_PROC_UID, uid, 0, 0);
	if (cmd[0]) pk_string(p, F_PROC_CMDLINE, cmd, strlen(cmd), 0, 0);
	pk_proto_end(p, slot, &none);
}

void dissect_frame(struct packet *p)
{
	const struct pkt_meta *m = &p->meta;
	struct cur c = cur_make(p->data, m->caplen);
	pk_proto(p, F_FRAME, &c);
	pk_uint(p, F_FRAME_NUMBER, m->number, 0, 0);
	if (!m->no_time) { /* a simple packet block or a custom block has none */
		struct fval *f = pk_add(p, F_FRAME_TIME, 0, 0);
		if (f) {
			f->v.t.sec = m->ts_sec;
			f->v.t.nsec = m->ts_nsec;
		}
		f = pk_add(p, F_FRAME_TIME_EPOCH, 0, 0);
		if (f) {
			f->v.t.sec = m->ts_sec;
			f->v.t.nsec = m->ts_nsec;
		}
		f = pk_add(p, F_FRAME_TIME_RELATIVE, 0, 0);
		if (f) {
			f->v.t.sec = p->rel_neg ? -p->rel_sec : p->rel_sec;
			f->v.t.nsec = p->rel_nsec;
			f->neg = p->rel_neg; /* sign for values between -1 and 0 s */
		}
	}
	if (m->record == PKT_RECORD_PACKET) {
		pk_uint(p, F_FRAME_INTERFACE_ID, m->ifindex, 0, 0);
		if (m->ifname) pk_string(p, F_FRAME_INTERFACE_NAME, m->ifname, strlen(m->ifname), 0, 0);
		pk_uint(p, F_FRAME_ENCAP_TYPE, (uint64_t)m->linktype, 0, 0);
	}
	pk_uint(p, F_FRAME_LEN, m->wirelen, 0, 0);
	pk_uint(p, F_FRAME_CAP_LEN, m->caplen, 0, 0);
	if (m->comment_len) pk_bytes(p, F_FRAME_COMMENT, m->comment, m->comment_len, 0);

	if (m->record == PKT_RECORD_CUSTOM) dissect_custom_block(p, &c);
	else if (m->record == PKT_RECORD_JOURNAL) dissect_journal(p, &c);
	else dissect_linktype(p, m->linktype, &c);

	if (p->fields_overflow) {
		p->nfields -= 2; /* make room to say so */
		p->fields_overflow = false;
		pk_broken(p, "frame", "too many fields in one packet; the rest were not recorded");
		p->fields_overflow = true;
	}
	record_protocols(p);
	/* after frame.protocols, which names the packet's own layers as tshark does */
	if (m->note_len && pk_wants_range(p, F_PROC, F_PROC_CMDLINE)) proc_from_note(p, m->note, m->note_len);
}
