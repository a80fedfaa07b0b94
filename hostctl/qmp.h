/* qmp.h - a small QMP client: greeting, qmp_capabilities, execute with id.
 * Two transports share the command layer: QEMU's own QMP socket, or
 * libvirt's monitor passthrough for a libvirt domain (qmp_libvirt.c). */
#ifndef HC_QMP_H
#define HC_QMP_H
#include "chan.h"

#define HC_LIBVIRT_PREFIX "libvirt:"
#define HC_LIBVIRT_DEFAULT_URI "qemu:///system"

struct hc_qmp;
struct hc_qmp_ops {
	/* Send one {"execute", "arguments"} message; the whole reply or NULL. */
	json_object *(*call)(struct hc_qmp *q, json_object *msg, const char *cmd, char *why);
	/* Host end of the org.hypertier.0 port, where the transport knows it
	 * (NULL: find it through QMP). 0 found, -1 with why. */
	int (*agent_path)(struct hc_qmp *q, char *path, size_t len, char *why);
	void (*close)(struct hc_qmp *q);
};

struct hc_qmp {
	struct hc_chan ch;
	unsigned long id;
	int timeout_ms;
	const struct hc_qmp_ops *ops;
	void *priv;                 /* the transport's own state */
};

/* spec: a QMP socket path, or libvirt:DOMAIN[@URI] (default URI
 * qemu:///system) where hostctl is built with libvirt. */
int hc_qmp_open(struct hc_qmp *q, const char *spec, int timeout_ms, char *why);
/* The socket transport on a connected fd, greeting not read (tests, fuzzing). */
int hc_qmp_open_fd(struct hc_qmp *q, int fd, size_t max_line, int timeout_ms);
/* libvirt:DOMAIN[@URI] -> name, uri; 1 if spec is one, 0 if not, -1 bad. */
int hc_libvirt_spec(const char *spec, char *name, size_t nlen, char *uri, size_t ulen);
/* In qmp_libvirt.c, linked into hostctl only (libvirt cannot be linked into
 * the static agent); weak so that other programs link without it. */
int hc_qmp_open_libvirt(struct hc_qmp *q, const char *spec, int timeout_ms, char *why) __attribute__((weak));
/* Run cmd (args may be NULL; the call takes its reference). Returns the
 * "return" value (caller puts it) or NULL with why ("QMP: <class>: <desc>"). */
json_object *hc_qmp_exec(struct hc_qmp *q, const char *cmd, json_object *args, char *why);
/* Run an HMP command line; returns a malloc'd string or NULL. */
char *hc_qmp_hmp(struct hc_qmp *q, const char *cmdline, char *why);
/* qom-get of a string property; returns a malloc'd string or NULL. */
char *hc_qmp_qom_str(struct hc_qmp *q, const char *path, const char *prop, char *why);
void hc_qmp_close(struct hc_qmp *q);
#endif
