/* cli/writer.c — -w for read and capture: pcap, or pcapng with --pcapng or a .pcapng
 * name. */
#include "cli/writer.h"

#include <string.h>

#include "cli/cli.h"

bool pwriter_wants_pcapng(const char *path)
{
	size_t n = strlen(path);
	return n >= 7 && !strcmp(path + n - 7, ".pcapng");
}

static int writer_fail(struct packet_writer *ws, const char *err)
{
	cli_error("%s: %s", ws->path, err);
	ws->failed = true;
	return -1;
}

int pwriter_open(struct packet_writer *ws, int linktype, char *err, size_t errlen)
{
	if (ws->pcapng) {
		char app[64];
		snprintf(app, sizeof app, "pktscope %s", PKTSCOPE_VERSION);
		ws->ng = pcapng_writer_open(ws->path, app, err, errlen);
		return ws->ng ? 0 : -1;
	}
	ws->w = pw_open(ws->path, linktype, err, errlen);
	return ws->w ? 0 : -1;
}

int pwriter_iface(struct packet_writer *ws, uint32_t in, int linktype, const char *name)
{
	char err[300];
	for (int i = 0; i < ws->nifs; i++)
		if (ws->ifs[i].in == in && ws->ifs[i].linktype == linktype) return ws->ifs[i].out;
	if (ws->nifs == WRITER_MAX_IFS) return writer_fail(ws, "more than 64 interfaces");
	int out = pcapng_writer_add_interface(ws->ng, name, linktype, ws->snaplen, ws->filter, err, sizeof err);
	if (out < 0) return writer_fail(ws, err);
	ws->ifs[ws->nifs].in = in;
	ws->ifs[ws->nifs].linktype = linktype;
	ws->ifs[ws->nifs++].out = out;
	return out;
}

int pwriter_iface_stats(struct packet_writer *ws, uint32_t in, int linktype, const char *name, int64_t sec, uint32_t nsec,
			uint64_t received, uint64_t dropped)
{
	char err[300];
	if (!ws->ng) return 0;
	int out = pwriter_iface(ws, in, linktype, name);
	if (out < 0) return -1;
	if (pcapng_writer_stats(ws->ng, out, sec, nsec, received, dropped, err, sizeof err) < 0) return writer_fail(ws, err);
	return 0;
}

int pwriter_packet(struct packet_writer *ws, const struct pkt_meta *m, const uint8_t *data)
{
	char err[300];
	if (!ws->w && !ws->ng && pwriter_open(ws, m->linktype, err, sizeof err) < 0) return writer_fail(ws, err);
	if (!ws->pcapng) return pw_write(ws->w, m, data, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
	int out = pwriter_iface(ws, m->ifindex, m->linktype, m->ifname);
	if (out < 0) return -1;
	if (pcapng_writer_packet(ws->ng, out, m, data, (const char *)m->comment, m->comment_len, err, sizeof err) < 0)
		return writer_fail(ws, err);
	return 0;
}

int pwriter_close(struct packet_writer *ws, int linktype_if_empty)
{
	char err[300];
	if (!ws->path || (ws->failed && !ws->w && !ws->ng)) return ws->failed ? -1 : 0;
	if (!ws->w && !ws->ng && pwriter_open(ws, linktype_if_empty, err, sizeof err) < 0) {
		cli_error("%s: %s", ws->path, err);
		return -1;
	}
	int rc = ws->ng ? pcapng_writer_close(ws->ng, err, sizeof err) : pw_close(ws->w, err, sizeof err);
	if (rc < 0) {
		cli_error("%s: %s", ws->path, err);
		return -1;
	}
	return ws->failed ? -1 : 0;
}

