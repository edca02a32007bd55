/* tui/tui.h — the full-screen analyzer `pktscope read FILE` opens on a terminal. The only
 * module that calls ncurses. */
#ifndef PKTSCOPE_TUI_TUI_H
#define PKTSCOPE_TUI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keylog;
struct config;
struct live;
struct packet_writer;

struct tui_opts {
	const char *path;          /* a capture file (standard input cannot be read twice) */
	const char *filter;        /* -Y at start, or NULL */
	struct keylog *keys;       /* TLS secrets, or NULL */
	bool anomalies;            /* run the anomaly rules (their notes in the lines) */
	const struct config *cfg;  /* saved filters (`:name` in the filter bar), or NULL */
	/* live capture: its ring is drained into ws, whose file (path, pcapng) the screen
	 * indexes as it grows; the capture is stopped and drained when the user quits */
	struct live *live;
	struct packet_writer *ws;
	uint64_t budget;           /* bytes the file may reach; past it packets are counted, not kept */
	/* live capture: each packet's process (egress/annotate.h) written into the file as a
	 * pcapng comment, read back as proc.* (the Process column, filters), or NULL */
	struct proc_annotator *procs;
};
#define TUI_DEFAULT_BUDGET_MB 1024

/* Runs until the user quits; the terminal is restored on every way out. Returns the exit
 * status (0, or 1 when the file cannot be read, with the reason printed after). */
int tui_run(const struct tui_opts *o);

/* The same in two steps, for live capture: the file is opened (for reading) while
 * privileges still allow it, then the screen runs. prepare: NULL with the reason in err;
 * run frees what prepare made. */
struct tui_prepared;
struct tui_prepared *tui_prepare(const struct tui_opts *o, char *err, size_t errlen);
int tui_run_prepared(struct tui_prepared *t);
/* What prepare made, when the screen is not run after all (an error between the two). */
void tui_run_prepared_free(struct tui_prepared *t);

/* `pktscope inspect`: the egress monitor's inspector, on the monitor at socket. Returns
 * the exit status (1 when the first connection fails, with the reason printed). */
struct inspect_opts {
	const char *socket;
};
int tui_inspect(const struct inspect_opts *o);

#endif
