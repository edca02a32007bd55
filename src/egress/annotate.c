/* egress/annotate.c — proc.* fields for a live capture's packets (see annotate.h). One
 * lookup per flow, retried on its next packets while the socket may still appear; the
 * result is shared by the flows of one process (refcounted), so a million flows of one
 * program hold one copy of its command line. */
#include "egress/annotate.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/xalloc.h"

#define ANN_TRIES 3          /* lookups per flow while its socket is not found */
#define ANN_PID_CACHE 1024   /* the last process record per pid slot, for sharing */

struct pproc {
	int refs;
	struct proc_info info;
};

struct aent {
	uint64_t serial;         /* the flow's; 0 free (serials are stored plus one) */
	struct pproc *proc;      /* NULL: not (yet) known */
	uint8_t tries;
};

struct proc_annotator {
	struct proc_attr *pa;
	struct flow_observer obs;
	struct aent *t;          /* open addressing by flow serial, backward-shift deletion */
	uint32_t cap, count;
	struct pproc *by_pid[ANN_PID_CACHE];
	const struct packet *cur_p; /* the packet the observer saw last, and its flow (serial + 1; by
				     * serial, not by pointer: deleting moves entries) */
	uint64_t cur;
	struct pann_stats st;
};

static void unref(struct pproc *p)
{
	if (p && --p->refs == 0) free(p);
}

static uint32_t slot_of(const struct proc_annotator *a, uint64_t serial)
{
	return (uint32_t)((serial * 0x9e3779b97f4a7c15ull) >> 32) & (a->cap - 1);
}

static struct aent *find(struct proc_annotator *a, uint64_t serial)
{
	uint64_t key = serial + 1;
	for (uint32_t i = slot_of(a, serial);; i = (i + 1) & (a->cap - 1)) {
		if (a->t[i].serial == key) return &a->t[i];
		if (!a->t[i].serial) return NULL;
	}
}

static void grow(struct proc_annotator *a)
{
	struct aent *old = a->t;
	uint32_t oldcap = a->cap;
	a->cap = oldcap ? oldcap * 2 : 1024;
	a->t = xcalloc(a->cap, sizeof *a->t);
	for (uint32_t i = 0; i < oldcap; i++) {
		if (!old[i].serial) continue;
		uint32_t j = slot_of(a, old[i].serial - 1);
		while (a->t[j].serial) j = (j + 1) & (a->cap - 1);
		a->t[j] = old[i];
	}
	free(old);
}

static struct aent *add(struct proc_annotator *a, uint64_t serial)
{
	if ((a->count + 1) * 2 > a->cap) grow(a);
	uint32_t i = slot_of(a, serial);
	while (a->t[i].serial) i = (i + 1) & (a->cap - 1);
	a->t[i] = (struct aent){ .serial = serial + 1 };
	a->count++;
	return &a->t[i];
}

static void del(struct proc_annotator *a, struct aent *e)
{
	unref(e->proc);
	uint32_t mask = a->cap - 1, i = (uint32_t)(e - a->t);
	for (uint32_t j = (i + 1) & mask; a->t[j].serial; j = (j + 1) & mask) {
		uint32_t home = slot_of(a, a->t[j].serial - 1);
		/* j's entry may move to i when its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			a->t[i] = a->t[j];
			i = j;
		}
	}
	a->t[i] = (struct aent){ 0 };
	a->count--;
}

static void lookup(struct proc_annotator *a, const struct flow *f, struct aent *e)
{
	const struct flow_key *k = &f->key;
	if (k->family != 4 && k->family != 6) {
		e->tries = ANN_TRIES;
		return;
	}
	e->tries++;
	bool l0 = proc_attr_is_local(a->pa, k->family, k->addr[0]);
	bool l1 = proc_attr_is_local(a->pa, k->family, k->addr[1]);
	int c = f->client_dir;
	int l = l0 && l1 ? c : l0 ? 0 : l1 ? 1 : -1; /* on loopback, the end that spoke first */
	struct proc_result r;
	bool found;
	if (l < 0) /* through this machine: perhaps a process in another namespace here */
		found = proc_attr_lookup_kernel(a->pa, k->proto, k->family, k->addr[c], k->port[c], k->addr[!c], k->port[!c], &r);
	else {
		proc_attr_lookup(a->pa, k->proto, k->family, k->addr[l], k->port[l], k->addr[!l], k->port[!l], &r);
		found = r.how != PH_UNKNOWN;
		if (!found && r.why != PW_NO_SOCKET && r.why != PW_NO_OWNER) e->tries = ANN_TRIES; /* will not change */
	}
	if (l < 0) e->tries = ANN_TRIES;
	if (!found) {
		if (e->tries >= ANN_TRIES) a->st.unknown++;
		return;
	}
	a->st.attributed++;
	struct pproc **slot = &a->by_pid[(uint32_t)r.proc.pid % ANN_PID_CACHE];
	if (*slot && (*slot)->info.pid == r.proc.pid && !strcmp((*slot)->info.exe, r.proc.exe) &&
	    !strcmp((*slot)->info.name, r.proc.name) && !strcmp((*slot)->info.cmdline, r.proc.cmdline)) {
		e->proc = *slot;
		e->proc->refs++;
		return;
	}
	struct pproc *p = xcalloc(1, sizeof *p);
	p->refs = 2; /* the flow's and the cache's */
	p->info = r.proc;
	unref(*slot);
	*slot = p;
	e->proc = p;
}

static void on_new(void *ctx, const struct flow *f, const struct packet *p)
{
	struct proc_annotator *a = ctx;
	struct aent *e = find(a, f->serial);
	if (!e) e = add(a, f->serial);
	a->st.flows++;
	lookup(a, f, e);
	a->cur = f->serial + 1;
	a->cur_p = p;
}

static void on_packet(void *ctx, const struct flow *f, const struct packet *p)
{
	struct proc_annotator *a = ctx;
	struct aent *e = find(a, f->serial);
	if (!e) return;
	/* asked again while unknown, but not for the packet on_new just asked for */
	if (!e->proc && e->tries < ANN_TRIES && !(a->cur_p == p && a->cur == f->serial + 1)) lookup(a, f, e);
	a->cur = f->serial + 1;
	a->cur_p = p;
}

static void on_end(void *ctx, const struct flow *f)
{
	struct proc_annotator *a = ctx;
	struct aent *e = find(a, f->serial);
	if (e) del(a, e);
}

struct proc_annotator *pann_new(struct proc_attr *pa)
{
	struct proc_annotator *a = xcalloc(1, sizeof *a);
	a->pa = pa;
	a->obs = (struct flow_observer){ .flow_new = on_new, .flow_packet = on_packet, .flow_end = on_end, .ctx = a };
	grow(a);
	return a;
}

void pann_free(struct proc_annotator *a)
{
	if (!a) return;
	for (uint32_t i = 0; i < a->cap; i++)
		if (a->t[i].serial) unref(a->t[i].proc);
	for (int i = 0; i < ANN_PID_CACHE; i++) unref(a->by_pid[i]);
	free(a->t);
	free(a);
}

const struct flow_observer *pann_observer(struct proc_annotator *a) { return &a->obs; }

void pann_post(void *ctx, struct packet *p)
{
	struct proc_annotator *a = ctx;
	struct aent *e = a->cur_p == p && a->cur ? find(a, a->cur - 1) : NULL;
	a->cur_p = NULL; /* a packet without a flow (ARP) must not take the last one's */
	a->cur = 0;
	if (!e || !e->proc || !pk_wants_range(p, F_PROC, F_PROC_CMDLINE)) return;
	const struct proc_info *i = &e->proc->info;
	/* a layer of the packet's own, after everything decoded (as the anomaly rules add theirs) */
	p->cur_where = 0;
	p->cur_parent = PKT_NO_PARENT;
	p->buf_bias = 0;
	struct cur none = cur_make(p->data, 0);
	int slot = pk_proto(p, F_PROC, &none);
	pk_uint(p, F_PROC_PID, (uint64_t)i->pid, 0, 0);
	pk_string(p, F_PROC_NAME, i->name, strlen(i->name), 0, 0);
	if (i->exe[0]) pk_string(p, F_PROC_EXE, i->exe, strlen(i->exe), 0, 0);
	pk_uint(p, F_PROC_UID, i->uid, 0, 0);
	if (i->cmdline[0]) pk_string(p, F_PROC_CMDLINE, i->cmdline, strlen(i->cmdline), 0, 0);
	pk_proto_end(p, slot, &none);
}

void pann_mask_add(struct field_mask *m)
{
	for (int id = F_PROC; id <= F_PROC_CMDLINE; id++) field_mask_add(m, id);
}

bool pann_wanted(const struct field_mask *m)
{
	for (int id = F_PROC; id <= F_PROC_CMDLINE; id++)
		if ((m->bits[id >> 3] >> (id & 7)) & 1) return true;
	return false;
}

void pann_stats(const struct proc_annotator *a, struct pann_stats *st) { *st = a->st; }
