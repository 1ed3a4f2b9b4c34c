/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambit-cni: a chained CNI plugin that tells the node's ambit agent about pod sandboxes over its
 * enrollment socket, so an ambient pod's containers start only once its capture is in place.
 * See docs/cni.md.
 */
#ifndef AMBIT_CNI_H
#define AMBIT_CNI_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

#define CNI_VERSION_LATEST "1.1.0"
#define CNI_DEFAULT_SOCKET "/var/run/ambit/enrollment.sock"
#define CNI_DEFAULT_RECORD_DIR "/var/run/ambit/cni-pods"
#define CNI_DEFAULT_TIMEOUT_MS 30000
#define CNI_MAX_IPS 16
#define CNI_MAX_EXCLUDED 64

/* CNI spec well-known error codes, and ambit-cni's own (100+). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN_LATER = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	/* The agent refused the pod (a nack): details carry its code and reason. */
	AMBIT_CNI_ERR_REFUSED = 100,
	/* The pod's cgroup could not be found (outbound capture is keyed on it). */
	AMBIT_CNI_ERR_NO_CGROUP = 101,
};

/* A failure on its way to stdout as CNI error JSON. */
struct cni_error {
	int code;
	char msg[512];
	char details[4608];
};

/* Sets `e` (msg formatted, details as given or NULL) and returns -1, for `return cni_fail(...)`. */
int cni_fail(struct cni_error *e, int code, const char *details, const char *msg_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The plugin's network configuration (stdin), what ambit-cni reads of it. */
struct cni_conf {
	struct json_value root;
	const char *cni_version;
	const char *socket_path;
	const char *record_dir;
	int timeout_ms;
	const char *excluded[CNI_MAX_EXCLUDED];
	size_t excluded_count;
	/* Where to look for a pod cgroup named after its uid when the runtime passes none. */
	const char *pod_cgroup_root;
	/* runtimeConfig.cgroupPath (the runtime's "cgroupPath" capability), or NULL. */
	const char *runtime_cgroup;
	/* prevResult, or NULL. */
	const struct json_value *prev_result;
};

int conf_parse(char *text, size_t len, struct cni_conf *conf, struct cni_error *e);
void conf_free(struct cni_conf *conf);
bool conf_excluded(const struct cni_conf *conf, const char *ns);
bool cni_version_supported(const char *v);
/* The pod IPs of prevResult.ips[].address (prefix length dropped), deduplicated. */
int prev_result_ips(const struct json_value *prev, char ips[][64], size_t *count, struct cni_error *e);

/* The CNI environment (CNI_*) and the Kubernetes pod identity from CNI_ARGS. */
struct cni_env {
	const char *command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	char ns[64];
	char name[254];
	char uid[129];
};

int env_read(struct cni_env *env, struct cni_error *e);

#endif
