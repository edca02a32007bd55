/* util/xalloc.h — allocation wrappers for programmer errors: out of memory aborts with a
 * message (after the registered cleanup hook, so the TUI can restore the terminal). Input
 * sizes are capped before anything is allocated, so these never see attacker-sized
 * requests. */
#ifndef PKTSCOPE_UTIL_XALLOC_H
#define PKTSCOPE_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Prints "pktscope: fatal: MSG" to stderr, runs the cleanup hook and aborts. */
_Noreturn void xfatal(const char *msg);
/* Registers the one hook xfatal runs before aborting (NULL to clear). */
void xset_fatal_hook(void (*hook)(void));

#endif
