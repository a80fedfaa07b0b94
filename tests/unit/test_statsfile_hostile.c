/*
 * The stats file is untrusted input to htstat (issue 14 item 6): strings
 * without a NUL and counts past HT_SF_TOP are bounded, a sequence counter
 * stuck odd is given up after HT_SF_READ_TRIES tries (ETIMEDOUT), and a file
 * truncated under a running reader is an error, not SIGBUS.
 */
#define _GNU_SOURCE
#include "tap.h"
#include "core/statsfile.h"
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/ht-sfh-XXXXXX", out[65536];
static int pid;

/* htstat ARGS on this process; stdout and stderr into out; the wait status. */
static int htstat(const char *args)
{
	const char *top = getenv("abs_top_builddir");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat %s -d %s %d 2>&1", top ? top : "..", args, dir, pid);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = 0;
	return p ? pclose(p) : -1;
}

static size_t run_of_a(const char *s)
{
	size_t n = 0;
	while (s && s[n] == 'A')
		n++;
	return n;
}

int main(void)
{
	char why[512], js[32768];
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	pid = getpid();
	struct ht_statsfile *w = ht_statsfile_create(dir, pid, why, sizeof(why)), *r;
	if (!w || !(r = ht_statsfile_open(dir, pid, why, sizeof(why))))
		tap_bail(why);

	/* every byte 'A': no string ends, counts are 0x41414141 */
	struct ht_sf_data d, e;
	memset(&d, 'A', sizeof(d));
	ht_statsfile_publish(w, &d);
	ok(ht_statsfile_read(r, &e) == 0 && strlen(e.source) < sizeof(e.source) && e.nranges == HT_SF_TOP &&
	   e.nsites == HT_SF_TOP && strlen(e.sites[HT_SF_TOP - 1].name) < sizeof(e.sites[0].name),
	   "read: strings terminated, counts clamped to %d", HT_SF_TOP);
	ht_sf_json(&d, pid, js, sizeof(js));
	json_object *o = json_tokener_parse(js), *v;
	ok(o && json_object_object_get_ex(o, "source", &v) && json_object_get_string_len(v) <= (int)sizeof(d.source),
	   "ht_sf_json on an unterminated source stops at its %zu bytes", sizeof(d.source));
	json_object_put(o);
	int st = htstat("");
	char *src = strstr(out, "source ");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && src && run_of_a(src + 7) < sizeof(d.source),
	   "htstat prints at most %zu bytes of an unterminated source", sizeof(d.source) - 1);
	st = htstat("--json");
	o = json_tokener_parse(out);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && o, "htstat --json on it: valid JSON");
	json_object_put(o);

	/* a writer that died mid-update: the counter stays odd */
	char path[400];
	snprintf(path, sizeof(path), "%s", ht_statsfile_path(w));
	int fd = open(path, O_WRONLY);
	uint64_t odd = 7;
	if (fd < 0 || pwrite(fd, &odd, sizeof(odd), HT_SF_SEQ_OFFSET) != sizeof(odd))
		tap_bail("pwrite seq");
	errno = 0;
	ok(ht_statsfile_read(r, &e) < 0 && errno == ETIMEDOUT, "sequence stuck odd: read gives up with ETIMEDOUT");
	st = htstat("");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, "stuck odd"), "htstat says so and exits 1: %s", out);

	/* truncated under a reader that has the file open */
	ht_statsfile_publish(w, &d);
	if (ftruncate(fd, 0) < 0)
		tap_bail("ftruncate");
	pid_t c = fork();
	if (c == 0)
		_exit(ht_statsfile_read(r, &e) < 0 && errno == ENODATA ? 0 : 1);
	waitpid(c, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "read of a truncated file: ENODATA, no SIGBUS (status 0x%x)", st);
	ht_statsfile_close(r, 0);
	close(fd);

	/* htstat -i running while the file is truncated: wait for its first report, then cut */
	ht_statsfile_close(w, 1);
	w = ht_statsfile_create(dir, pid, why, sizeof(why));
	if (!w)
		tap_bail(why);
	ht_statsfile_publish(w, &d);
	const char *top = getenv("abs_top_builddir");
	char cmd[512], line[8192];
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat --json -i 0.05 -n 100000 -d %s %d 2>&1", top ? top : "..", dir, pid);
	FILE *p = popen(cmd, "r");
	int first = p && fgets(line, sizeof(line), p) && line[0] == '{';
	if (truncate(path, 0) < 0)
		tap_bail("truncate");
	int trunc = 0;
	while (p && fgets(line, sizeof(line), p))
		trunc |= strstr(line, "truncated") != NULL;
	st = p ? pclose(p) : -1;
	ok(first && WIFEXITED(st) && WEXITSTATUS(st) == 1 && trunc,
	   "htstat -i: a file truncated while it runs ends it with an error, not SIGBUS (status 0x%x)", st);
	ht_statsfile_close(w, 1);
	rmdir(dir);
	return tap_done();
}
