/* dissect/textproto.c — the line-based protocols that still carry logins in the clear:
 * FTP (RFC 959, AUTH TLS RFC 4217), POP3 (RFC 1939, STLS RFC 2595), IMAP (RFC 9051),
 * SMTP (RFC 5321, AUTH RFC 4954 with PLAIN RFC 4616 and LOGIN, STARTTLS RFC 3207) and
 * Telnet (RFC 854). Each is recognised by its own greeting or commands on any port (the
 * well-known port only breaks a tie), decoded a line at a time from the reassembled
 * stream with Wireshark's field names, and a login seen in the clear is recorded as
 * credentials.* with the user's name — never the password. After an accepted STARTTLS the
 * stream is looked at again for TLS.
 */
#include "dissect/app_internal.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A line longer than this is decoded in pieces of this size (no real command is). */
#define TEXT_MAX_LINE 8192
#define TEXT_MAX_USER 64

enum smtp_auth { SA_NONE, SA_PLAIN_WAIT, SA_LOGIN_USER, SA_LOGIN_PASS };
enum telnet_state { TN_IDLE, TN_LOGIN_PROMPT };

struct text_state {
	int8_t server_dir;     /* the direction responses come from, -1 until known */
	char user[TEXT_MAX_USER];
	uint8_t user_len;
	bool have_user;
	bool tls_pending;      /* STARTTLS (STLS, AUTH TLS) asked: the next positive reply switches */
	char tls_tag[16];      /* IMAP: the STARTTLS command's tag */
	uint8_t smtp_auth;     /* enum smtp_auth */
	bool smtp_data_pending, smtp_data; /* DATA asked; the client is sending the message */
	bool pop_expect_multi, pop_multi;  /* a multi-line answer is asked for; being received */
	bool imap_plain_wait;  /* AUTHENTICATE PLAIN without its response: the next line has it */
	bool reply_cont;       /* the server's last line was "NNN-": a multi-line reply goes on */
	uint64_t code_frame;   /* the packet whose reply code was recorded last */
	uint8_t telnet;        /* enum telnet_state */
	char typed[TEXT_MAX_USER]; /* a login name being typed at the prompt */
	uint8_t typed_len;
};

void text_state_free(struct text_state *t) { free(t); }

static bool ci_starts(const uint8_t *b, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n < k) return false;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = b[i];
		if (c >= 'a' && c <= 'z') c = (uint8_t)(c - 32);
		uint8_t d = (uint8_t)s[i];
		if (d >= 'a' && d <= 'z') d = (uint8_t)(d - 32);
		if (c != d) return false;
	}
	return true;
}

static bool ci_contains(const uint8_t *b, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (ci_starts(b + i, n - i, s)) return true;
	return false;
}

/* The first line, when the bytes start with one of printable ASCII ending in CRLF or LF. */
static size_t printable_line(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && i < 512; i++) {
		if (b[i] == '\n') return i;
		if ((b[i] < 0x20 || b[i] > 0x7e) && b[i] != '\r' && b[i] != '\t') return 0;
	}
	return 0;
}

static bool reply_code(const uint8_t *b, size_t n)
{
	return n >= 4 && b[0] >= '1' && b[0] <= '5' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9' &&
	       (b[3] == ' ' || b[3] == '-' || b[3] == '\r');
}

static bool port_in(uint16_t port, const uint16_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == port) return true;
	return false;
}

static const uint16_t smtp_ports[] = { 25, 465, 587, 2525 };
static const uint16_t pop_ports[] = { 110, 995 };

/* An IMAP tag: letters and digits (RFC 9051's tag is broader; clients use these), a space. */
static size_t imap_tag(const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i < n && i < 16 && ((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') || b[i] == '.'))
		i++;
	return i && i < n && b[i] == ' ' ? i : 0;
}

enum app_proto text_sniff(const struct app_flow *a, const uint8_t *b, size_t n)
{
	if (n >= 2 && b[0] == 0xff && b[1] >= 251 && b[1] <= 254) return AP_TELNET; /* IAC WILL/WONT/DO/DONT */
	size_t len = printable_line(b, n);
	if (!len) return a->sport == 23 && n ? AP_TELNET : AP_UNKNOWN;
	if (ci_starts(b, len, "+OK") || ci_starts(b, len, "-ERR ")) return AP_POP;
	if (ci_starts(b, len, "* OK") || ci_starts(b, len, "* PREAUTH")) return AP_IMAP;
	if (reply_code(b, len)) { /* both FTP and SMTP greet with 220: the text, then the port */
		if (ci_contains(b, len, "FTP")) return AP_FTP;
		if (ci_contains(b, len, "SMTP") || ci_contains(b, len, " mail")) return AP_SMTP;
		return port_in(a->sport, smtp_ports, 4) ? AP_SMTP : AP_FTP;
	}
	/* a capture that starts after the greeting: the client's commands */
	if (ci_starts(b, len, "EHLO ") || ci_starts(b, len, "HELO ")) return AP_SMTP;
	if (ci_starts(b, len, "CAPA") || ci_starts(b, len, "APOP ") || ci_starts(b, len, "STLS")) return AP_POP;
	if (ci_starts(b, len, "USER ")) return port_in(a->sport, pop_ports, 2) ? AP_POP : AP_FTP;
	size_t tag = imap_tag(b, len);
	if (tag && (ci_starts(b + tag + 1, len - tag - 1, "LOGIN ") || ci_starts(b + tag + 1, len - tag - 1, "CAPABILITY") ||
		    ci_starts(b + tag + 1, len - tag - 1, "STARTTLS") || ci_starts(b + tag + 1, len - tag - 1, "AUTHENTICATE ")))
		return AP_IMAP;
	return AP_UNKNOWN;
}

/* ---- helpers ---- */

/* The first word of line l and the rest (spaces between dropped). */
static void split_word(const struct cur *l, struct cur *word, struct cur *rest)
{
	*rest = *l;
	if (!cur_split(rest, ' ', word)) {
		*word = *l;
		rest->pos = rest->end;
	}
	while (rest->pos < rest->end && *rest->pos == ' ') rest->pos++;
}

static void put_cur(struct packet *p, enum field_id id, const struct cur *c)
{
	pk_string(p, id, (const char *)c->pos, cur_left(c), cur_off(c), (uint32_t)cur_left(c));
}

static void info_line(struct packet *p, const char *proto, const char *prefix, const struct cur *l)
{
	struct sbuf *sb = app_info(p, proto);
	if (!sb) return;
	sb_puts(sb, prefix);
	sb_text(sb, l->pos, cur_left(l));
}

static bool word_is(const struct cur *w, const char *s) { return cur_left(w) == strlen(s) && ci_starts(w->pos, cur_left(w), s); }

static void remember_user(struct text_state *t, const uint8_t *u, size_t n)
{
	if (n > TEXT_MAX_USER - 1) n = TEXT_MAX_USER - 1;
	memcpy(t->user, u, n);
	t->user_len = (uint8_t)n;
	t->have_user = true;
}

/* The remembered user, or "(unknown)" when the login began before the capture. */
static void login(struct packet *p, const struct text_state *t, const char *proto, const char *method)
{
	if (t->have_user) app_credentials(p, proto, (const uint8_t *)t->user, t->user_len, method);
	else app_credentials(p, proto, (const uint8_t *)"(unknown)", 9, method);
}

/* SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd, base64; the user is authcid (or
 * authzid when authcid is empty). False when it is not one. */
static bool sasl_plain_user(const struct cur *b64, struct text_state *t)
{
	uint8_t raw[768];
	long k = app_base64(b64->pos, cur_left(b64), raw, sizeof raw);
	if (k <= 0) return false;
	const uint8_t *z1 = memchr(raw, 0, (size_t)k);
	if (!z1) return false;
	const uint8_t *authcid = z1 + 1;
	const uint8_t *z2 = memchr(authcid, 0, (size_t)(raw + k - authcid));
	if (!z2) return false;
	if (z2 > authcid) remember_user(t, authcid, (size_t)(z2 - authcid));
	else remember_user(t, raw, (size_t)(z1 - raw));
	return true;
}

static void switch_to_tls(struct app_flow *a, struct text_state *t)
{
	t->tls_pending = false;
	a->proto = AP_UNKNOWN; /* the driver looks again, for TLS only */
	a->tls_next = true;
	a->sniffs = 0;
}

/* ---- FTP ---- */

static void ftp_line(struct app_flow *a, struct packet *p, struct text_state *t, bool server, const struct cur *l)
{
	if (server) {
		pk_bool(p, F_FTP_RESPONSE, true, cur_off(l), 0);
		struct cur code = *l, arg;
		size_t nd;
		uint64_t v = cur_digits(&code, 10, 3, &nd);
		if (nd == 3) {
			pk_uint(p, F_FTP_RESPONSE_CODE, v, cur_off(l), 3);
			arg = code;
			if (cur_left(&arg)) cur_skip(&arg, 1);
			put_cur(p, F_FTP_RESPONSE_ARG, &arg);
			if (v == 234 && t->tls_pending) switch_to_tls(a, t);
		}
		info_line(p, "FTP", "Response: ", l);
		return;
	}
	struct cur cmd, arg;
	split_word(l, &cmd, &arg);
	pk_bool(p, F_FTP_REQUEST, true, cur_off(l), 0);
	put_cur(p, F_FTP_REQUEST_COMMAND, &cmd);
	if (cur_left(&arg)) put_cur(p, F_FTP_REQUEST_ARG, &arg);
	if (word_is(&cmd, "USER")) remember_user(t, arg.pos, cur_left(&arg));
	else if (word_is(&cmd, "PASS")) login(p, t, "ftp", "USER/PASS");
	else if (word_is(&cmd, "AUTH") && (ci_starts(arg.pos, cur_left(&arg), "TLS") || ci_starts(arg.pos, cur_left(&arg), "SSL")))
		t->tls_pending = true;
	info_line(p, "FTP", "Request: ", l);
}

/* ---- POP3 ---- */

static void pop_line(struct app_flow *a, struct packet *p, struct text_state *t, bool server, const struct cur *l)
{
	if (server) {
		if (t->pop_multi) { /* a multi-line answer's lines, to the "." alone (RFC 1939 §3) */
			if (cur_left(l) == 1 && *l->pos == '.') t->pop_multi = false;
			struct sbuf *sb = app_info(p, "POP");
			if (sb) sb_puts(sb, "S: DATA fragment");
			return;
		}
		put_cur(p, F_POP_RESPONSE, l);
		struct cur ind, desc;
		split_word(l, &ind, &desc);
		put_cur(p, F_POP_RESPONSE_INDICATOR, &ind);
		if (cur_left(&desc)) put_cur(p, F_POP_RESPONSE_DESCRIPTION, &desc);
		bool ok = word_is(&ind, "+OK");
		if (ok && t->pop_expect_multi) t->pop_multi = true;
		t->pop_expect_multi = false;
		if (ok && t->tls_pending) switch_to_tls(a, t);
		info_line(p, "POP", "S: ", l);
		return;
	}
	put_cur(p, F_POP_REQUEST, l);
	struct cur cmd, arg;
	split_word(l, &cmd, &arg);
	put_cur(p, F_POP_REQUEST_COMMAND, &cmd);
	if (cur_left(&arg)) put_cur(p, F_POP_REQUEST_PARAMETER, &arg);
	t->pop_expect_multi = word_is(&cmd, "RETR") || word_is(&cmd, "TOP") || word_is(&cmd, "CAPA") ||
			      ((word_is(&cmd, "LIST") || word_is(&cmd, "UIDL")) && !cur_left(&arg));
	if (word_is(&cmd, "USER")) {
		remember_user(t, arg.pos, cur_left(&arg));
	} else if (word_is(&cmd, "PASS")) {
		login(p, t, "pop", "USER/PASS");
	} else if (word_is(&cmd, "APOP")) { /* name and an MD5 digest: the name is in the clear */
		struct cur name, digest;
		split_word(&arg, &name, &digest);
		remember_user(t, name.pos, cur_left(&name));
		login(p, t, "pop", "APOP");
	} else if (word_is(&cmd, "AUTH")) {
		struct cur mech, resp;
		split_word(&arg, &mech, &resp);
		if (word_is(&mech, "PLAIN") && cur_left(&resp) && sasl_plain_user(&resp, t)) login(p, t, "pop", "AUTH PLAIN");
	} else if (word_is(&cmd, "STLS")) {
		t->tls_pending = true;
	}
	info_line(p, "POP", "C: ", l);
}

/* ---- IMAP ---- */

/* An IMAP astring (RFC 9051 §9): an atom, or a quoted string (its escapes kept). */
static struct cur imap_astring(struct cur *c)
{
	struct cur s = *c;
	if (cur_left(c) && *c->pos == '"') {
		cur_skip(c, 1);
		s.pos = c->pos;
		while (c->pos < c->end && *c->pos != '"') c->pos += (*c->pos == '\\' && c->end - c->pos > 1) ? 2 : 1;
		s.end = c->pos;
		if (c->pos < c->end) c->pos++;
	} else {
		const uint8_t *sp = memchr(c->pos, ' ', cur_left(c));
		s.end = sp ? sp : c->end;
		c->pos = s.end;
	}
	while (c->pos < c->end && *c->pos == ' ') c->pos++;
	return s;
}

static void imap_line(struct app_flow *a, struct packet *p, struct text_state *t, bool server, const struct cur *l)
{
	pk_bool(p, F_IMAP_ISREQUEST, !server, cur_off(l), 0);
	put_cur(p, F_IMAP_LINE, l);
	struct cur tag, rest;
	split_word(l, &tag, &rest);
	if (server) {
		put_cur(p, F_IMAP_RESPONSE, l);
		if (!word_is(&tag, "*") && !word_is(&tag, "+")) {
			put_cur(p, F_IMAP_RESPONSE_TAG, &tag);
			struct cur status, text;
			split_word(&rest, &status, &text);
			put_cur(p, F_IMAP_RESPONSE_STATUS, &status);
			if (t->tls_pending && word_is(&status, "OK") && cur_left(&tag) == strlen(t->tls_tag) &&
			    !memcmp(tag.pos, t->tls_tag, cur_left(&tag)))
				switch_to_tls(a, t);
		}
		info_line(p, "IMAP", "Response: ", l);
		return;
	}
	if (t->imap_plain_wait) { /* the AUTHENTICATE PLAIN response line */
		t->imap_plain_wait = false;
		if (sasl_plain_user(l, t)) login(p, t, "imap", "AUTHENTICATE PLAIN");
		info_line(p, "IMAP", "Request: ", l);
		return;
	}
	put_cur(p, F_IMAP_REQUEST, l);
	put_cur(p, F_IMAP_REQUEST_TAG, &tag);
	struct cur cmd, args;
	split_word(&rest, &cmd, &args);
	put_cur(p, F_IMAP_REQUEST_COMMAND, &cmd);
	if (word_is(&cmd, "LOGIN")) {
		struct cur user = imap_astring(&args);
		put_cur(p, F_IMAP_REQUEST_USERNAME, &user);
		remember_user(t, user.pos, cur_left(&user));
		login(p, t, "imap", "LOGIN");
	} else if (word_is(&cmd, "AUTHENTICATE")) {
		struct cur mech, resp;
		split_word(&args, &mech, &resp);
		if (word_is(&mech, "PLAIN")) {
			if (cur_left(&resp)) {
				if (sasl_plain_user(&resp, t)) login(p, t, "imap", "AUTHENTICATE PLAIN");
			} else {
				t->imap_plain_wait = true;
			}
		}
	} else if (word_is(&cmd, "STARTTLS") && cur_left(&tag) < sizeof t->tls_tag) {
		t->tls_pending = true;
		memcpy(t->tls_tag, tag.pos, cur_left(&tag));
		t->tls_tag[cur_left(&tag)] = '\0';
	}
	info_line(p, "IMAP", "Request: ", l);
}

/* ---- SMTP ---- */

static void smtp_client(struct packet *p, struct text_state *t, const struct cur *l)
{
	if (t->smtp_data) { /* the message, to the "." alone (RFC 5321 §4.1.1.4) */
		if (cur_left(l) == 1 && *l->pos == '.') t->smtp_data = false;
		struct sbuf *sb = app_info(p, "SMTP");
		if (sb) sb_puts(sb, "C: DATA fragment");
		return;
	}
	struct sbuf *sb;
	switch (t->smtp_auth) {
	case SA_LOGIN_USER: { /* AUTH LOGIN: the user name, base64 */
		uint8_t raw[256];
		long k = app_base64(l->pos, cur_left(l), raw, sizeof raw);
		t->smtp_auth = SA_LOGIN_PASS;
		if (k > 0) {
			remember_user(t, raw, (size_t)k);
			pk_string(p, F_SMTP_AUTH_USERNAME, t->user, t->user_len, cur_off(l), (uint32_t)cur_left(l));
		}
		if ((sb = app_info(p, "SMTP"))) sb_puts(sb, "C: User: ");
		if (sb) sb_put(sb, t->user, t->user_len);
		return;
	}
	case SA_LOGIN_PASS:
		t->smtp_auth = SA_NONE;
		login(p, t, "smtp", "AUTH LOGIN");
		if ((sb = app_info(p, "SMTP"))) sb_puts(sb, "C: Pass: (not shown)");
		return;
	case SA_PLAIN_WAIT:
		t->smtp_auth = SA_NONE;
		if (sasl_plain_user(l, t)) {
			pk_string(p, F_SMTP_AUTH_USERNAME, t->user, t->user_len, cur_off(l), (uint32_t)cur_left(l));
			login(p, t, "smtp", "AUTH PLAIN");
		}
		if ((sb = app_info(p, "SMTP"))) sb_puts(sb, "C: (AUTH PLAIN response)");
		return;
	default:
		break;
	}
	pk_bool(p, F_SMTP_REQ, true, cur_off(l), 0);
	put_cur(p, F_SMTP_COMMAND_LINE, l);
	struct cur cmd, arg;
	split_word(l, &cmd, &arg);
	put_cur(p, F_SMTP_REQ_COMMAND, &cmd);
	if (cur_left(&arg)) put_cur(p, F_SMTP_REQ_PARAMETER, &arg);
	if (word_is(&cmd, "AUTH")) {
		struct cur mech, resp;
		split_word(&arg, &mech, &resp);
		if (word_is(&mech, "PLAIN")) {
			if (!cur_left(&resp)) {
				t->smtp_auth = SA_PLAIN_WAIT;
			} else if (sasl_plain_user(&resp, t)) {
				pk_string(p, F_SMTP_AUTH_USERNAME, t->user, t->user_len, cur_off(&resp), (uint32_t)cur_left(&resp));
				login(p, t, "smtp", "AUTH PLAIN");
			}
		} else if (word_is(&mech, "LOGIN")) {
			uint8_t raw[256];
			long k = cur_left(&resp) ? app_base64(resp.pos, cur_left(&resp), raw, sizeof raw) : -1;
			if (k > 0) {
				remember_user(t, raw, (size_t)k);
				pk_string(p, F_SMTP_AUTH_USERNAME, t->user, t->user_len, cur_off(&resp), (uint32_t)cur_left(&resp));
				t->smtp_auth = SA_LOGIN_PASS;
			} else {
				t->smtp_auth = SA_LOGIN_USER;
			}
		}
	} else if (word_is(&cmd, "DATA")) {
		t->smtp_data_pending = true;
	} else if (word_is(&cmd, "STARTTLS")) {
		t->tls_pending = true;
	}
	info_line(p, "SMTP", "C: ", l);
}

static void smtp_server(struct app_flow *a, struct packet *p, struct text_state *t, const struct cur *l)
{
	pk_bool(p, F_SMTP_RSP, true, cur_off(l), 0);
	put_cur(p, F_SMTP_RESPONSE, l);
	struct cur c = *l;
	size_t nd;
	uint64_t code = cur_digits(&c, 10, 3, &nd);
	if (nd == 3) {
		/* a multi-line reply (RFC 5321 §4.2.1): one code per packet, as tshark shows it */
		if (!t->reply_cont || t->code_frame != p->meta.number) pk_uint(p, F_SMTP_RESPONSE_CODE, code, cur_off(l), 3);
		t->code_frame = p->meta.number;
		t->reply_cont = cur_left(&c) && *c.pos == '-';
		if (cur_left(&c)) cur_skip(&c, 1);
		if (cur_left(&c)) put_cur(p, F_SMTP_RSP_PARAMETER, &c);
		if (code == 354 && t->smtp_data_pending) t->smtp_data = true;
		if (code != 354) t->smtp_data_pending = false;
		if (code >= 400) t->smtp_auth = SA_NONE; /* the exchange was refused */
		if (code == 220 && t->tls_pending) switch_to_tls(a, t);
		else if (code >= 400) t->tls_pending = false;
	}
	info_line(p, "SMTP", "S: ", l);
}

/* ---- Telnet ---- */

/* The data bytes of a Telnet chunk, IAC sequences (RFC 854, RFC 855 subnegotiation)
 * removed; at most cap bytes kept. */
static size_t telnet_data(const uint8_t *b, size_t n, uint8_t *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0xff) {
			if (k < cap) out[k++] = b[i];
			continue;
		}
		if (i + 1 >= n) break;
		uint8_t cmd = b[++i];
		if (cmd == 0xff) { /* an escaped 255 */
			if (k < cap) out[k++] = 0xff;
		} else if (cmd == 250) { /* SB ... IAC SE */
			while (i + 1 < n && !(b[i] == 0xff && b[i + 1] == 240)) i++;
			i++;
		} else if (cmd >= 251 && cmd <= 254) {
			i++; /* WILL/WONT/DO/DONT and their option */
		}
	}
	return k;
}

static void telnet_chunk(struct packet *p, struct text_state *t, bool server, const uint8_t *b, size_t n)
{
	struct cur c = cur_make(b, n);
	app_proto(p, F_TELNET, &c);
	uint8_t data[512];
	size_t k = telnet_data(b, n, data, sizeof data);
	if (k) pk_string(p, F_TELNET_DATA, (const char *)data, k, 0, (uint32_t)n);
	struct sbuf *sb = app_info(p, "TELNET");
	if (sb) sb_puts(sb, "Telnet Data ...");
	if (server) {
		if (ci_contains(data, k, "login:") || ci_contains(data, k, "username:")) {
			t->telnet = TN_LOGIN_PROMPT;
			t->typed_len = 0;
		}
		return;
	}
	if (t->telnet != TN_LOGIN_PROMPT) return;
	for (size_t i = 0; i < k; i++) { /* the name is typed, often a byte per segment */
		uint8_t ch = data[i];
		if (ch == '\r' || ch == '\n' || ch == 0) {
			if (!t->typed_len) continue;
			pk_string(p, F_TELNET_USERNAME, t->typed, t->typed_len, 0, (uint32_t)n);
			app_credentials(p, "telnet", (const uint8_t *)t->typed, t->typed_len, "login prompt");
			t->telnet = TN_IDLE;
			return;
		}
		if ((ch == 8 || ch == 0x7f) && t->typed_len) t->typed_len--;
		else if (ch >= 0x20 && ch < 0x7f && t->typed_len < TEXT_MAX_USER - 1) t->typed[t->typed_len++] = (char)ch;
	}
}

/* ---- the stream decoder ---- */

/* Whether line l, from the side that has not spoken yet, is a server's. */
static bool looks_like_response(uint8_t proto, const struct cur *l)
{
	const uint8_t *b = l->pos;
	size_t n = cur_left(l);
	switch (proto) {
	case AP_FTP: case AP_SMTP: return reply_code(b, n) || (n == 3 && b[0] >= '1' && b[0] <= '5');
	case AP_POP: return ci_starts(b, n, "+OK") || ci_starts(b, n, "-ERR");
	case AP_IMAP: return n >= 2 && b[0] == '*' && b[1] == ' ';
	default: return false;
	}
}

long text_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	if (!a->text) {
		a->text = xcalloc(1, sizeof *a->text);
		a->text->server_dir = -1;
	}
	struct text_state *t = a->text;
	if (a->proto == AP_TELNET) {
		if (t->server_dir < 0) t->server_dir = (int8_t)(a->sport == 23 || dir == 1 ? 1 : 0);
		telnet_chunk(p, t, dir == t->server_dir, b, n);
		return (long)n;
	}
	size_t scan = n < TEXT_MAX_LINE ? n : TEXT_MAX_LINE;
	const uint8_t *lf = memchr(b, '\n', scan);
	size_t len;
	if (lf) {
		len = (size_t)(lf - b) + 1;
	} else if (n >= TEXT_MAX_LINE) {
		len = TEXT_MAX_LINE;
	} else {
		*need = n + 1;
		return 0;
	}
	struct cur line = cur_make(b, len);
	while (line.end > line.pos && (line.end[-1] == '\n' || line.end[-1] == '\r')) line.end--;
	if (t->server_dir < 0) t->server_dir = (int8_t)(looks_like_response(a->proto, &line) ? dir : !dir);
	bool server = dir == t->server_dir;
	struct cur all = cur_make(b, len);
	static const enum field_id layer[] = { [AP_FTP] = F_FTP, [AP_POP] = F_POP, [AP_IMAP] = F_IMAP, [AP_SMTP] = F_SMTP };
	uint8_t proto = a->proto;
	int slot = app_proto(p, layer[proto], &all);
	switch (proto) {
	case AP_FTP: ftp_line(a, p, t, server, &line); break;
	case AP_POP: pop_line(a, p, t, server, &line); break;
	case AP_IMAP: imap_line(a, p, t, server, &line); break;
	case AP_SMTP:
		if (server) smtp_server(a, p, t, &line);
		else smtp_client(p, t, &line);
		break;
	default: break;
	}
	cur_skip(&all, len);
	pk_proto_end(p, slot, &all);
	return (long)len;
}
