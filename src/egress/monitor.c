/* egress/monitor.c — the correlator: flows from the pipeline, their programs, names and
 * places, out to NDJSON and the store (see monitor.h). */
#include "egress/monitor.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "egress/baseline.h"
#include "egress/geo.h"
#include "egress/ident.h"
#include "egress/names.h"
#include "egress/proc.h"
#include "egress/store.h"
#include "flow/flow.h"
#include "pipeline/pipeline.h"
#include "util/hash.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#define UPDATE_EVERY_NS 1000000000LL
#define ATTRIBUTION_TRIES 3       /* a connection not attributed at its first packet is asked again */
#define RECORD_RETRY_NS (100 * 1000000LL)
#define CLOSE_GRACE_NS (500 * 1000000LL) /* more than a capture block's time (cmd_monitor.c: 250 ms) */
#define ECH_EXTENSION 0xfe0d      /* encrypted_client_hello: the SNI seen is the outer, public one */
#define DOT_PORT 853
#define RADDR_BUCKETS 4096        /* connections by remote address, for naming them when an answer comes */
#define TICK_EVERY_NS (200 * 1000000LL) /* updates and flushes happen under steady traffic too */
#define REPLAY_TICK_EVERY_NS 1000000000LL
#define ASSESS_AFTER_NS 1500000000LL    /* a connection without a name by then is judged unnamed */
#define IDENT_WAIT_NS 30000000000LL     /* a binary still being hashed after this: judged without */

struct conn {
	uint64_t serial;             /* the flow's */
	uint32_t pos;                /* in the monitor's list */
	struct conn *rnext, **rprev; /* in its remote address's bucket (local >= 0 only) */
	uint64_t id;
	const struct flow *flow;
	int local;                   /* which key endpoint is this machine's, -1 neither */
	bool outbound;               /* this machine spoke first */
	bool both_local;
	struct proc_result who;
	int tries;
	int64_t tried_ns;
	int64_t done_ns;             /* when its TCP close was seen; said CLOSE_GRACE_NS later */
	char name[NAMES_MAX_LEN + 1];
	enum name_src name_src;
	const char *hidden;          /* why its own name cannot be seen ("ech"), or NULL */
	const char *edns;            /* it carries encrypted DNS ("dns_over_https", "_tls", "_quic"), or NULL */
	char sni[NAMES_MAX_LEN + 1], ja4[40];
	struct geo_result geo;
	bool geo_done;
	bool closed;                 /* its close is said (FIN both ways or RST): the flow lingers on */
	bool assessed;               /* judged by the baseline (or not one to judge) */
	uint64_t bytes_counted;      /* of its bytes out, those the baseline was given */
	char cid[COMMUNITY_ID_LEN];
	int64_t start_ns, last_ns, emitted_ns;
	uint64_t emitted_bytes;
	/* bytes and packets each way (by flow key endpoint), counted on one interface per
	 * direction: the first that showed it. Traffic routed or bridged through this machine
	 * is seen on two interfaces (in and out); it is one connection's, counted once. */
	uint64_t bytes[2], pkts[2];
	uint64_t seen_pkts[2];       /* the flow's own counts, to tell a packet's direction */
	int64_t ifidx[2];            /* -1 until the first packet that way */
};

#define PRIVATE_DNS_PIDS 256 /* programs remembered as resolving over encrypted DNS (the newest) */
struct private_dns { pid_t pid; const char *kind; };

struct monitor {
	struct monitor_opts o;
	struct private_dns private_dns[PRIVATE_DNS_PIDS];
	int private_next;
	struct pipeline *pl;
	struct flow_observer obs;
	struct field_mask extra;
	struct name_cache *names;
	struct conn **h;             /* open addressing by flow serial; cap a power of two */
	uint32_t cap;
	struct conn **list;          /* every connection followed */
	uint32_t count, listcap;
	uint64_t next_id;
	struct conn *cur;            /* the connection of the packet being decoded */
	struct conn *by_raddr[RADDR_BUCKETS];
	struct hash_seed seed;
	int64_t now_ns, flushed_ns, ticked_ns;
	bool finishing;
	struct monitor_stats st;
};

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the connection table: connections on the heap, a dense list to walk, a hash by
 * flow serial to find ---- */

static uint32_t home_of(const struct monitor *m, uint64_t serial)
{
	return (uint32_t)(serial * 0x9e3779b97f4a7c15ull >> 32) & (m->cap - 1);
}

static struct conn *cfind(const struct monitor *m, uint64_t serial)
{
	for (uint32_t i = home_of(m, serial);; i = (i + 1) & (m->cap - 1)) {
		if (!m->h[i]) return NULL;
		if (m->h[i]->serial == serial) return m->h[i];
	}
}

static void hput(struct monitor *m, struct conn *c)
{
	uint32_t i = home_of(m, c->serial);
	while (m->h[i]) i = (i + 1) & (m->cap - 1);
	m->h[i] = c;
}

static struct conn *cadd(struct monitor *m, uint64_t serial)
{
	if (m->count + 1 > m->cap / 2) { /* grow the hash */
		struct conn **old = m->h;
		uint32_t oldcap = m->cap;
		m->cap *= 2;
		m->h = xcalloc(m->cap, sizeof *m->h);
		for (uint32_t i = 0; i < oldcap; i++)
			if (old[i]) hput(m, old[i]);
		free(old);
	}
	struct conn *c = xcalloc(1, sizeof *c);
	c->serial = serial;
	hput(m, c);
	if (m->count == m->listcap) {
		m->listcap = m->listcap ? m->listcap * 2 : 256;
		m->list = xrealloc(m->list, m->listcap * sizeof *m->list);
	}
	c->pos = m->count;
	m->list[m->count++] = c;
	return c;
}

static void cremove(struct monitor *m, struct conn *c)
{
	uint32_t mask = m->cap - 1, i = home_of(m, c->serial);
	while (m->h[i] != c) i = (i + 1) & mask;
	m->h[i] = NULL;
	for (uint32_t j = (i + 1) & mask; m->h[j]; j = (j + 1) & mask) { /* linear probing's deletion */
		uint32_t home = home_of(m, m->h[j]->serial);
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->h[i] = m->h[j];
			m->h[j] = NULL;
			i = j;
		}
	}
	if (c->rprev) { /* out of its address's bucket */
		*c->rprev = c->rnext;
		if (c->rnext) c->rnext->rprev = c->rprev;
	}
	m->list[c->pos] = m->list[--m->count];
	m->list[c->pos]->pos = c->pos;
	if (m->cur == c) m->cur = NULL;
	free(c);
}

/* ---- events ---- */

static void addr_text(char *out, size_t cap, int family, const uint8_t *a)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)cap);
}

static const char *proto_name(int p) { return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "icmpv6" : "ip"; }

static void json_str(struct sbuf *sb, const char *s) { sb_json_str(sb, s, strlen(s)); }

/* Public DNS-over-HTTPS resolvers, by the names clients connect to (the ones browsers and
 * systemd-resolved offer). Nothing on the wire says "this HTTPS is DNS": the name is all a
 * passive monitor has. Exact names, and below the two suffixes that are DoH only. */
static const char *const doh_names[] = {
	"dns.google", "dns.google.com", "8888.google", "cloudflare-dns.com", "one.one.one.one", "dns.quad9.net",
	"dns9.quad9.net", "dns10.quad9.net", "dns11.quad9.net", "doh.opendns.com", "doh.familyshield.opendns.com",
	"doh.cleanbrowsing.org", "dns.adguard-dns.com", "dns.adguard.com", "doh.mullvad.net", "dns.mullvad.net",
	"dns.alidns.com", "doh.pub", "dns.controld.com", "freedns.controld.com", "doh.dns.sb", "dns0.eu",
	"doh.xfinity.com", "dns.nextdns.io",
};
static const char *const doh_suffixes[] = { ".cloudflare-dns.com", ".dns.nextdns.io" };

static bool is_doh_name(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof doh_names / sizeof *doh_names; i++)
		if (!strcasecmp(name, doh_names[i])) return true;
	for (size_t i = 0; i < sizeof doh_suffixes / sizeof *doh_suffixes; i++) {
		size_t k = strlen(doh_suffixes[i]);
		if (n > k && !strcasecmp(name + n - k, doh_suffixes[i])) return true;
	}
	return false;
}

/* Programs seen using encrypted DNS: their unnamed connections say why they are. */
static void note_private_dns(struct monitor *m, const struct conn *c)
{
	if (!c->edns || c->who.how == PH_UNKNOWN) return;
	pid_t pid = c->who.proc.pid;
	for (int i = 0; i < PRIVATE_DNS_PIDS; i++)
		if (m->private_dns[i].pid == pid) {
			m->private_dns[i].kind = c->edns;
			return;
		}
	m->private_dns[m->private_next] = (struct private_dns){ pid, c->edns };
	m->private_next = (m->private_next + 1) % PRIVATE_DNS_PIDS;
}

static const char *private_dns(const struct monitor *m, pid_t pid)
{
	for (int i = 0; i < PRIVATE_DNS_PIDS; i++)
		if (m->private_dns[i].pid == pid && m->private_dns[i].kind) return m->private_dns[i].kind;
	return NULL;
}

/* Why a connection has no name of its own, or NULL. */
static const char *hidden_of(const struct monitor *m, const struct conn *c)
{
	if (c->hidden) return c->hidden;
	if (!c->name[0] && !c->edns && c->who.how != PH_UNKNOWN) return private_dns(m, c->who.proc.pid);
	return NULL;
}

#define EVENT_LINE_MAX 32768 /* names 255, paths and command lines 512 bytes, escaped */

static void emit(struct monitor *m, struct conn *c, const char *event, const char *state)
{
	if (!m->o.json && !m->o.event) return;
	char line[EVENT_LINE_MAX];
	struct sbuf lb, *sb = &lb;
	sb_init_fixed(&lb, line, sizeof line);
	const struct flow *f = c->flow;
	const struct flow_key *k = &f->key;
	int l = c->local < 0 ? f->client_dir : c->local, r = !l;
	char la[46], ra[46];
	addr_text(la, sizeof la, k->family, k->addr[l]);
	addr_text(ra, sizeof ra, k->family, k->addr[r]);
	sb_printf(sb, "{\"schema\":%d,\"event\":\"%s\",\"ts\":\"", MONITOR_SCHEMA, event);
	sb_rfc3339(sb, m->now_ns / 1000000000LL, (uint32_t)(m->now_ns % 1000000000LL), 6);
	sb_putc(sb, '"');
	sb_printf(sb, ",\"id\":%llu,\"proto\":\"%s\",\"family\":%d,\"local\":{\"addr\":\"%s\",\"port\":%u},"
		      "\"remote\":{\"addr\":\"%s\",\"port\":%u},\"direction\":\"%s\"",
		  (unsigned long long)c->id, proto_name(k->proto), k->family, la, k->port[l], ra, k->port[r],
		  c->both_local ? "local" : c->outbound ? "outbound" : "inbound");
	sb_puts(sb, ",\"process\":");
	if (c->who.how != PH_UNKNOWN) {
		const struct proc_info *p = &c->who.proc;
		sb_printf(sb, "{\"pid\":%d,\"name\":", p->pid);
		json_str(sb, p->name);
		sb_puts(sb, ",\"exe\":");
		json_str(sb, p->exe);
		sb_printf(sb, ",\"uid\":%u,\"cmdline\":", (unsigned)p->uid);
		json_str(sb, p->cmdline);
		sb_printf(sb, ",\"netns\":%llu,\"cgroup\":", (unsigned long long)p->netns);
		json_str(sb, p->cgroup);
		sb_putc(sb, '}');
	} else {
		sb_puts(sb, "null");
	}
	sb_printf(sb, ",\"attribution\":{\"how\":\"%s\"", proc_how_str(c->who.how));
	if (c->who.how == PH_UNKNOWN) {
		sb_puts(sb, ",\"why\":");
		json_str(sb, proc_why_str(c->who.why));
	}
	if (c->who.inode) sb_printf(sb, ",\"socket_inode\":%llu,\"socket_uid\":%u", (unsigned long long)c->who.inode, (unsigned)c->who.uid);
	if (c->who.cookie) sb_printf(sb, ",\"socket_cookie\":%llu", (unsigned long long)c->who.cookie);
	if (c->who.how != PH_UNKNOWN) sb_printf(sb, ",\"other_netns\":%s", c->who.other_netns ? "true" : "false");
	sb_putc(sb, '}');
	sb_printf(sb, ",\"bytes_out\":%llu,\"bytes_in\":%llu,\"packets_out\":%llu,\"packets_in\":%llu",
		  (unsigned long long)c->bytes[l], (unsigned long long)c->bytes[r], (unsigned long long)c->pkts[l],
		  (unsigned long long)c->pkts[r]);
	sb_puts(sb, ",\"name\":");
	if (c->name[0]) {
		json_str(sb, c->name);
		sb_printf(sb, ",\"name_source\":\"%s\",\"registrable_domain\":", name_src_str(c->name_src));
		char reg[NAMES_MAX_LEN + 1];
		names_registrable(m->names, c->name, reg, sizeof reg);
		json_str(sb, reg);
	} else {
		sb_puts(sb, "null");
	}
	const char *hidden = hidden_of(m, c);
	if (hidden) sb_printf(sb, ",\"name_hidden\":\"%s\"", hidden);
	if (c->edns) sb_printf(sb, ",\"encrypted_dns\":\"%s\"", c->edns);
	if (c->geo.country[0]) sb_printf(sb, ",\"country\":\"%s\"", c->geo.country);
	if (c->geo.asn) {
		sb_printf(sb, ",\"asn\":%u,\"as_org\":", c->geo.asn);
		json_str(sb, c->geo.as_org);
	}
	sb_printf(sb, ",\"community_id\":\"%s\"", c->cid);
	if (c->sni[0]) {
		sb_puts(sb, ",\"sni\":");
		json_str(sb, c->sni);
	}
	if (c->ja4[0]) sb_printf(sb, ",\"ja4\":\"%s\"", c->ja4);
	if (state) sb_printf(sb, ",\"state\":\"%s\"", state);
	sb_putc(sb, '}');
	if (!lb.trunc) {
		if (m->o.json) {
			sb_put(m->o.json, line, lb.len);
			sb_putc(m->o.json, '\n');
			sb_flush(m->o.json);
		}
		if (m->o.event) m->o.event(m->o.event_ctx, event, c->who.how != PH_UNKNOWN ? c->who.proc.exe : NULL, line, lb.len);
	}
	c->emitted_ns = m->now_ns;
	c->emitted_bytes = c->bytes[0] + c->bytes[1];
}

static void store_row(struct monitor *m, struct conn *c, const char *state)
{
	if (!m->o.store) return;
	const struct flow *f = c->flow;
	const struct flow_key *k = &f->key;
	int l = c->local < 0 ? f->client_dir : c->local, r = !l;
	struct store_conn s;
	memset(&s, 0, sizeof s);
	s.start_ms = c->start_ns / 1000000;
	s.end_ms = (c->last_ns > c->start_ns ? c->last_ns : c->start_ns) / 1000000;
	s.state = state;
	s.proto = k->proto;
	s.family = k->family;
	addr_text(s.laddr, sizeof s.laddr, k->family, k->addr[l]);
	addr_text(s.raddr, sizeof s.raddr, k->family, k->addr[r]);
	s.lport = k->port[l];
	s.rport = k->port[r];
	s.outbound = c->outbound;
	s.how = proc_how_str(c->who.how);
	if (c->who.how != PH_UNKNOWN) {
		s.pid = c->who.proc.pid;
		s.uid = c->who.proc.uid;
		snprintf(s.exe, sizeof s.exe, "%s", c->who.proc.exe[0] ? c->who.proc.exe : c->who.proc.name);
		snprintf(s.pname, sizeof s.pname, "%s", c->who.proc.name);
		snprintf(s.cmdline, sizeof s.cmdline, "%s", c->who.proc.cmdline);
		snprintf(s.cgroup, sizeof s.cgroup, "%s", c->who.proc.cgroup);
		s.netns = c->who.proc.netns;
		s.proc_start_ms = c->who.proc.boot_start_ms;
	} else {
		snprintf(s.why, sizeof s.why, "%s", proc_why_str(c->who.why));
	}
	if (c->name[0]) {
		snprintf(s.name, sizeof s.name, "%s", c->name);
		snprintf(s.name_source, sizeof s.name_source, "%s", name_src_str(c->name_src));
		names_registrable(m->names, c->name, s.registrable, sizeof s.registrable);
	}
	memcpy(s.country, c->geo.country, sizeof s.country);
	s.asn = c->geo.asn;
	snprintf(s.as_org, sizeof s.as_org, "%s", c->geo.as_org);
	snprintf(s.community_id, sizeof s.community_id, "%s", c->cid);
	snprintf(s.sni, sizeof s.sni, "%s", c->sni);
	snprintf(s.ja4, sizeof s.ja4, "%s", c->ja4);
	s.bytes_out = c->bytes[l];
	s.bytes_in = c->bytes[r];
	s.pkts_out = c->pkts[l];
	s.pkts_in = c->pkts[r];
	s.name_hidden = hidden_of(m, c);
	s.encrypted_dns = c->edns;
	if (!store_add(m->o.store, &s)) m->st.store_dropped++;
}

/* ---- attribution and names ---- */

static void attribute(struct monitor *m, struct conn *c)
{
	const struct flow_key *k = &c->flow->key;
	c->tries++;
	if (c->who.how != PH_UNKNOWN) return; /* found when the connection was seen (another namespace's) */
	if (!m->o.proc) {
		c->who.why = m->o.replay ? PW_REPLAY : PW_UNAVAILABLE;
		return;
	}
	if (c->local < 0) {
		c->who.why = PW_NOT_LOCAL;
		return;
	}
	int l = c->local, r = !l;
	proc_attr_lookup(m->o.proc, k->proto, k->family, k->addr[l], k->port[l], k->addr[r], k->port[r], &c->who);
}

static void name_from_dns(struct monitor *m, struct conn *c)
{
	if (c->name_src > NSRC_DNS || c->local < 0) return;
	const struct flow_key *k = &c->flow->key;
	uint32_t pid = c->who.how != PH_UNKNOWN ? (uint32_t)c->who.proc.pid : 0;
	const char *n = names_lookup(m->names, pid, k->family, k->addr[!c->local], m->now_ns / 1000000000LL);
	if (n && strcmp(n, c->name)) {
		snprintf(c->name, sizeof c->name, "%s", n);
		c->name_src = NSRC_DNS;
		c->emitted_ns = 0; /* said at the next update */
	}
}

static uint32_t raddr_bucket(const struct monitor *m, int family, const uint8_t *addr)
{
	return (uint32_t)siphash13(&m->seed, addr, family == 4 ? 4 : 16) & (RADDR_BUCKETS - 1);
}

static bool tcp_done(const struct flow *f)
{
	return f->key.proto == 6 && (f->rst_seen || (f->tcp && f->tcp[0].fin_seen && f->tcp[1].fin_seen));
}

/* ---- the baseline ---- */

static bool judged(const struct monitor *m, const struct conn *c)
{
	return m->o.baseline && c->outbound && !c->both_local && c->who.how != PH_UNKNOWN && c->who.proc.exe[0];
}

static void program_of(const struct conn *c, char *out, size_t cap)
{
	bl_program_key(c->who.proc.exe, c->who.proc.cmdline, out, cap);
}

/* Judges c when its name is settled (a name from the wire, or ASSESS_AFTER_NS, or its end)
 * and its binary is hashed; false while it waits. */
static bool assess(struct monitor *m, struct conn *c, bool ending)
{
	if (c->assessed) return true;
	if (!judged(m, c)) return c->assessed = true;
	bool settled = c->name_src > NSRC_DNS || m->now_ns - c->start_ns >= ASSESS_AFTER_NS || ending;
	if (!settled) return false;
	const struct proc_info *p = &c->who.proc;
	struct ident_result id;
	enum ident_state ist = IDENT_UNREADABLE;
	if (m->o.ident) {
		ist = ident_get(m->o.ident, p->exited ? 0 : p->pid, p->exe, p->exe_dev, p->exe_ino, &id);
		if (ist == IDENT_PENDING && !ending && m->now_ns - c->start_ns < IDENT_WAIT_NS) return false;
	}
	const struct flow_key *k = &c->flow->key;
	int r = !c->local;
	char prog[BL_TEXT_MAX], ra[46], reg[NAMES_MAX_LEN + 1] = "";
	program_of(c, prog, sizeof prog);
	addr_text(ra, sizeof ra, k->family, k->addr[r]);
	if (c->name[0]) names_registrable(m->names, c->name, reg, sizeof reg);
	struct bl_conn bc = {
		.program = prog, .name = p->name, .exe = p->exe, .pid = p->pid, .uid = p->uid, .addr = ra,
		.dest_name = c->name[0] ? c->name : NULL, .name_source = c->name[0] ? name_src_str(c->name_src) : NULL,
		.registrable = reg[0] ? reg : NULL, .country = c->geo.country, .asn = c->geo.asn, .as_org = c->geo.as_org,
		.proto = k->proto, .port = k->port[r], .community_id = c->cid,
	};
	if (ist == IDENT_READY) {
		bc.id = (struct bl_identity){ .sha256 = id.sha256, .package = id.package[0] ? id.package : NULL,
					      .version = id.version[0] ? id.version : NULL, .verified = id.verified,
					      .writer = id.writer, .writer_pid = id.writer_pid, .writer_exe = id.writer_exe };
	}
	baseline_connection(m->o.baseline, &bc, m->now_ns / 1000000);
	return c->assessed = true;
}

/* The bytes c sent since the last time, to its program's volume. */
static void count_bytes(struct monitor *m, struct conn *c)
{
	if (!judged(m, c)) return;
	uint64_t out = c->bytes[c->local];
	if (out <= c->bytes_counted) return;
	char prog[BL_TEXT_MAX];
	program_of(c, prog, sizeof prog);
	baseline_bytes(m->o.baseline, prog, c->who.proc.name, c->who.proc.exe, out - c->bytes_counted, m->now_ns / 1000000);
	c->bytes_counted = out;
}

/* The connection ends for its user: said and stored once. */
static void close_conn(struct monitor *m, struct conn *c, const char *state)
{
	if (c->closed) return;
	c->closed = true;
	assess(m, c, true);
	count_bytes(m, c);
	if (c->who.how == PH_UNKNOWN) m->st.unknown++; /* as it ended: it may have been named late */
	emit(m, c, "close", state);
	store_row(m, c, state);
}

static void flow_new(void *ctx, const struct flow *f, const struct packet *p)
{
	(void)p;
	struct monitor *m = ctx;
	if (m->count >= MONITOR_MAX_CONNS) { /* more than the flow table holds: should not happen */
		m->st.conns_evicted++;
		return;
	}
	struct conn *c = cadd(m, f->serial);
	c->id = ++m->next_id;
	c->flow = f;
	for (int d = 0; d < 2; d++) {
		c->seen_pkts[d] = f->side[d].packets;
		c->ifidx[d] = -1;
	}
	c->start_ns = c->last_ns = m->now_ns;
	const struct flow_key *k = &f->key;
	community_id_v1(c->cid, 0, k->family, k->addr[0], k->addr[1], k->proto, k->port[0], k->port[1]);
	bool l0 = m->o.proc && proc_attr_is_local(m->o.proc, k->family, k->addr[0]);
	bool l1 = m->o.proc && proc_attr_is_local(m->o.proc, k->family, k->addr[1]);
	int client = f->client_dir;
	c->both_local = l0 && l1;
	/* the end that is this machine's; on loopback (both), the one that spoke first; from a
	 * file, the one that spoke first (the capture's host is taken as the client) */
	c->local = c->both_local || m->o.replay ? client : l0 ? 0 : l1 ? 1 : -1;
	/* neither: traffic routed or bridged through this machine, perhaps from a process in
	 * another network namespace here (a container's); the kernel side may have seen its
	 * client socket send, and then the client end is this machine's too */
	if (c->local < 0 && m->o.proc &&
	    proc_attr_lookup_kernel(m->o.proc, k->proto, k->family, k->addr[client], k->port[client], k->addr[!client],
				    k->port[!client], &c->who))
		c->local = client;
	c->outbound = c->local >= 0 && c->local == client;
	if (c->local >= 0) {
		struct conn **b = &m->by_raddr[raddr_bucket(m, k->family, k->addr[!c->local])];
		c->rnext = *b;
		if (*b) (*b)->rprev = &c->rnext;
		c->rprev = b;
		*b = c;
	}
	if (c->local >= 0 && k->port[!c->local] == DOT_PORT && (k->proto == 6 || k->proto == 17))
		c->edns = k->proto == 6 ? "dns_over_tls" : "dns_over_quic"; /* RFC 7858, RFC 9250 */
	m->st.conns++;
	if (m->o.geo && c->local >= 0) {
		geo_lookup(m->o.geo, k->family, k->addr[!c->local], &c->geo);
		c->geo_done = true;
	}
}

static void flow_packet(void *ctx, const struct flow *f, const struct packet *p)
{
	struct monitor *m = ctx;
	struct conn *c = cfind(m, f->serial);
	m->cur = c;
	if (!c) return;
	c->flow = f;
	c->last_ns = m->now_ns;
	for (int d = 0; d < 2; d++) { /* the side the flow just counted this packet for */
		if (f->side[d].packets == c->seen_pkts[d]) continue;
		c->seen_pkts[d] = f->side[d].packets;
		if (c->ifidx[d] < 0) c->ifidx[d] = p->meta.ifindex;
		if (c->ifidx[d] == (int64_t)p->meta.ifindex) {
			c->bytes[d] += p->meta.wirelen;
			c->pkts[d]++;
		}
	}
	/* unknown: asked again on the next packets while its socket may still appear; a flow
	 * without ports that began with a message of the kernel's own (an ICMP error) is one
	 * address pair's, and the next program to ping it names it: asked again at most every
	 * 100 ms for as long as it stays unknown */
	bool again = c->who.how == PH_UNKNOWN &&
		     (((c->who.why == PW_NO_SOCKET || c->who.why == PW_NO_OWNER) && c->tries < ATTRIBUTION_TRIES) ||
		      (c->who.why == PW_NO_RECORD && m->now_ns - c->tried_ns >= RECORD_RETRY_NS));
	if (c->tries == 0 || again) {
		c->tried_ns = m->now_ns;
		attribute(m, c);
		note_private_dns(m, c);
		if (c->who.how != PH_UNKNOWN) m->st.attributed++;
		if (c->tries == 1) {
			name_from_dns(m, c);
			emit(m, c, "open", NULL);
		} else if (c->who.how != PH_UNKNOWN) {
			c->emitted_ns = 0;
		}
	}
	/* FIN both ways or RST: said a moment later, when the packets still in another
	 * interface's block (traffic seen on two) have been counted */
	if (!c->closed && !c->done_ns && tcp_done(f)) c->done_ns = m->now_ns;
}

static void flow_end(void *ctx, const struct flow *f)
{
	struct monitor *m = ctx;
	struct conn *c = cfind(m, f->serial);
	if (!c) return;
	c->flow = f;
	close_conn(m, c, tcp_done(f) ? "closed" : m->finishing ? "open_at_shutdown" : "timeout");
	cremove(m, c);
}

static void on_name(void *ctx, const struct packet *p, const struct name_event *e)
{
	(void)p;
	struct monitor *m = ctx;
	char name[NAMES_MAX_LEN + 1];
	uint32_t n = e->len < NAMES_MAX_LEN ? e->len : NAMES_MAX_LEN;
	memcpy(name, e->name, n);
	name[n] = '\0';
	char addr[46];
	addr_text(addr, sizeof addr, e->family, e->addr);
	int64_t now_s = m->now_ns / 1000000000LL;
	if (e->source == NAME_DNS) {
		char asked[NAMES_MAX_LEN + 1];
		uint32_t qn = e->query && e->query_len < NAMES_MAX_LEN ? e->query_len : 0;
		if (qn) memcpy(asked, e->query, qn);
		asked[qn] = '\0';
		const char *user_name = qn ? asked : name; /* a CNAME chain leads back to the name asked */
		/* the answer went to the asking program: this DNS flow's local end */
		uint32_t pid = m->cur && m->cur->who.how != PH_UNKNOWN ? (uint32_t)m->cur->who.proc.pid : 0;
		names_add_dns(m->names, pid, e->family, e->addr, user_name, e->ttl, now_s);
		m->st.named++;
		if (m->o.store) store_name(m->o.store, addr, user_name, "dns", m->now_ns / 1000000);
		/* connections seen before their answer are named now */
		size_t alen = e->family == 4 ? 4 : 16;
		for (struct conn *c = m->by_raddr[raddr_bucket(m, e->family, e->addr)]; c; c = c->rnext)
			if (c->name_src <= NSRC_DNS && c->flow->key.family == e->family &&
			    !memcmp(c->flow->key.addr[!c->local], e->addr, alen))
				name_from_dns(m, c);
		return;
	}
	struct conn *c = m->cur;
	if (!c) return;
	bool quic = c->flow->key.proto == 17;
	enum name_src src = e->source == NAME_HTTP_HOST ? NSRC_HTTP_HOST : quic ? NSRC_QUIC_SNI : NSRC_SNI;
	if (e->source == NAME_SNI) snprintf(c->sni, sizeof c->sni, "%s", name);
	if (src >= c->name_src) {
		/* a Host header may carry a port: the name is before it */
		if (src == NSRC_HTTP_HOST && name[0] != '[') name[strcspn(name, ":")] = '\0';
		snprintf(c->name, sizeof c->name, "%s", name);
		c->name_src = src;
		c->emitted_ns = 0;
		if (!c->edns && is_doh_name(c->name)) {
			c->edns = "dns_over_https";
			note_private_dns(m, c);
		}
	}
	if (m->o.store) store_name(m->o.store, addr, name, name_src_str(src), m->now_ns / 1000000);
}

/* The fields of a ClientHello the connection keeps: its JA4, and whether it hides its SNI. */
static void post(void *ctx, struct packet *p)
{
	struct monitor *m = ctx;
	struct conn *c = m->cur;
	if (!c || c->ja4[0]) return; /* its ClientHello was seen: nothing more to look for */
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id == F_TLS_HANDSHAKE_JA4 && !c->ja4[0])
			snprintf(c->ja4, sizeof c->ja4, "%.*s", (int)f->v.b.n, (const char *)f->v.b.p);
		else if (f->id == F_TLS_HANDSHAKE_EXTENSION_TYPE && f->v.u == ECH_EXTENSION)
			c->hidden = "ech";
	}
}

struct monitor *monitor_new(const struct monitor_opts *o)
{
	struct monitor *m = xcalloc(1, sizeof *m);
	m->o = *o;
	m->names = names_new(NAMES_DEFAULT_CAP);
	m->cap = 1024;
	m->h = xcalloc(m->cap, sizeof *m->h);
	m->obs = (struct flow_observer){ flow_new, flow_packet, flow_end, m };
	field_mask_add(&m->extra, F_TLS_HANDSHAKE_JA4); /* for post(); the names' fields come with needs.names */
	field_mask_add(&m->extra, F_TLS_HANDSHAKE_EXTENSION_TYPE);
	struct pipeline_needs needs = { .observer = &m->obs, .names = on_name, .names_ctx = m, .extra = &m->extra,
					.post = post, .post_ctx = m };
	m->pl = pipeline_new(&needs);
	m->seed = hash_seed_random();
	m->now_ns = m->flushed_ns = m->ticked_ns = wall_ns();
	return m;
}

void monitor_packet(struct monitor *m, const struct pkt_meta *meta, const uint8_t *data)
{
	m->now_ns = meta->ts_sec * 1000000000LL + meta->ts_nsec;
	if (m->o.replay && !m->st.packets) m->ticked_ns = m->flushed_ns = m->now_ns; /* the file's clock from its first packet */
	m->cur = NULL;
	m->st.packets++;
	pipeline_decode_quiet(m->pl, meta, data);
	m->cur = NULL;
	/* traffic never pauses; a file's clock runs faster than the wall's: a tick a second of it
	 * (updates are at most a second apart anyway) */
	if (m->now_ns - m->ticked_ns >= (m->o.replay ? REPLAY_TICK_EVERY_NS : TICK_EVERY_NS)) monitor_tick(m, m->now_ns);
}

static void flush_store(struct monitor *m)
{
	if (!m->o.store) return;
	char err[512];
	if (store_flush(m->o.store, err, sizeof err) < 0) fprintf(stderr, "pktscope: monitor store: %s\n", err);
	m->flushed_ns = m->now_ns;
}

void monitor_tick(struct monitor *m, int64_t now_ns)
{
	if (now_ns > m->now_ns) m->now_ns = now_ns;
	m->ticked_ns = m->now_ns;
	pipeline_tick(m->pl, m->now_ns);
	for (uint32_t i = 0; i < m->count; i++) { /* updates: at most one a second per connection, when it moved */
		struct conn *c = m->list[i];
		if (c->done_ns && !c->closed && m->now_ns - c->done_ns >= CLOSE_GRACE_NS) close_conn(m, c, "closed");
		if (!c->flow || c->closed) continue;
		if (m->o.baseline) { /* judged once its name settles; its bytes out to its program's volume */
			assess(m, c, false);
			count_bytes(m, c);
		}
		if (m->now_ns - c->emitted_ns < UPDATE_EVERY_NS) continue;
		uint64_t bytes = c->bytes[0] + c->bytes[1];
		if (bytes != c->emitted_bytes || c->emitted_ns == 0) emit(m, c, "update", NULL);
	}
	if (m->o.baseline) baseline_tick(m->o.baseline, m->now_ns / 1000000);
	if (m->o.replay && m->o.store) store_set_clock(m->o.store, m->now_ns / 1000000); /* retention on the file's time */
	/* the store's writer writes on its own; a failure of its is said here, once */
	char err[256];
	if (m->o.store && m->now_ns - m->flushed_ns >= UPDATE_EVERY_NS) {
		m->flushed_ns = m->now_ns;
		if (store_failed(m->o.store, err, sizeof err)) fprintf(stderr, "pktscope: monitor store: %s\n", err);
	}
}

void monitor_finish(struct monitor *m)
{
	m->finishing = true;
	pipeline_finish(m->pl);
	flush_store(m);
}

void monitor_free(struct monitor *m)
{
	if (!m) return;
	if (!m->finishing) monitor_finish(m);
	pipeline_free(m->pl);
	names_free(m->names);
	for (uint32_t i = 0; i < m->count; i++) free(m->list[i]);
	free(m->list);
	free(m->h);
	free(m);
}

void monitor_stats(const struct monitor *m, struct monitor_stats *st)
{
	*st = m->st;
	if (m->o.store) {
		struct store_stats ss;
		store_stats(m->o.store, &ss);
		st->store_dropped += ss.dropped;
	}
	struct names_stats ns;
	names_stats(m->names, &ns);
	st->names_evicted = ns.evicted;
	if (m->o.proc) {
		struct proc_stats ps;
		proc_attr_stats(m->o.proc, &ps);
		st->procs_evicted = ps.evicted;
	}
}

uint32_t monitor_live(const struct monitor *m)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->count; i++) n += m->list[i]->flow && !m->list[i]->closed;
	return n;
}

void monitor_each(struct monitor *m, void (*fn)(void *ctx, const struct monitor_conn_view *v), void *ctx)
{
	for (uint32_t i = 0; i < m->count; i++) {
		struct conn *c = m->list[i];
		if (!c->flow) continue;
		const struct flow_key *k = &c->flow->key;
		int l = c->local < 0 ? c->flow->client_dir : c->local, r = !l;
		struct monitor_conn_view v = {
			.id = c->id, .proto = proto_name(k->proto),
			.direction = c->both_local ? "local" : c->outbound ? "outbound" : "inbound",
			.lport = k->port[l], .rport = k->port[r],
			.pid = c->who.how != PH_UNKNOWN ? c->who.proc.pid : 0,
			.pname = c->who.how != PH_UNKNOWN ? c->who.proc.name : "",
			.exe = c->who.how != PH_UNKNOWN ? c->who.proc.exe : "",
			.name = c->name, .name_source = c->name[0] ? name_src_str(c->name_src) : "",
			.country = c->geo.country, .as_org = c->geo.as_org, .asn = c->geo.asn,
			.bytes_out = c->bytes[l], .bytes_in = c->bytes[r],
			.start_ms = c->start_ns / 1000000, .last_ms = c->last_ns / 1000000, .closed = c->closed,
		};
		addr_text(v.laddr, sizeof v.laddr, k->family, k->addr[l]);
		addr_text(v.raddr, sizeof v.raddr, k->family, k->addr[r]);
		if (c->name[0]) names_registrable(m->names, c->name, v.registrable, sizeof v.registrable);
		fn(ctx, &v);
	}
}
