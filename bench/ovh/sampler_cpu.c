/*
 * sampler_cpu.c - the sampler thread's CPU share at a given sample rate.
 * A producer thread reports samples at RATE per second (paced every 1 ms)
 * through the software source; the real sampler thread drains them every
 * drain_interval into the real engine (simulated placement behind it).
 * CPU share = the sampler thread's CPU time / wall time.
 * Usage: sampler-cpu RATE SECONDS [HYPERTIER_CONF]. Prints one CSV line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actuator/sim.h"
#include "clock.h"
#include "plan/engine.h"
#include "source/sampler.h"
#include "source/software.h"

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

int main(int argc, char **argv)
{
	rate = argc > 1 ? atol(argv[1]) : 10000;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	char conf[512], why[256];
	snprintf(conf, sizeof(conf), "sample=software%s%s", argc > 3 ? "," : "", argc > 3 ? argv[3] : "");
	struct ht_conf c;
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, conf, why, sizeof(why))) {
		fprintf(stderr, "sampler-cpu: %s\n", why);
		return 2;
	}
	struct ht_sim_params sp = { .fast_bytes = LEN / 4, .slow_bytes = LEN, .page_size = 4096,
				    .fast_node = 0, .slow_node = 1 };
	struct ht_sim *sim = ht_sim_create(&sp);
	ht_sim_add_span(sim, BASE, LEN);
	struct ht_actuator act;
	ht_actuator_sim_init(&act, sim);
	struct ht_topo t;
	memset(&t, 0, sizeof(t));
	t.nr_nodes = 2, t.fast = 0, t.slow = 1, t.tiered = 1;
	t.nodes[0] = (struct ht_node){ .id = 0, .nr_cpus = 1, .total = sp.fast_bytes, .free = sp.fast_bytes };
	t.nodes[1] = (struct ht_node){ .id = 1, .total = sp.slow_bytes, .free = sp.slow_bytes };
	struct ht_engine *e = ht_engine_create(&c, &t, &act);
	ht_engine_add_range(e, BASE, LEN, HT_ORIGIN_USER);
	struct ht_sampler *s = ht_sampler_create(&c, &ht_source_software, ht_engine_ingest, e, why, sizeof(why));
	if (!e || !s) {
		fprintf(stderr, "sampler-cpu: %s\n", s ? "engine" : why);
		return 1;
	}
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
