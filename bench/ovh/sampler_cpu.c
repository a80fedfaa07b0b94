/*
 * sampler_cpu.c - the sampler thread's CPU share at a given sample rate.
 * A producer thread reports samples at RATE per second (paced every 1 ms)
 * through the software source; the real sampler thread drains them every
 * drain_interval into the real engine (simulated placement behind it).
 * CPU share = the sampler thread's CPU time / wall time.
 * Usage: sampler-cpu RATE SECONDS [HYPERTIER_CONF]. Prints one CSV line.
 *
 * sampler-cpu replay N: the replay source instead (it runs at full speed by
 * design): N samples written to a trace, drained synchronously through the
 * sampler into the engine; prints CPU ns per sample and the share of one
 * core that costs at 10k and 100k samples/s.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "actuator/sim.h"
#include "clock.h"
#include "plan/engine.h"
#include "source/sampler.h"
#include "source/software.h"
#include "source/trace.h"

#define BASE 0x300000000000ULL
#define LEN (256u << 20)

static atomic_int stop;
static long rate;

static void *producer(void *arg)
{
	uint64_t r = 0x2545F4914F6CDD1DULL, next = wall_ns();
	long per_ms = rate / 1000, carry = 0;
	while (!atomic_load(&stop)) {
		carry += rate % 1000;
		long n = per_ms + carry / 1000;
		carry %= 1000;
		for (long i = 0; i < n; i++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			ht_software_push(BASE + r % LEN, 1, 0);
		}
		next += 1000000;
		struct timespec ts = { (time_t)(next / 1000000000), (long)(next % 1000000000) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return NULL;
}

static struct ht_engine *sim_engine(const struct ht_conf *c, struct ht_sim **simp, struct ht_actuator *act)
{
	struct ht_sim_params sp = { .fast_bytes = LEN / 4, .slow_bytes = LEN, .page_size = 4096,
				    .fast_node = 0, .slow_node = 1 };
	struct ht_sim *sim = ht_sim_create(&sp);
	ht_sim_add_span(sim, BASE, LEN);
	ht_actuator_sim_init(act, sim);
	struct ht_topo t;
	memset(&t, 0, sizeof(t));
	t.nr_nodes = 2, t.fast = 0, t.slow = 1, t.tiered = 1;
	t.nodes[0] = (struct ht_node){ .id = 0, .nr_cpus = 1, .total = sp.fast_bytes, .free = sp.fast_bytes };
	t.nodes[1] = (struct ht_node){ .id = 1, .total = sp.slow_bytes, .free = sp.slow_bytes };
	struct ht_engine *e = ht_engine_create(c, &t, act);
	if (e)
		ht_engine_add_range(e, BASE, LEN, HT_ORIGIN_USER);
	*simp = sim;
	return e;
}

/* Parse conf, build the engine on simulated placement and a sampler on src. 0, or the exit code after a message. */
static int setup(const char *conf, const struct ht_source_ops *src, struct ht_conf *c, struct ht_sim **sim,
		 struct ht_actuator *act, struct ht_engine **e, struct ht_sampler **sp)
{
	char why[256];
	ht_conf_defaults(c);
	if (ht_conf_parse(c, conf, why, sizeof(why))) {
		fprintf(stderr, "sampler-cpu: %s\n", why);
		return 2;
	}
	*e = sim_engine(c, sim, act); /* act is borrowed: the caller keeps it */
	*sp = ht_sampler_create(c, src, ht_engine_ingest, *e, why, sizeof(why));
	if (!*e || !*sp) {
		fprintf(stderr, "sampler-cpu: %s\n", *sp ? "engine" : why);
		return 1;
	}
	return 0;
}

static int replay(long n)
{
	char path[] = "/tmp/ht-sampler-cpu-XXXXXX", why[256], conf[512];
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	struct ht_trace_writer *w = ht_trace_writer_open(path, why, sizeof(why));
	if (!w) {
		fprintf(stderr, "sampler-cpu: %s\n", why);
		return 1;
	}
	struct ht_sample s[256];
	memset(s, 0, sizeof(s));
	uint64_t r = 0x2545F4914F6CDD1DULL;
	for (long i = 0; i < n; i += 256) {
		for (int k = 0; k < 256; k++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			s[k].addr = BASE + r % LEN, s[k].weight = 1, s[k].tid = 1, s[k].time_ns = (uint64_t)(i + k) * 1000;
		}
		ht_trace_write_samples(w, s, 256);
	}
	ht_trace_writer_close(w);
	snprintf(conf, sizeof(conf), "sample=replay,replay=%s", path);
	struct ht_conf c;
	struct ht_sim *sim;
	struct ht_engine *e;
	struct ht_actuator act;
	struct ht_sampler *sp;
	int rc = setup(conf, &ht_source_replay, &c, &sim, &act, &e, &sp);
	if (rc) {
		unlink(path);
		return rc;
	}
	uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), got = 0;
	long k;
	while ((k = ht_sampler_drain_once(sp)) > 0)
		got += (uint64_t)k;
	double ns = got ? (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / got : 0;
	printf("source,samples,cpu_ns_per_sample,share_at_10k_pct,share_at_100k_pct\n");
	printf("replay,%llu,%.0f,%.4f,%.4f\n", (unsigned long long)got, ns, ns * 1e4 / 1e9 * 100, ns * 1e5 / 1e9 * 100);
	ht_sampler_destroy(sp);
	ht_engine_destroy(e);
	ht_sim_destroy(sim);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return replay(argc > 2 ? atol(argv[2]) : 1000000);
	rate = argc > 1 ? atol(argv[1]) : 10000;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	char conf[512];
	snprintf(conf, sizeof(conf), "sample=software%s%s", argc > 3 ? "," : "", argc > 3 ? argv[3] : "");
	struct ht_conf c;
	struct ht_sim *sim;
	struct ht_engine *e;
	struct ht_actuator act;
	struct ht_sampler *s;
	int rc = setup(conf, &ht_source_software, &c, &sim, &act, &e, &s);
	if (rc)
		return rc;
	ht_sampler_start(s);
	pthread_t th;
	uint64_t t0 = wall_ns();
	pthread_create(&th, NULL, producer, NULL);
	struct timespec d = { (time_t)secs, (long)((secs - (long)secs) * 1e9) };
	nanosleep(&d, NULL);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	ht_sampler_stop(s);
	double wall = (wall_ns() - t0) / 1e9;
	struct ht_source_stats st;
	uint64_t cpu;
	ht_sampler_get_stats(s, &st, &cpu);
	printf("rate,seconds,samples,lost,sampler_cpu_ms,cpu_share_pct,ns_per_sample\n");
	printf("%ld,%.2f,%llu,%llu,%.2f,%.4f,%.0f\n", rate, wall, (unsigned long long)st.samples,
	       (unsigned long long)st.lost, cpu / 1e6, 100.0 * cpu / 1e9 / wall,
	       st.samples ? (double)cpu / st.samples : 0);
	ht_sampler_destroy(s);
	ht_engine_destroy(e);
	ht_sim_destroy(sim);
	return 0;
}
