/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a pod's cgroup v2 directory from the runtime's cgroup parent or the pod uid. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* How deep below podCgroupRoot a pod cgroup may be (kubepods.slice/kubepods-<qos>.slice/<pod>). */
#define SEARCH_DEPTH 4

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;
	for (char *in = s; *in != '\0'; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* The cgroup v2 mount: /sys/fs/cgroup or /sys/fs/cgroup/unified (hybrid hosts), else the first. */
static int cgroup2_mount(char *out, size_t len, struct cni_error *e)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (f == NULL)
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot read /proc/self/mounts");
	char line[4096], first[4096] = "";
	bool preferred = false;
	while (!preferred && fgets(line, sizeof(line), f) != NULL) {
		char dev[256], dir[4096], type[64];
		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3 || strcmp(type, "cgroup2") != 0)
			continue;
		unescape(dir);
		if (strcmp(dir, "/sys/fs/cgroup") == 0 || strcmp(dir, "/sys/fs/cgroup/unified") == 0) {
			snprintf(first, sizeof(first), "%s", dir);
			preferred = true;
		} else if (first[0] == '\0') {
			snprintf(first, sizeof(first), "%s", dir);
		}
	}
	fclose(f);
	if (first[0] == '\0')
		return cni_fail(e, AMBIT_CNI_ERR_NO_CGROUP, NULL, "no cgroup v2 filesystem is mounted on this node");
	snprintf(out, len, "%s", first);
	return 0;
}

/* "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting). */
static int expand_slice(const char *slice, char *out, size_t len)
{
	size_t base = strlen(slice) - strlen(".slice");
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i <= base; i++) {
		if (i < base && slice[i] != '-')
			continue;
		int w = snprintf(out + n, len - n, "%s%.*s.slice", n ? "/" : "", (int)i, slice);
		if (w < 0 || (size_t)w >= len - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

static int from_runtime(const char *mount, const char *given, char *out, size_t len, struct cni_error *e)
{
	size_t n = strlen(given);
	char rel[4096];
	if (strchr(given, '/') == NULL && n > 6 && strcmp(given + n - 6, ".slice") == 0) {
		if (expand_slice(given, rel, sizeof(rel)) < 0)
			return cni_fail(e, AMBIT_CNI_ERR_NO_CGROUP, NULL, "runtimeConfig.cgroupPath %s is too long", given);
	} else {
		snprintf(rel, sizeof(rel), "%s", given[0] == '/' ? given + 1 : given);
	}
	/* Already under the mount (a runtime that passes the full path). */
	size_t m = strlen(mount);
	if (strncmp(given, mount, m) == 0 && given[m] == '/' && is_dir(given)) {
		snprintf(out, len, "%s", given);
		return 0;
	}
	if (snprintf(out, len, "%s/%s", mount, rel) >= (int)len)
		return cni_fail(e, AMBIT_CNI_ERR_NO_CGROUP, NULL, "runtimeConfig.cgroupPath %s is too long", given);
	while (strlen(out) > 1 && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	if (!is_dir(out))
		return cni_fail(e, AMBIT_CNI_ERR_NO_CGROUP, NULL,
				"the pod's cgroup %s (runtimeConfig.cgroupPath %s) does not exist: is the runtime's cgroup "
				"driver the kubelet's, and is cgroup v2 mounted at %s?",
				out, given, mount);
	return 0;
}

/* cgroupfs names a pod's cgroup pod<uid>; the systemd driver <parent>-pod<uid with '_'>.slice. */
static bool pod_dir_name(const char *name, const char *uid, const char *uid_systemd)
{
	if (strncmp(name, "pod", 3) == 0 && strcmp(name + 3, uid) == 0)
		return true;
	size_t n = strlen(name), u = strlen(uid_systemd);
	return n > u + 10 && strcmp(name + n - 6, ".slice") == 0 && strncmp(name + n - 6 - u - 4, "-pod", 4) == 0 &&
	       strncmp(name + n - 6 - u, uid_systemd, u) == 0;
}

static bool search(const char *dir, const char *uid, const char *uid_systemd, int depth, char *out, size_t len)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return false;
	bool found = false;
	struct dirent *ent;
	while (!found && (ent = readdir(d)) != NULL) {
		if (ent->d_type != DT_DIR || ent->d_name[0] == '.')
			continue;
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name) >= (int)sizeof(path))
			continue;
		if (pod_dir_name(ent->d_name, uid, uid_systemd)) {
			snprintf(out, len, "%s", path);
			found = true;
		} else if (depth > 1) {
			found = search(path, uid, uid_systemd, depth - 1, out, len);
		}
	}
	closedir(d);
	return found;
}

int pod_cgroup(const struct cni_conf *conf, const char *uid, char *out, size_t len, struct cni_error *e)
{
	char mount[4096];
	if (cgroup2_mount(mount, sizeof(mount), e) < 0)
		return -1;
	if (conf->runtime_cgroup != NULL)
		return from_runtime(mount, conf->runtime_cgroup, out, len, e);
	char uid_systemd[129];
	snprintf(uid_systemd, sizeof(uid_systemd), "%s", uid);
	for (char *c = uid_systemd; *c != '\0'; c++)
		if (*c == '-')
			*c = '_';
	const char *root = conf->pod_cgroup_root != NULL ? conf->pod_cgroup_root : mount;
	if (search(root, uid, uid_systemd, SEARCH_DEPTH, out, len))
		return 0;
	return cni_fail(e, AMBIT_CNI_ERR_NO_CGROUP, NULL,
			"no cgroup named after pod uid %s under %s: give the plugin the runtime's cgroupPath capability "
			"(\"capabilities\": {\"cgroupPath\": true}) or set podCgroupRoot",
			uid, root);
}
