/*
 * replay - run one harness's seeds and regression inputs without a fuzzer
 * (any compiler): built as fuzz/replay_NAME with fuzz_NAME.c, it feeds
 * every file of $top_srcdir/tests/fuzz/{seeds,regress}/NAME to
 * LLVMFuzzerTestOneInput, each in a child, one TAP line per file.
 */
#include "fuzz.h"
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

static FILE *tap;
static int n, failed;

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t cap = 0, len = 0, r;
	if (!f)
		return NULL;
	do {
		if (len == cap && !(p = realloc(p, cap = cap * 2 + 4096)))
			break;
		len += r = fread(p + len, 1, cap - len, f);
	} while (r);
	fclose(f);
	*size = len;
	return p;
}

static void one(const char *path)
{
	fflush(NULL);
	pid_t c = fork();
	if (c == 0) {
		size_t size = 0;
		uint8_t *p = slurp(path, &size);
		if (!p)
			_exit(3);
		alarm(60); /* a hang is a finding too; normal inputs take milliseconds */
		LLVMFuzzerTestOneInput(p, size);
		_exit(0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	int good = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	failed += !good;
	fprintf(tap, "%s %d - %s", good ? "ok" : "not ok", ++n, path);
	if (!good)
		fprintf(tap, WIFSIGNALED(st) ? " (signal %d)" : " (exit %d)", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	fprintf(tap, "\n");
	fflush(tap);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir"), *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	const char *name = strncmp(base, "replay_", 7) ? base : base + 7;
	/* TAP on a copy of stdout; the harness's own output (htstat prints) goes nowhere */
	tap = fdopen(dup(1), "w");
	int null = open("/dev/null", O_WRONLY);
	if (!tap || null < 0 || dup2(null, 1) < 0)
		return 1;
	for (int k = 0; k < 2; k++) {
		char dir[4096];
		struct dirent **e;
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", top ? top : "..", k ? "regress" : "seeds", name);
		int m = scandir(dir, &e, NULL, by_name);
		for (int i = 0; i < m; i++) {
			char p[8192];
			snprintf(p, sizeof(p), "%s/%s", dir, e[i]->d_name);
			if (e[i]->d_name[0] != '.')
				one(p);
			free(e[i]);
		}
		if (m > 0)
			free(e);
		else if (!k)
			fprintf(tap, "not ok %d - no seeds in %s\n", ++n, dir), failed++;
	}
	fprintf(tap, "1..%d\n", n);
	return failed != 0;
}
