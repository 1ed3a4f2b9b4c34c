/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI environment: CNI_COMMAND and friends, and the pod identity the runtime puts in CNI_ARGS. */
#include "cni.h"

#include <stdlib.h>
#include <string.h>

/* Kubernetes names: namespace a DNS label, pod name a DNS subdomain, uid a UUID. */
static bool valid_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const char *c = s; *c != '\0'; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
			  (extra != NULL && strchr(extra, *c) != NULL);
		if (!ok)
			return false;
	}
	return true;
}

/* Copies the value of `key` in CNI_ARGS ("K=V;K=V") into `out`; false when absent or too long. */
static bool cni_arg(const char *args, const char *key, char *out, size_t out_len)
{
	size_t klen = strlen(key);
	for (const char *p = args; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ';');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = n - klen - 1;
			if (vlen >= out_len)
				return false;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

int env_read(struct cni_env *env, struct cni_error *e)
{
	memset(env, 0, sizeof(*env));
	env->command = getenv("CNI_COMMAND");
	env->container_id = getenv("CNI_CONTAINERID");
	env->netns = getenv("CNI_NETNS");
	env->ifname = getenv("CNI_IFNAME");
	if (env->command == NULL || env->command[0] == '\0')
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_COMMAND is not set; ambit-cni is run by a container runtime");
	const char *args = getenv("CNI_ARGS");
	if (args == NULL)
		return 0;
	/* Values that are present must be well-formed: they name files and reach the agent. */
	if (cni_arg(args, "K8S_POD_NAMESPACE", env->ns, sizeof(env->ns)) && !valid_name(env->ns, 63, NULL))
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_ARGS: K8S_POD_NAMESPACE '%s' is not a namespace name", env->ns);
	if (cni_arg(args, "K8S_POD_NAME", env->name, sizeof(env->name)) && !valid_name(env->name, 253, "."))
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_ARGS: K8S_POD_NAME '%s' is not a pod name", env->name);
	if (cni_arg(args, "K8S_POD_UID", env->uid, sizeof(env->uid)) && !valid_name(env->uid, 128, "ABCDEF"))
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_ARGS: K8S_POD_UID '%s' is not a pod UID", env->uid);
	return 0;
}
