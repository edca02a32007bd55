/* tui/widgets.h — what the two full-screen programs share: the capture TUI (view.c) and the
 * monitor's inspector (inspect.c). Lines that fit the width in columns, with what would move
 * the cursor made visible; the terminal taken and given back on every way out. */
#ifndef PKTSCOPE_TUI_WIDGETS_H
#define PKTSCOPE_TUI_WIDGETS_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#define TW_LINE_MAX 4096 /* bytes of one screen line drawn */

/* Bytes of s (n bytes) that fill at most `cols` columns (UTF-8: one column a code point). */
size_t tw_fit(const char *s, size_t n, int cols);
/* Columns the first n bytes of s take. */
size_t tw_columns(const char *s, size_t n);
/* Row y: s cut at the width, control characters shown as dots, the rest of the row blank,
 * in attribute a. */
void tw_line(int y, const char *s, size_t n, attr_t a);
/* s cut or padded with spaces to exactly `cols` columns, appended to out (at most cap bytes
 * in all, NUL-terminated); the bytes appended. */
size_t tw_cell(char *out, size_t cap, const char *s, int cols, bool right);

/* The terminal for a full-screen program: locale, cbreak, no echo, keypad, a short Escape;
 * SIGINT, SIGTERM and SIGHUP only set the flag tw_quit reads. tw_end restores both. */
void tw_begin(void);
void tw_end(void);
int tw_quit(void); /* the signal that asked to quit, or 0 */

#endif
