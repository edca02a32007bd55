/* dissect/journal.c — pcapng records that are not packets: systemd journal export
 * entries (pcapng spec §4.7; the format is systemd's "Journal Export Format": KEY=VALUE
 * lines, or KEY, a newline, a 64-bit little-endian length and that many bytes for binary
 * values) and custom blocks (§4.8), shown as Wireshark shows them. */
#include "dissect/decoders.h"

struct journal_key {
	const char *key;
	enum field_id id;
};

static const struct journal_key journal_keys[] = {
	{ "_HOSTNAME", F_SYSTEMD_JOURNAL_HOSTNAME },     { "SYSLOG_IDENTIFIER", F_SYSTEMD_JOURNAL_SYSLOG_ID },
	{ "PRIORITY", F_SYSTEMD_JOURNAL_PRIORITY },      { "_PID", F_SYSTEMD_JOURNAL_PID },
	{ "_COMM", F_SYSTEMD_JOURNAL_COMM },             { "_EXE", F_SYSTEMD_JOURNAL_EXE },
	{ "_CMDLINE", F_SYSTEMD_JOURNAL_CMDLINE },       { "_SYSTEMD_UNIT", F_SYSTEMD_JOURNAL_SYSTEMD_UNIT },
	{ "MESSAGE", F_SYSTEMD_JOURNAL_MESSAGE },
};

/* Records one KEY=value; true when it is the MESSAGE (Info shows it). */
static bool journal_field(struct packet *p, const struct cur *key, const struct cur *val)
{
	size_t kl = cur_left(key);
	if (kl == 20 && cur_starts(key, "__REALTIME_TIMESTAMP", 20)) {
		struct cur v = *val;
		size_t nd;
		uint64_t us = cur_digits(&v, 10, 19, &nd);
		struct fval *f = nd ? pk_add(p, F_SYSTEMD_JOURNAL_REALTIME_TIMESTAMP, cur_off(val), (uint32_t)cur_left(val)) : NULL;
		if (f) {
			f->v.t.sec = (int64_t)(us / 1000000);
			f->v.t.nsec = (uint32_t)(us % 1000000) * 1000;
		}
		return false;
	}
	for (size_t i = 0; i < sizeof journal_keys / sizeof journal_keys[0]; i++) {
		const struct journal_key *jk = &journal_keys[i];
		if (strlen(jk->key) != kl || !cur_starts(key, jk->key, kl)) continue;
		if (field_defs[jk->id].type == FT_UINT) {
			struct cur v = *val;
			size_t nd;
			uint64_t n = cur_digits(&v, 10, 10, &nd);
			if (nd && !cur_left(&v)) pk_uint(p, jk->id, n, cur_off(val), (uint32_t)cur_left(val));
		} else {
			pk_string(p, jk->id, (const char *)val->pos, cur_left(val), cur_off(val), (uint32_t)cur_left(val));
		}
		return jk->id == F_SYSTEMD_JOURNAL_MESSAGE;
	}
	return false;
}

void dissect_journal(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_SYSTEMD_JOURNAL, c);
	struct sbuf *sb = pk_col(p, "systemd Journal");
	struct cur message = { 0 };
	bool have_message = false;
	for (unsigned n = 0; cur_left(c) && n < 4096; n++) { /* each turn consumes a line or a value */
		struct cur line;
		if (!cur_line(c, &line)) {
			line = *c;
			cur_skip(c, cur_left(c));
		}
		struct cur key;
		if (cur_split(&line, '=', &key)) {
			if (journal_field(p, &key, &line)) {
				message = line;
				have_message = true;
			}
			continue;
		}
		/* binary: KEY\n, then a 64-bit little-endian size, the bytes and a newline */
		uint32_t lo = cur_le32(c), hi = cur_le32(c);
		if (c->err || hi || lo > cur_left(c)) {
			pk_broken(p, "systemd_journal", "journal entry field length exceeds the entry");
			break;
		}
		struct cur val = cur_sub(c, lo);
		if (journal_field(p, &line, &val)) {
			message = val;
			have_message = true;
		}
		cur_skip(c, 1);
	}
	if (sb && have_message) sb_put(sb, (const char *)message.pos, cur_left(&message));
	pk_proto_end(p, slot, c);
}

void dissect_custom_block(struct packet *p, struct cur *c)
{
	const struct pkt_meta *m = &p->meta;
	pk_uint(p, F_FRAME_CB_PEN, m->pen, 0, 0);
	pk_bool(p, F_FRAME_CB_COPY, m->copy_ok, 0, 0);
	struct sbuf *sb = pk_col(p, "PCAPNG");
	if (sb) {
		sb_puts(sb, "Custom Block: PEN = ");
		sb_puts(sb, vn_name(vn_pen, m->pen, "Unknown"));
		sb_puts(sb, " (");
		sb_u64(sb, m->pen);
		sb_puts(sb, m->copy_ok ? "), will be copied" : "), will not be copied");
	}
	pk_data(p, c);
}
