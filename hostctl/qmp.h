/* qmp.h - a small QMP client: greeting, qmp_capabilities, execute with id. */
#ifndef HC_QMP_H
#define HC_QMP_H
#include "chan.h"

struct hc_qmp {
	struct hc_chan ch;
	unsigned long id;
	int timeout_ms;
};

int hc_qmp_open(struct hc_qmp *q, const char *path, int timeout_ms, char *why);
/* Run cmd (args may be NULL; the call takes its reference). Returns the
 * "return" value (caller puts it) or NULL with why ("QMP: <class>: <desc>"). */
json_object *hc_qmp_exec(struct hc_qmp *q, const char *cmd, json_object *args, char *why);
/* Run an HMP command line; returns a malloc'd string or NULL. */
char *hc_qmp_hmp(struct hc_qmp *q, const char *cmdline, char *why);
/* qom-get of a string property; returns a malloc'd string or NULL. */
char *hc_qmp_qom_str(struct hc_qmp *q, const char *path, const char *prop, char *why);
void hc_qmp_close(struct hc_qmp *q);
#endif
