/* qmp.c - QMP over a unix socket. Events are skipped; replies are matched by
 * id; each command has one deadline that skipped lines do not extend, and
 * connect has one too, so a wedged QEMU cannot hang hostctl. */
#include "qmp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `info mtree -f` of a large VM runs to a few hundred KiB. */
enum { QMP_MAX_LINE = 8 << 20 };

static json_object *sock_call(struct hc_qmp *q, json_object *m, const char *cmd, char *why);
static void sock_close(struct hc_qmp *q) { hc_chan_close(&q->ch); }
static const struct hc_qmp_ops sock_ops = { sock_call, NULL, sock_close };

int hc_libvirt_spec(const char *spec, char *name, size_t nlen, char *uri, size_t ulen)
{
	size_t pl = strlen(HC_LIBVIRT_PREFIX);
	if (strncmp(spec, HC_LIBVIRT_PREFIX, pl))
		return 0;
	spec += pl;
	/* Domain names cannot hold '@' here; URIs may (user@host), so split at the first. */
	size_t n = strcspn(spec, "@");
	const char *u = spec[n] ? spec + n + 1 : HC_LIBVIRT_DEFAULT_URI;
	if (n == 0 || n >= nlen || !*u || strlen(u) >= ulen)
		return -1;
	memcpy(name, spec, n);
	name[n] = 0;
	snprintf(uri, ulen, "%s", u);
	return 1;
}

int hc_qmp_open_fd(struct hc_qmp *q, int fd, size_t max_line, int timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->timeout_ms = timeout_ms;
	q->ops = &sock_ops;
	return hc_chan_init(&q->ch, fd, max_line);
}

int hc_qmp_open(struct hc_qmp *q, const char *path, int timeout_ms, char *why)
{
	memset(q, 0, sizeof(*q));
	q->ch.fd = -1;
	q->timeout_ms = timeout_ms;
	q->ops = &sock_ops;
	if (!strncmp(path, HC_LIBVIRT_PREFIX, strlen(HC_LIBVIRT_PREFIX))) {
		if (hc_qmp_open_libvirt)
			return hc_qmp_open_libvirt(q, path, timeout_ms, why);
		snprintf(why, HC_WHY, "%s: this program was built without libvirt (configure found no libvirt-dev)", path);
		return -1;
	}
	int fd = hc_unix_connect_ms(path, timeout_ms, why);
	if (fd < 0)
		return -1;
	if (hc_chan_init(&q->ch, fd, QMP_MAX_LINE) < 0) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	json_object *g = NULL;
	char w[HC_WHY];
	if (hc_chan_read(&q->ch, timeout_ms, &g, w) != 1 || !json_object_object_get_ex(g, "QMP", NULL)) {
		snprintf(why, HC_WHY, "%s: no QMP greeting (%s; QEMU serves one QMP client at a time)", path, g ? "not QMP" : w);
		json_object_put(g);
		hc_qmp_close(q);
		return -1;
	}
	json_object_put(g);
	json_object *r = hc_qmp_exec(q, "qmp_capabilities", NULL, why);
	if (!r) {
		hc_qmp_close(q);
		return -1;
	}
	json_object_put(r);
	return 0;
}

json_object *hc_qmp_exec(struct hc_qmp *q, const char *cmd, json_object *args, char *why)
{
	json_object *m = json_object_new_object(), *v;
	json_object_object_add(m, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(m, "arguments", args);
	json_object *r = q->ops ? q->ops->call(q, m, cmd, why) : NULL;
	json_object_put(m);
	if (!q->ops)
		snprintf(why, HC_WHY, "QMP %s: not connected", cmd);
	if (!r)
		return NULL;
	if (json_object_object_get_ex(r, "return", &v)) {
		json_object_get(v);
		json_object_put(r);
		return v;
	}
	json_object *e, *cls = NULL, *desc = NULL;
	if (json_object_object_get_ex(r, "error", &e)) {
		json_object_object_get_ex(e, "class", &cls);
		json_object_object_get_ex(e, "desc", &desc);
	}
	char a[64], b[160];
	snprintf(why, HC_WHY, "QMP %s: %s: %s", cmd, hc_clean(a, sizeof(a), cls ? json_object_get_string(cls) : "?"),
		 hc_clean(b, sizeof(b), desc ? json_object_get_string(desc) : "malformed reply"));
	json_object_put(r);
	return NULL;
}

/* QMP socket: our id on each command; events and foreign replies skipped. */
static json_object *sock_call(struct hc_qmp *q, json_object *m, const char *cmd, char *why)
{
	unsigned long id = ++q->id;
	long long end = hc_now_ms() + q->timeout_ms;
	int skipped = 0;
	json_object_object_add(m, "id", json_object_new_int64(id));
	if (hc_chan_write(&q->ch, m, q->timeout_ms, why) < 0)
		return NULL;
	for (;;) {
		json_object *r = NULL, *idv;
		long long left = end - hc_now_ms();
		int rr = hc_chan_read(&q->ch, left > 0 ? (int)left : 0, &r, why);
		if (rr < 0 && skipped && hc_deadline_fired() == HC_DL_NONE && hc_now_ms() >= end)
			snprintf(why, HC_WHY, "QMP %s: no reply within %d ms (%d events or other replies skipped)", cmd,
				 q->timeout_ms, skipped);
		if (rr <= 0) {
			if (rr == 0)
				snprintf(why, HC_WHY, "QEMU closed the QMP connection during %s", cmd);
			return NULL;
		}
		if (json_object_object_get_ex(r, "event", NULL)) {
			json_object_put(r);
			skipped++;
			continue;
		}
		if (!json_object_object_get_ex(r, "id", &idv) || json_object_get_int64(idv) != (int64_t)id) {
			json_object_put(r); /* a reply to something else: not ours */
			skipped++;
			continue;
		}
		return r;
	}
}

char *hc_qmp_hmp(struct hc_qmp *q, const char *cmdline, char *why)
{
	json_object *a = json_object_new_object();
	json_object_object_add(a, "command-line", json_object_new_string(cmdline));
	json_object *r = hc_qmp_exec(q, "human-monitor-command", a, why);
	if (!r)
		return NULL;
	char *s = json_object_is_type(r, json_type_string) ? strdup(json_object_get_string(r)) : NULL;
	if (!s)
		snprintf(why, HC_WHY, "HMP %s: reply is not a string", cmdline);
	json_object_put(r);
	return s;
}

char *hc_qmp_qom_str(struct hc_qmp *q, const char *path, const char *prop, char *why)
{
	json_object *a = json_object_new_object();
	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "property", json_object_new_string(prop));
	json_object *r = hc_qmp_exec(q, "qom-get", a, why);
	if (!r)
		return NULL;
	char *s = json_object_is_type(r, json_type_string) ? strdup(json_object_get_string(r)) : NULL;
	if (!s)
		snprintf(why, HC_WHY, "qom-get %s %s: not a string", path, prop);
	json_object_put(r);
	return s;
}

void hc_qmp_close(struct hc_qmp *q)
{
	if (q->ops)
		q->ops->close(q);
	else
		hc_chan_close(&q->ch);
	q->ops = NULL;
}
