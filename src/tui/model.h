/* tui/model.h — what the capture TUI shows, without ncurses: a capture file indexed in
 * slices (so the screen stays live while a large file loads), its packet lines kept in a
 * temporary file rather than in memory, the displayed subset a filter selects (also
 * computed in slices), and one packet decoded again on demand for the detail tree and the
 * hex dump (pipeline/index.c).
 *
 * Memory per packet: the pipeline's index record (offset and flows, about 28 bytes) and a
 * row here (16 bytes); the lines themselves are on disk, read back with pread when shown.
 */
#ifndef PKTSCOPE_TUI_MODEL_H
#define PKTSCOPE_TUI_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/packet.h"
#include "util/sbuf.h"

struct keylog;
struct df_filter;

/* How a row is coloured: by its protocol column, with TCP analysis and anomaly marks. */
enum row_class { RC_OTHER, RC_TCP, RC_UDP, RC_ARP, RC_ICMP, RC_DNS, RC_TLS, RC_HTTP, RC_QUIC, RC__COUNT };
enum row_flag { RF_RETRANSMISSION = 1, RF_ANOMALY = 2, RF_MALFORMED = 4 };

struct tui_row {
	uint64_t line_off;  /* the packet's text line in the lines file */
	uint16_t line_len;
	uint8_t cls;        /* enum row_class */
	uint8_t flags;      /* enum row_flag */
	uint32_t proc;      /* the Process column's name (tui_model_proc), 0 for none */
};
#define PROC_COL_NAME 16    /* a process name as the kernel keeps it (comm), NUL included */
#define PROC_COL_MAX 65536  /* distinct names in the Process column; later ones are left blank */

struct tui_model;

/* Opens path for indexing (nothing is read yet). NULL with the reason in err. keys may be
 * NULL; anomalies: run the anomaly rules while indexing (their notes end the lines). */
struct tui_model *tui_model_open(const char *path, struct keylog *keys, bool anomalies, char *err, size_t errlen);
/* The file is being written (live capture): its end is only where the writer is now, and
 * what comes later is indexed as it comes; off once the writer has finished. */
void tui_model_set_live(struct tui_model *m, bool live);
/* The capture is written as ring files (-b): read them one after another instead of the
 * one path (as src_open_chain takes them). Packets whose file the ring removed stay
 * listed (their lines are kept) but cannot be decoded again (a later packet is decoded
 * without them); passes over the capture (a
 * filter, a table, a stream, a save) see the files still there. Before indexing starts. */
struct src_files;
void tui_model_set_ring(struct tui_model *m, const struct src_files *files);
/* Ring files: the first packet of the oldest file still on disk (1 without a ring). */
uint64_t tui_model_first_kept(struct tui_model *m);
void tui_model_free(struct tui_model *m);

/* Indexes up to `budget` more packets; false when the file is read to its end (or broke:
 * tui_model_error says why). */
bool tui_model_index(struct tui_model *m, uint64_t budget);
uint64_t tui_model_packets(const struct tui_model *m);  /* indexed so far */
bool tui_model_done(const struct tui_model *m);
int tui_model_percent(const struct tui_model *m);       /* of the file read, 0-100 */
const char *tui_model_error(const struct tui_model *m); /* NULL, or why reading stopped */

/* The packet's text line (as `pktscope read` prints it, without the newline) into buf;
 * its length. frame from 1. */
size_t tui_model_line(struct tui_model *m, uint64_t frame, char *buf, size_t cap);
const struct tui_row *tui_model_row(const struct tui_model *m, uint64_t frame);
/* The process that sent or received frame (its proc.name: a live capture's attribution,
 * or a pktscope note in the file), or NULL; and whether any packet so far had one (the
 * list then shows a Process column). */
const char *tui_model_proc(const struct tui_model *m, uint64_t frame);
bool tui_model_has_procs(const struct tui_model *m);

/* The display filter: NULL shows every packet. The model takes the program (df_free'd
 * later). Matching runs in slices (tui_model_filter_step) from the first frame. */
void tui_model_set_filter(struct tui_model *m, struct df_filter *f, const char *text);
bool tui_model_filter_step(struct tui_model *m, uint64_t budget); /* false when finished */
bool tui_model_filtering(const struct tui_model *m);
const char *tui_model_filter_text(const struct tui_model *m); /* NULL: none */
/* Packets displayed so far, and the frame number of the i-th (from 0). */
uint64_t tui_model_shown(const struct tui_model *m);
uint64_t tui_model_shown_frame(const struct tui_model *m, uint64_t i);
/* The display position of frame (or of the first displayed frame after it), for going to a
 * packet number. */
uint64_t tui_model_position_of(const struct tui_model *m, uint64_t frame);

/* Packets per second of capture time, from the first packet (what is indexed so far):
 * *n seconds; NULL when none. */
const uint32_t *tui_model_rate(const struct tui_model *m, uint64_t *n);

/* The tables behind the overlays, as `read --stats` prints them, over what is indexed so
 * far. */
enum tui_table { TT_TALKERS, TT_PHS, TT_FLOWS, TT_CONVERSATIONS, TT_ANOMALIES, TT_IO, TT__COUNT };
void tui_model_table(struct tui_model *m, enum tui_table t, struct sbuf *sb);
/* The per-flow records (`--stats flows`) of what is indexed: a pass over the file; the
 * caller frees them (flowrec_free). */
struct flow_records;
struct flow_records *tui_model_flows(struct tui_model *m);
/* The payload of one stream (proto 6 or 17), both directions, as `read --follow` writes it
 * (ascii or hex): a pass over the file. */
void tui_model_follow(struct tui_model *m, uint8_t proto, int64_t stream, bool hex, struct sbuf *sb);
/* Writes the given frames (in order) to path: pcapng when it ends in .pcapng, else pcap,
 * as read -w does. 0, or -1 with the reason in err. */
int tui_model_save(struct tui_model *m, const char *path, const uint64_t *frames, uint64_t n, char *err,
		   size_t errlen);

/* Packet `frame` decoded again with every field (its conversation replayed from the
 * file): valid until the next call. NULL with the reason in err. */
const struct packet *tui_model_decode(struct tui_model *m, uint64_t frame, char *err, size_t errlen);

#endif
