/* tui/widgets.c — see widgets.h. */
#include "tui/widgets.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

size_t tw_fit(const char *s, size_t n, int cols)
{
	size_t i = 0;
	for (int c = 0; i < n && c < cols; c++) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80) i++;
	}
	return i;
}

size_t tw_columns(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

void tw_line(int y, const char *s, size_t n, attr_t a)
{
	int cols = COLS;
	move(y, 0);
	attrset(a);
	size_t k = tw_fit(s, n, cols);
	/* bytes from the capture or the monitor (a followed stream, a name) may hold control
	 * characters: they would move the cursor, so they are shown as dots (a carriage return
	 * at the end, as nothing) */
	char clean[TW_LINE_MAX];
	if (k > sizeof clean) k = sizeof clean;
	size_t j = 0;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' && i + 1 == k) continue;
		clean[j++] = c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '.' : (char)c;
	}
	addnstr(clean, (int)j);
	int x = getcurx(stdscr);
	for (; x < cols; x++) addch(' ');
	attrset(A_NORMAL);
}

size_t tw_cell(char *out, size_t cap, const char *s, int cols, bool right)
{
	size_t used = strlen(out), start = used;
	if (cols < 0) cols = 0;
	size_t k = tw_fit(s, strlen(s), cols), pad = (size_t)cols - tw_columns(s, k);
	if (used + k + pad + 1 > cap) return 0;
	if (right) memset(out + used, ' ', pad), used += pad;
	memcpy(out + used, s, k);
	used += k;
	if (!right) memset(out + used, ' ', pad), used += pad;
	out[used] = '\0';
	return used - start;
}

static volatile sig_atomic_t quit_signal;
static void on_quit(int sig) { quit_signal = sig; }
static struct sigaction old_int, old_term, old_hup;

void tw_begin(void)
{
	quit_signal = 0;
	setlocale(LC_ALL, "");
	struct sigaction sa = { .sa_handler = on_quit };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
}

void tw_end(void)
{
	endwin();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

int tw_quit(void) { return quit_signal; }
