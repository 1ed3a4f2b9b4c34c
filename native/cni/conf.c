/* SPDX-License-Identifier: Apache-2.0 */
/* The network configuration on stdin: ambit-cni's keys, the runtime's, and prevResult. */
#include "cni.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *const SUPPORTED_VERSIONS[] = { "0.4.0", "1.0.0", "1.1.0" };

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < sizeof(SUPPORTED_VERSIONS) / sizeof(SUPPORTED_VERSIONS[0]); i++)
		if (strcmp(v, SUPPORTED_VERSIONS[i]) == 0)
			return true;
	return false;
}

/* `key` as a non-empty string, `fallback` when absent; -1 (code 7) when of another type. */
static int opt_string(const struct json_value *obj, const char *key, const char *fallback, const char **out,
		      struct cni_error *e)
{
	const struct json_value *v = json_get(obj, key);
	if (v == NULL) {
		*out = fallback;
		return 0;
	}
	if (v->type != JSON_STRING || v->string[0] == '\0')
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "network config: '%s' must be a non-empty string", key);
	*out = v->string;
	return 0;
}

int conf_parse(char *text, size_t len, struct cni_conf *conf, struct cni_error *e)
{
	char why[256];
	memset(conf, 0, sizeof(*conf));
	if (json_parse(text, len, &conf->root, why, sizeof(why)) < 0)
		return cni_fail(e, CNI_ERR_DECODE, why, "the network config on stdin is not JSON");
	const struct json_value *root = &conf->root;
	if (root->type != JSON_OBJECT)
		return cni_fail(e, CNI_ERR_DECODE, NULL, "the network config on stdin must be a JSON object");
	if (opt_string(root, "cniVersion", NULL, &conf->cni_version, e) < 0 ||
	    opt_string(root, "socketPath", CNI_DEFAULT_SOCKET, &conf->socket_path, e) < 0 ||
	    opt_string(root, "recordDir", CNI_DEFAULT_RECORD_DIR, &conf->record_dir, e) < 0 ||
	    opt_string(root, "podCgroupRoot", NULL, &conf->pod_cgroup_root, e) < 0)
		return -1;
	if (conf->socket_path[0] != '/' || conf->record_dir[0] != '/' ||
	    (conf->pod_cgroup_root != NULL && conf->pod_cgroup_root[0] != '/'))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"network config: socketPath, recordDir and podCgroupRoot must be absolute paths");

	conf->timeout_ms = CNI_DEFAULT_TIMEOUT_MS;
	const struct json_value *t = json_get(root, "timeoutMs");
	if (t != NULL) {
		if (t->type != JSON_NUMBER || t->number < 100 || t->number > 600000 || t->number != (int)t->number)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"network config: 'timeoutMs' must be an integer from 100 to 600000");
		conf->timeout_ms = (int)t->number;
	}

	const struct json_value *ex = json_get(root, "excludeNamespaces");
	if (ex == NULL) {
		conf->excluded[conf->excluded_count++] = "kube-system";
	} else {
		if (ex->type != JSON_ARRAY || ex->count > CNI_MAX_EXCLUDED)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"network config: 'excludeNamespaces' must be an array of at most %d namespace names",
					CNI_MAX_EXCLUDED);
		for (size_t i = 0; i < ex->count; i++) {
			if (ex->items[i].type != JSON_STRING)
				return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
						"network config: 'excludeNamespaces[%zu]' must be a string", i);
			conf->excluded[conf->excluded_count++] = ex->items[i].string;
		}
	}

	const struct json_value *rc = json_get(root, "runtimeConfig");
	if (rc != NULL) {
		if (rc->type != JSON_OBJECT)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "network config: 'runtimeConfig' must be an object");
		if (opt_string(rc, "cgroupPath", NULL, &conf->runtime_cgroup, e) < 0)
			return -1;
	}

	const struct json_value *prev = json_get(root, "prevResult");
	if (prev != NULL && prev->type != JSON_NULL) {
		if (prev->type != JSON_OBJECT)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "network config: 'prevResult' must be an object");
		conf->prev_result = prev;
	}
	return 0;
}

void conf_free(struct cni_conf *conf)
{
	json_free(&conf->root);
}

bool conf_excluded(const struct cni_conf *conf, const char *ns)
{
	for (size_t i = 0; i < conf->excluded_count; i++)
		if (strcmp(conf->excluded[i], ns) == 0)
			return true;
	return false;
}

int prev_result_ips(const struct json_value *prev, char ips[][64], size_t *count, struct cni_error *e)
{
	*count = 0;
	const struct json_value *list = json_get(prev, "ips");
	if (list == NULL)
		return 0;
	if (list->type != JSON_ARRAY)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "prevResult.ips must be an array");
	for (size_t i = 0; i < list->count; i++) {
		const struct json_value *addr = json_get(&list->items[i], "address");
		if (addr == NULL || addr->type != JSON_STRING)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "prevResult.ips[%zu].address must be a string", i);
		char ip[64];
		size_t n = strcspn(addr->string, "/");
		if (n >= sizeof(ip))
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "prevResult.ips[%zu].address is not an address", i);
		memcpy(ip, addr->string, n);
		ip[n] = '\0';
		unsigned char buf[16];
		if (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult.ips[%zu].address '%s' is not an IPv4 or IPv6 address", i, addr->string);
		bool seen = false;
		for (size_t j = 0; j < *count; j++)
			seen = seen || strcmp(ips[j], ip) == 0;
		if (seen)
			continue;
		if (*count == CNI_MAX_IPS)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "prevResult has more than %d pod IPs", CNI_MAX_IPS);
		memcpy(ips[(*count)++], ip, n + 1);
	}
	return 0;
}
