/* tui/tui.h — the full-screen analyzer `pktscope read FILE` opens on a terminal. The only
 * module that calls ncurses. */
#ifndef PKTSCOPE_TUI_TUI_H
#define PKTSCOPE_TUI_TUI_H

#include <stdbool.h>

struct keylog;
struct config;

struct tui_opts {
	const char *path;          /* a capture file (standard input cannot be read twice) */
	const char *filter;        /* -Y at start, or NULL */
	struct keylog *keys;       /* TLS secrets, or NULL */
	bool anomalies;            /* run the anomaly rules (their notes in the lines) */
	const struct config *cfg;  /* saved filters (`:name` in the filter bar), or NULL */
};

/* Runs until the user quits; the terminal is restored on every way out. Returns the exit
 * status (0, or 1 when the file cannot be read, with the reason printed after). */
int tui_run(const struct tui_opts *o);

#endif
