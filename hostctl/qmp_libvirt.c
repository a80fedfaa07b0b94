/* qmp_libvirt.c - QMP to a libvirt domain. libvirt owns the domain's QMP
 * socket, so commands go through libvirt-qemu's monitor passthrough; the
 * agent port's socket comes from the live domain XML (libvirt picks its path
 * when the XML names none). Parsed with libxml2, which libvirt itself links,
 * rather than by hand: the XML is the daemon's, of unbounded shape. */
#include "qmp.h"
#include "proto.h"
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lv {
	virConnectPtr conn;
	virDomainPtr dom;
	char name[256];
};

/* libvirt prints every error to stderr by default; ours go into why. */
static void quiet(void *u, virErrorPtr e) { }

static const char *lv_err(void)
{
	const char *m = virGetLastErrorMessage();
	return m ? m : "unknown libvirt error";
}

static json_object *lv_call(struct hc_qmp *q, json_object *m, const char *cmd, char *why)
{
	struct lv *l = q->priv;
	char *res = NULL, c[256];
	/* libvirt adds its own id and matches the reply; events stay with it. */
	if (virDomainQemuMonitorCommand(l->dom, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), &res, 0) < 0) {
		snprintf(why, HC_WHY, "QMP %s via libvirt (domain %s): %s", cmd, l->name, hc_clean(c, sizeof(c), lv_err()));
		return NULL;
	}
	json_object *r = json_tokener_parse(res);
	free(res);
	if (!r || !json_object_is_type(r, json_type_object)) {
		json_object_put(r);
		snprintf(why, HC_WHY, "QMP %s via libvirt (domain %s): reply is not a JSON object", cmd, l->name);
		return NULL;
	}
	return r;
}

static int lv_agent_path(struct hc_qmp *q, char *path, size_t len, char *why)
{
	struct lv *l = q->priv;
	char *xml = virDomainGetXMLDesc(l->dom, 0), c[256];
	if (!xml) {
		snprintf(why, HC_WHY, "domain %s: no XML: %s", l->name, hc_clean(c, sizeof(c), lv_err()));
		return -1;
	}
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	xmlXPathContextPtr x = doc ? xmlXPathNewContext(doc) : NULL;
	xmlXPathObjectPtr o = x ? xmlXPathEvalExpression((const xmlChar *)
		"/domain/devices/channel[target/@type='virtio' and target/@name='" HC_PORT_NAME "']", x) : NULL;
	int rc = -1, n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
	if (!doc || !o)
		snprintf(why, HC_WHY, "domain %s: its XML does not parse", l->name);
	else if (n != 1)
		snprintf(why, HC_WHY, "domain %s: %s virtio channel named " HC_PORT_NAME " in its XML (see examples/hypertier-domain.xml)",
			 l->name, n ? "more than one" : "no");
	else {
		xmlNodePtr ch = o->nodesetval->nodeTab[0];
		xmlChar *type = xmlGetProp(ch, (const xmlChar *)"type"), *mode = NULL, *p = NULL;
		for (xmlNodePtr k = ch->children; k; k = k->next)
			if (k->type == XML_ELEMENT_NODE && !xmlStrcmp(k->name, (const xmlChar *)"source") && !p) {
				p = xmlGetProp(k, (const xmlChar *)"path");
				mode = xmlGetProp(k, (const xmlChar *)"mode");
			}
		if (!type || xmlStrcmp(type, (const xmlChar *)"unix") || !p || !*p)
			snprintf(why, HC_WHY, "domain %s: channel " HC_PORT_NAME " is not a unix socket with a path", l->name);
		else if (mode && xmlStrcmp(mode, (const xmlChar *)"bind"))
			snprintf(why, HC_WHY, "domain %s: channel " HC_PORT_NAME " has source mode '%s'; QEMU must listen (mode='bind')",
				 l->name, hc_clean(c, sizeof(c), (const char *)mode));
		else if (strlen((const char *)p) >= len)
			snprintf(why, HC_WHY, "domain %s: channel " HC_PORT_NAME " socket path too long", l->name);
		else {
			snprintf(path, len, "%s", (const char *)p);
			rc = 0;
		}
		xmlFree(type);
		xmlFree(mode);
		xmlFree(p);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(x);
	xmlFreeDoc(doc);
	return rc;
}

static void lv_close(struct hc_qmp *q)
{
	struct lv *l = q->priv;
	if (l) {
		if (l->dom)
			virDomainFree(l->dom);
		if (l->conn)
			virConnectClose(l->conn);
		free(l);
	}
	q->priv = NULL;
}

static const struct hc_qmp_ops lv_ops = { lv_call, lv_agent_path, lv_close };

int hc_qmp_open_libvirt(struct hc_qmp *q, const char *spec, int timeout_ms, char *why)
{
	char name[256], uri[1024], c[256];
	if (hc_libvirt_spec(spec, name, sizeof(name), uri, sizeof(uri)) != 1) {
		snprintf(why, HC_WHY, "bad VM '%s': use libvirt:DOMAIN or libvirt:DOMAIN@URI", hc_clean(c, sizeof(c), spec));
		return -1;
	}
	virSetErrorFunc(NULL, quiet);
	struct lv *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	q->ops = &lv_ops;
	q->priv = l;
	l->conn = virConnectOpen(uri);
	if (!l->conn) {
		snprintf(why, HC_WHY, "cannot connect to libvirt at %s: %s", uri, hc_clean(c, sizeof(c), lv_err()));
		return -1;
	}
	l->dom = virDomainLookupByName(l->conn, name);
	if (!l->dom) {
		snprintf(why, HC_WHY, "no libvirt domain %s at %s: %s", name, uri, hc_clean(c, sizeof(c), lv_err()));
		return -1;
	}
	if (virDomainIsActive(l->dom) != 1) {
		snprintf(why, HC_WHY, "libvirt domain %s is not running", name);
		return -1;
	}
	return 0;
}
