/* capture/live.c — live capture: one libpcap handle per interface, each read by its own
 * thread that only copies packets into one bounded ring; the caller takes them out in
 * arrival order. When the ring is full a packet is dropped and counted, never waited
 * for: the kernel's buffer must keep draining. */
#include "capture/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/xalloc.h"

struct ring_rec {
	uint32_t iface;
	uint32_t caplen, wirelen;
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint32_t pad;
};

struct live_if {
	struct live *l;
	pcap_t *pcap;
	char *name;
	int linktype;
	pthread_t thread;
	bool started;
	uint64_t captured;      /* taken from libpcap */
	uint64_t ring_dropped;  /* the ring had no room */
	char error[PCAP_ERRBUF_SIZE]; /* why reading stopped early (the interface went away) */
};

/* The kernel buffer's block timeout: how long a packet may wait there before the capture
 * thread sees it, and how often an idle thread looks at the stop flag. */
#define LIVE_BLOCK_MS 100
/* The longest a stopping capture waits for the kernel to hand over what it holds. */
#define LIVE_DRAIN_MAX_MS 3000

struct live {
	struct live_if ifs[LIVE_MAX_IFS];
	int nifs;
	int block_ms;           /* the kernel buffer's block timeout */
	/* the ring: records (header then bytes, 8-aligned) between head and tail, wrapping */
	uint8_t *ring;
	size_t cap, head, tail, used;
	pthread_mutex_t mu;
	pthread_mutex_t stats_mu; /* pcap_stats from the caller and a stopping thread, one at a time */
	pthread_cond_t more;
	int running;            /* capture threads not yet finished */
	volatile int stop;
	uint8_t *out;           /* the packet handed to the caller, valid until the next call */
	size_t out_cap;
	/* readable while the ring holds packets or a thread has ended (live_fd): the caller
	 * that finds the ring empty drains it and arms it; the next packet (or a thread's end)
	 * writes one byte. A caller that keeps up costs the capture threads no system call. */
	int wake[2];
	bool armed;
};

/* With l->mu held. */
static void wake_poller(struct live *l)
{
	char b = 1;
	l->armed = false;
	if (write(l->wake[1], &b, 1) < 0) { /* full (EAGAIN): it is readable already */
	}
}

/* With l->mu held, the ring empty. */
static void drain_poller(struct live *l)
{
	char b[64];
	while (read(l->wake[0], b, sizeof b) > 0) {
	}
}

static size_t rec_size(uint32_t caplen) { return (sizeof(struct ring_rec) + caplen + 7) & ~(size_t)7; }

/* Copies one packet in, or counts it dropped. A record never wraps: when it does not fit
 * before the end, the end is skipped (a zero-size marker when there is room for one). */
static void ring_put(struct live_if *i, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct live *l = i->l;
	size_t need = rec_size(h->caplen);
	pthread_mutex_lock(&l->mu);
	i->captured++;
	if (l->used == 0) l->head = l->tail = 0; /* empty: all of it is one free run */
	size_t at = l->tail;
	bool ok = false;
	if (l->used + need <= l->cap) {
		if (at + need <= l->cap) {
			ok = true;
		} else if (need + (l->cap - at) + l->used <= l->cap && need <= l->head) {
			/* wrap: mark the rest of the end as skipped, start again at 0 */
			if (l->cap - at >= sizeof(struct ring_rec)) {
				struct ring_rec skip = { .iface = UINT32_MAX };
				memcpy(l->ring + at, &skip, sizeof skip);
			}
			l->used += l->cap - at;
			at = 0;
			ok = true;
		}
	}
	if (!ok) {
		i->ring_dropped++;
		pthread_mutex_unlock(&l->mu);
		return;
	}
	struct ring_rec r = { .iface = (uint32_t)(i - l->ifs), .caplen = h->caplen, .wirelen = h->len,
			      .ts_sec = h->ts.tv_sec, .ts_nsec = (uint32_t)h->ts.tv_usec };
	memcpy(l->ring + at, &r, sizeof r);
	memcpy(l->ring + at + sizeof r, data, h->caplen);
	l->tail = at + need;
	if (l->tail == l->cap) l->tail = 0;
	if (l->armed) wake_poller(l);
	l->used += need;
	pthread_cond_signal(&l->more);
	pthread_mutex_unlock(&l->mu);
}

/* How many packets the kernel has put in the handle's buffer so far (its count of
 * received ones less those it dropped for want of room). */
static bool kernel_queued(struct live_if *i, uint64_t *n)
{
	struct pcap_stat ps;
	pthread_mutex_lock(&i->l->stats_mu);
	int rc = pcap_stats(i->pcap, &ps);
	pthread_mutex_unlock(&i->l->stats_mu);
	if (rc != 0) return false;
	*n = ps.ps_recv >= ps.ps_drop ? ps.ps_recv - ps.ps_drop : 0;
	return true;
}

/* The kernel's buffer hands packets over a block at a time (TPACKET_V3), when a block
 * fills or its timeout (LIVE_BLOCK_MS unless asked) retires it: a capture stopped by a
 * signal right after its last packets would lose them. So a stopping thread asks the
 * kernel how many it had queued at the stop and reads on without blocking until it has
 * taken that many — not for a guessed time, which a loaded machine outlasts. A fixed
 * deadline still bounds it, so that a busy link (or a filter libpcap runs in user space,
 * whose rejects the kernel counted) cannot keep a stopping capture alive. */
static void drain_kernel(struct live_if *i)
{
	char perr[PCAP_ERRBUF_SIZE];
	uint64_t queued;
	if (!kernel_queued(i, &queued) || pcap_setnonblock(i->pcap, 1, perr) < 0) return;
	struct timespec t0, now, nap = { 0, 5000000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pthread_mutex_lock(&i->l->mu);
		bool done = i->captured >= queued;
		pthread_mutex_unlock(&i->l->mu);
		if (done) return;
		struct pcap_pkthdr *h;
		const uint8_t *data;
		int rc = pcap_next_ex(i->pcap, &h, &data);
		if (rc < 0) return;
		if (rc == 1) ring_put(i, h, data);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > LIVE_DRAIN_MAX_MS) return;
		if (rc == 0) nanosleep(&nap, NULL);
	}
}

static void *capture_thread(void *arg)
{
	struct live_if *i = arg;
	struct live *l = i->l;
	while (!l->stop) {
		struct pcap_pkthdr *h;
		const uint8_t *data;
		int rc = pcap_next_ex(i->pcap, &h, &data);
		if (rc == 1) {
			ring_put(i, h, data);
		} else if (rc < 0) { /* pcap_breakloop, or the interface went away */
			if (rc == PCAP_ERROR && !l->stop) snprintf(i->error, sizeof i->error, "%s", pcap_geterr(i->pcap));
			break;
		}
	}
	if (l->stop && !i->error[0]) drain_kernel(i);
	pthread_mutex_lock(&l->mu);
	l->running--;
	wake_poller(l); /* the caller learns it from live_next */
	pthread_cond_broadcast(&l->more);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* The remedy for a permission error, for the platform this was built on. */
static const char *permission_remedy(void)
{
#if defined(__APPLE__)
	return "capturing needs read access to /dev/bpf*: run it with sudo, or join the access_bpf group "
	       "(Wireshark's ChmodBPF installs it)";
#elif defined(_WIN32)
	return "capturing needs Npcap (https://npcap.com) installed, with administrator rights or its "
	       "\"restrict to administrators\" option off";
#else
	return "capturing needs root or the capabilities cap_net_raw and cap_net_admin: run it with sudo, "
	       "or once: sudo setcap cap_net_raw,cap_net_admin+eip \"$(command -v pktscope)\"";
#endif
}

static int open_one(struct live *l, const char *name, const struct live_opts *o, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct live_if *i = &l->ifs[l->nifs];
	pcap_t *p = pcap_create(name, perr);
	if (!p) {
		snprintf(err, errlen, "%s: %s", name, perr);
		return LIVE_ERR_INPUT;
	}
	pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : 262144);
	pcap_set_promisc(p, !o->no_promisc);
	pcap_set_timeout(p, o->block_ms > 0 ? o->block_ms : LIVE_BLOCK_MS); /* threads look at the stop flag this often when idle */
	if (o->immediate) pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, (o->buffer_mb > 0 ? o->buffer_mb : 4) << 20);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(p);
	if (rc < 0) {
		const char *why = pcap_geterr(p);
		if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, errlen, "%s: no such interface (pktscope list-interfaces shows them)", name);
		else if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "%s: permission denied: %s", name, permission_remedy());
		else if (rc == PCAP_ERROR_IFACE_NOT_UP)
			snprintf(err, errlen, "%s: the interface is down", name);
		else
			snprintf(err, errlen, "%s: %s", name, why && *why ? why : pcap_statustostr(rc));
		pcap_close(p);
		return LIVE_ERR_INPUT;
	}
	if (o->bpf && *o->bpf) {
		struct bpf_program prog;
		if (pcap_compile(p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "invalid capture filter \"%s\": %s", o->bpf, pcap_geterr(p));
			pcap_close(p);
			return LIVE_ERR_USAGE;
		}
		rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot set the capture filter: %s", name, pcap_geterr(p));
			pcap_close(p);
			return LIVE_ERR_INPUT;
		}
	}
	i->l = l;
	i->pcap = p;
	i->name = xstrdup(name);
	i->linktype = pcap_datalink(p);
	if (i->linktype == 12 || i->linktype == 14) i->linktype = LT_RAW; /* the file's LINKTYPE */
	l->nifs++;
	return 0;
}

struct live *live_open(const struct live_opts *o, char *err, size_t errlen, int *why)
{
	struct live *l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->stats_mu, NULL);
	pthread_cond_init(&l->more, NULL);
	l->wake[0] = l->wake[1] = -1;
	l->armed = true; /* nothing taken yet: the first packet wakes the caller */
	bool piped = pipe(l->wake) == 0;
	for (int k = 0; piped && k < 2; k++)
		piped = fcntl(l->wake[k], F_SETFL, O_NONBLOCK) == 0 && fcntl(l->wake[k], F_SETFD, FD_CLOEXEC) == 0;
	if (!piped) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		*why = LIVE_ERR_INPUT;
		live_close(l);
		return NULL;
	}
	for (int k = 0; k < o->nifs; k++) {
		int rc = open_one(l, o->ifaces[k], o, err, errlen);
		if (rc) {
			*why = rc;
			live_close(l);
			return NULL;
		}
	}
	l->cap = (size_t)(o->ring_mb > 0 ? o->ring_mb : 32) << 20;
	l->block_ms = o->block_ms > 0 ? o->block_ms : LIVE_BLOCK_MS;
	l->ring = xmalloc(l->cap);
	l->out_cap = 262144 + 16;
	l->out = xmalloc(l->out_cap);
	return l;
}

int live_start(struct live *l, char *err, size_t errlen)
{
	for (int k = 0; k < l->nifs; k++) {
		struct live_if *i = &l->ifs[k];
		pthread_mutex_lock(&l->mu);
		l->running++;
		pthread_mutex_unlock(&l->mu);
		int rc = pthread_create(&i->thread, NULL, capture_thread, i);
		if (rc) {
			pthread_mutex_lock(&l->mu);
			l->running--;
			pthread_mutex_unlock(&l->mu);
			snprintf(err, errlen, "cannot start a capture thread: %s", strerror(rc));
			return -1;
		}
		i->started = true;
	}
	return 0;
}

enum src_status live_next(struct live *l, struct pkt_meta *m, const uint8_t **data, int timeout_ms, bool *timed_out)
{
	*timed_out = false;
	pthread_mutex_lock(&l->mu);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	until.tv_sec += timeout_ms / 1000 + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	for (;;) {
		if (l->used) {
			struct ring_rec r;
			if (l->cap - l->head < sizeof r) { /* too little room at the end for a record */
				l->used -= l->cap - l->head;
				l->head = 0;
				continue;
			}
			memcpy(&r, l->ring + l->head, sizeof r);
			if (r.iface == UINT32_MAX) { /* the skipped end */
				l->used -= l->cap - l->head;
				l->head = 0;
				continue;
			}
			size_t n = rec_size(r.caplen);
			memcpy(l->out, l->ring + l->head + sizeof r, r.caplen);
			l->head += n;
			if (l->head == l->cap) l->head = 0;
			l->used -= n;
			pthread_mutex_unlock(&l->mu);
			memset(m, 0, sizeof *m);
			m->ts_sec = r.ts_sec;
			m->ts_nsec = r.ts_nsec;
			m->ts_digits = 9;
			m->caplen = r.caplen;
			m->wirelen = r.wirelen < r.caplen ? r.caplen : r.wirelen;
			m->ifindex = r.iface;
			m->linktype = l->ifs[r.iface].linktype;
			m->ifname = l->ifs[r.iface].name;
			*data = l->out;
			return SRC_OK;
		}
		drain_poller(l); /* empty: poll waits until the next packet */
		l->armed = true;
		if (l->running == 0) break; /* stopped and drained */
		if (timeout_ms >= 0 && pthread_cond_timedwait(&l->more, &l->mu, &until) == ETIMEDOUT) {
			*timed_out = true;
			break;
		}
		if (timeout_ms < 0) pthread_cond_wait(&l->more, &l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return SRC_EOF;
}

void live_stop(struct live *l)
{
	l->stop = 1;
	for (int k = 0; k < l->nifs; k++)
		if (l->ifs[k].started) pcap_breakloop(l->ifs[k].pcap);
	/* joined here, so that pcap_stats never runs beside pcap_next_ex on a handle */
	for (int k = 0; k < l->nifs; k++)
		if (l->ifs[k].started) {
			pthread_join(l->ifs[k].thread, NULL);
			l->ifs[k].started = false;
		}
}

int live_fd(const struct live *l) { return l->wake[0]; }
int live_count(const struct live *l) { return l->nifs; }
const char *live_ifname(const struct live *l, int k) { return l->ifs[k].name; }
int live_linktype(const struct live *l, int k) { return l->ifs[k].linktype; }

void live_stats(struct live *l, int k, struct live_stats *s)
{
	struct live_if *i = &l->ifs[k];
	memset(s, 0, sizeof *s);
	struct pcap_stat ps;
	pthread_mutex_lock(&l->stats_mu);
	int rc = pcap_stats(i->pcap, &ps);
	pthread_mutex_unlock(&l->stats_mu);
	if (rc == 0) {
		s->kernel_received = ps.ps_recv;
		s->kernel_dropped = ps.ps_drop;
		s->if_dropped = ps.ps_ifdrop;
		s->have_kernel = true;
	}
	pthread_mutex_lock(&l->mu);
	s->captured = i->captured;
	s->ring_dropped = i->ring_dropped;
	s->error = i->error[0] ? i->error : NULL;
	pthread_mutex_unlock(&l->mu);
}

void live_close(struct live *l)
{
	if (!l) return;
	live_stop(l);
	for (int k = 0; k < l->nifs; k++) {
		struct live_if *i = &l->ifs[k];
		pcap_close(i->pcap);
		free(i->name);
	}
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->stats_mu);
	pthread_cond_destroy(&l->more);
	if (l->wake[0] >= 0) close(l->wake[0]);
	if (l->wake[1] >= 0) close(l->wake[1]);
	free(l->ring);
	free(l->out);
	free(l);
}
