/* tap.h - minimal TAP producer for Automake's tap-driver.sh. */
#ifndef HT_TAP_H
#define HT_TAP_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_fail;

static inline void tap_plan(int n) { printf("1..%d\n", n); fflush(stdout); }
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!cond)
		tap_fail++;
	return cond;
}
/* A skip must say why; only for what this machine really cannot do. */
static inline void tap_skip(const char *why) { printf("ok %d # SKIP %s\n", ++tap_n, why); fflush(stdout); }
static inline void tap_bail(const char *why) { printf("Bail out! %s\n", why); fflush(stdout); exit(1); }
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_fail ? 1 : 0;
}
#define ok(c, ...) tap_ok(!!(c), __VA_ARGS__)
#define is_int(a, b, ...) tap_ok((long long)(a) == (long long)(b), __VA_ARGS__) || (tap_diag("  got %lld, want %lld", (long long)(a), (long long)(b)), 0)
#define is_str(a, b, ...) tap_ok(strcmp((a), (b)) == 0, __VA_ARGS__) || (tap_diag("  got '%s', want '%s'", (a), (b)), 0)
#endif
