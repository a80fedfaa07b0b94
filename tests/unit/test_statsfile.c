/*
 * The stats file: created 0600 for the writer's user, read back exactly,
 * never torn while a writer publishes (seqlock), refused to other users and
 * for files whose owner does not run the process; the JSON parses; htstat
 * shows this live process in text and --json.
 */
#define _GNU_SOURCE
#include "tap.h"
#include "core/statsfile.h"
#include <json-c/json.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ht_statsfile *w;
static _Atomic int stop;

static void fill(struct ht_sf_data *d, uint64_t k)
{
	memset(d, 0, sizeof(*d));
	d->st.size = sizeof(d->st);
	d->st.enabled = 1;
	d->st.fast_node = 0;
	d->st.slow_node = 1;
	d->st.fast_quota = 1ull << 30;
	d->st.fast_used = 512ull << 20;
	d->st.slow_used = 2ull << 30;
	d->st.samples = k;
	d->st.epochs = k;
	d->promote_per_s = 12.5;
	d->samples_per_s = 2000;
	d->sampler_cpu_share = 0.008;
	snprintf(d->source, sizeof(d->source), "software");
	d->nranges = 1;
	d->ranges[0] = (struct ht_sf_range){ 0x7f0000000000 + k, 2 << 20, 0.5, 1.0, 3, 1 };
	d->nsites = 1;
	d->sites[0].allocs = k;
	d->sites[0].live_bytes = 6 << 20;
	d->sites[0].heat = 0.9;
	d->sites[0].tier = 0;
	snprintf(d->sites[0].name, sizeof(d->sites[0].name), "make_\"hot\"+0x1c");
}

static void *writer(void *arg)
{
	struct ht_sf_data d;
	for (uint64_t k = 1; !atomic_load(&stop); k++) {
		fill(&d, k);
		ht_statsfile_publish(w, &d);
	}
	return NULL;
}

static int run(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, len - 1, p) : 0;
	out[n] = 0;
	return p ? pclose(p) : -1;
}

int main(void)
{
	char dir[] = "/tmp/ht-sf-XXXXXX", why[512];
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	int pid = getpid();
	w = ht_statsfile_create(dir, pid, why, sizeof(why));
	if (!ok(w != NULL, "stats file created in %s %s", dir, why))
		tap_bail(why);
	struct stat st;
	ok(stat(ht_statsfile_path(w), &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_uid == getuid(),
	   "%s: mode 0600, owned by the process user", ht_statsfile_path(w));
	struct ht_statsfile *r = ht_statsfile_open(dir, pid, why, sizeof(why));
	ok(r != NULL, "reader opens it %s", why);
	struct ht_sf_data d, e;
	ok(r && ht_statsfile_read(r, &d) < 0, "nothing to read before the first snapshot");
	fill(&e, 42);
	ht_statsfile_publish(w, &e);
	ok(r && ht_statsfile_read(r, &d) == 0 && !memcmp(&d, &e, sizeof(d)), "snapshot read back byte for byte");

	/* torn reads: every field of a snapshot comes from the same k */
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	int torn = 0, reads = 0;
	for (int i = 0; i < 20000; i++)
		if (ht_statsfile_read(r, &d) == 0) {
			reads++;
			torn += d.st.samples != d.st.epochs || d.sites[0].allocs != d.st.samples ||
				d.ranges[0].start != 0x7f0000000000 + d.st.samples;
		}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	ok(reads > 0 && torn == 0, "%d reads against a busy writer, %d torn", reads, torn);

	/* JSON */
	char js[32768];
	fill(&e, 7);
	ht_sf_json(&e, pid, js, sizeof(js));
	json_object *o = json_tokener_parse(js), *v, *a;
	ok(o != NULL, "JSON parses");
	ok(o && json_object_object_get_ex(o, "fast_used", &v) && json_object_get_int64(v) == 512 << 20,
	   "JSON fast_used");
	ok(o && json_object_object_get_ex(o, "top_sites", &a) && json_object_array_length(a) == 1 &&
	   json_object_object_get_ex(json_object_array_get_idx(a, 0), "name", &v) &&
	   !strcmp(json_object_get_string(v), "make_\"hot\"+0x1c"), "JSON site name round-trips (quotes escaped)");
	json_object_put(o);

	/* htstat on this (live) process */
	ht_statsfile_publish(w, &e);
	const char *top = getenv("abs_top_builddir");
	char cmd[512], out[16384];
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat -d %s %d 2>&1", top ? top : "..", dir, pid);
	int rc = run(cmd, out, sizeof(out));
	ok(rc == 0 && strstr(out, "fast tier   512.0 MiB used of 1.0 GiB quota") && strstr(out, "slow tier 2.0 GiB used") && strstr(out, "12.5 promotions/s") &&
	   strstr(out, "sampler CPU 0.80%") && strstr(out, "make_\"hot\"+0x1c") && strstr(out, "pin_fast"),
	   "htstat shows quota use, migrations, sampler share, ranges and sites");
	if (rc)
		tap_diag("%s", out);
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat --json -i 0.1 -n 2 -d %s %d", top ? top : "..", dir, pid);
	rc = run(cmd, out, sizeof(out));
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	o = json_tokener_parse(out);
	json_object *o2 = nl ? json_tokener_parse(nl + 1) : NULL;
	ok(rc == 0 && o && json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == pid && o2,
	   "htstat --json -n 2: two JSON lines for this pid");
	json_object_put(o);
	json_object_put(o2);
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat -d %s 1 2>&1", top ? top : "..", dir);
	rc = run(cmd, out, sizeof(out));
	ok(rc != 0 && strstr(out, "htstat: "), "htstat on a process without stats: one error line, exit %d", WEXITSTATUS(rc));

	/* permissions */
	if (getuid() == 0) {
		pid_t c = fork();
		if (c == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(2);
			struct ht_statsfile *x = ht_statsfile_open(dir, pid, why, sizeof(why));
			_exit(x == NULL && strstr(why, "ermission") ? 0 : 1);
		}
		int status;
		waitpid(c, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "another user is refused");
		chown(ht_statsfile_path(w), 65534, 65534);
		struct ht_statsfile *x = ht_statsfile_open(dir, pid, why, sizeof(why));
		ok(x == NULL && strstr(why, "refusing"), "a file whose owner does not run the process is refused: %s", why);
		chown(ht_statsfile_path(w), 0, 0);
	} else {
		tap_skip("switching users needs root");
		tap_skip("chown needs root");
	}
	/* a file left by a process that is gone */
	pid_t c = fork();
	if (c == 0) {
		char why2[256];
		_exit(ht_statsfile_create(dir, getpid(), why2, sizeof(why2)) ? 0 : 1);
	}
	waitpid(c, NULL, 0);
	struct ht_statsfile *x = ht_statsfile_open(dir, c, why, sizeof(why));
	char left[300];
	snprintf(left, sizeof(left), "%s/%d.stats", dir, c);
	ok(x == NULL && access(left, F_OK) != 0 && strstr(why, "removed"),
	   "a dead process's leftover file is not shown, and removed: %s", why);
	unlink(left);

	/* a full tmpfs: no file rather than a SIGBUS at the first publish (child: a private mount) */
	c = fork();
	if (c == 0) {
		char full[300], filler[320], why2[256];
		snprintf(full, sizeof(full), "%s/full", dir);
		if (mkdir(full, 0700) || unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", full, "tmpfs", 0, "size=16k,mode=0700"))
			_exit(3);
		snprintf(filler, sizeof(filler), "%s/fill", full);
		FILE *ff = fopen(filler, "w");
		static char blk[4096];
		while (ff && fwrite(blk, 1, sizeof(blk), ff) == sizeof(blk) && fflush(ff) == 0)
			;
		struct ht_statsfile *x = ht_statsfile_create(full, getpid(), why2, sizeof(why2));
		if (x) { /* before the fix: created sparse, and this store faults */
			struct ht_sf_data dd;
			fill(&dd, 1);
			ht_statsfile_publish(x, &dd);
			_exit(1);
		}
		_exit(strstr(why2, "No space left") ? 0 : 2);
	}
	int status = 0;
	waitpid(c, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		tap_skip("mounting a tmpfs in a private namespace needs root");
	else
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "full tmpfs: no stats file, no SIGBUS (%s %d)",
		   WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/full", dir);
	rmdir(sub);

	/* directories: never created when named, refused when someone else may write them */
	snprintf(sub, sizeof(sub), "%s/missing", dir);
	ok(!ht_statsfile_create(sub, pid, why, sizeof(why)) && access(sub, F_OK) != 0 && strstr(why, "No such file"),
	   "stats_dir that does not exist: not created: %s", why);
	snprintf(sub, sizeof(sub), "%s/open", dir);
	mkdir(sub, 0700);
	chmod(sub, 01777);
	ok(!ht_statsfile_create(sub, pid, why, sizeof(why)) && strstr(why, "writable by other users"),
	   "a sticky world-writable directory is refused: %s", why);
	if (getuid() == 0) {
		chown(sub, 65534, 65534);
		chmod(sub, 0700);
		ok(!ht_statsfile_create(sub, pid, why, sizeof(why)) && strstr(why, "owned by uid 65534"),
		   "a directory of another user is refused: %s", why);
	} else
		tap_skip("chown needs root");
	rmdir(sub);

	ht_statsfile_close(r, 0);
	char path[300];
	snprintf(path, sizeof(path), "%s", ht_statsfile_path(w));
	ht_statsfile_close(w, 1);
	ok(access(path, F_OK) != 0, "closing with unlink leaves nothing behind");
	rmdir(dir);
	return tap_done();
}
