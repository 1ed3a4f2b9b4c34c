/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI commands that talk to the agent: ADD, DEL, CHECK, STATUS, GC (see main.c for the table). */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "enroll.h"
#include "record.h"

/* The pod identity this command needs from CNI_ARGS. */
static int need_pod(const struct cni_env *env, bool uid, struct cni_error *e)
{
	if (env->ns[0] == '\0' || env->name[0] == '\0')
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL,
				"CNI_ARGS has no K8S_POD_NAMESPACE or K8S_POD_NAME: ambit-cni serves Kubernetes pods "
				"through a CRI runtime (containerd, CRI-O)");
	if (uid && env->uid[0] == '\0')
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL,
				"CNI_ARGS has no K8S_POD_UID for pod %s/%s: the runtime is too old to pass it", env->ns,
				env->name);
	return 0;
}

/* "ambit-cni ADD ns/name" for the agent's log, cut to the protocol's 128 characters. */
static void client_name(char *out, size_t len, const char *cmd, const struct cni_env *env)
{
	char full[400];
	int n = snprintf(full, sizeof(full), "ambit-cni %s %s/%s", cmd, env->ns[0] ? env->ns : "?",
			 env->name[0] ? env->name : "?");
	size_t keep = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
	memcpy(out, full, keep);
	out[keep] = '\0';
}

/* The longest sandbox (CNI container) id the agent takes (the protocol's limit). */
#define SANDBOX_MAX 255

/*
 * How long a call waits for the record lock another call on the same pod holds: that one's hello
 * and up to two requests (an ADD replacing a sandbox sends del, then cni_add), and a second more.
 */
static int lock_wait_ms(const struct cni_conf *conf)
{
	long long ms = 2LL * conf->timeout_ms + 5000 + 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int cmd_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e)
{
	if (need_pod(env, false, e) < 0)
		return -1;
	if (conf_excluded(conf, env->ns)) {
		print_prev_result(conf);
		return 0;
	}
	if (need_pod(env, true, e) < 0)
		return -1;
	if (env->container_id == NULL || env->container_id[0] == '\0' || env->netns == NULL || env->netns[0] == '\0')
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "ADD needs CNI_CONTAINERID and CNI_NETNS");
	if (strlen(env->container_id) > SANDBOX_MAX)
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_CONTAINERID is longer than %d characters", SANDBOX_MAX);
	if (conf->prev_result == NULL)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"ADD without prevResult: ambit-cni is a chained plugin; list it after the plugin that "
				"gives the pod its IPs");

	struct cni_pod pod;
	memset(&pod, 0, sizeof(pod));
	snprintf(pod.uid, sizeof(pod.uid), "%s", env->uid);
	snprintf(pod.ns, sizeof(pod.ns), "%s", env->ns);
	snprintf(pod.name, sizeof(pod.name), "%s", env->name);
	if (prev_result_ips(conf->prev_result, pod.ips, &pod.ip_count, e) < 0)
		return -1;
	if (pod_cgroup(conf, pod.uid, pod.cgroup, sizeof(pod.cgroup), e) < 0)
		return -1;

	int netns_fd = open(env->netns, O_RDONLY | O_CLOEXEC);
	if (netns_fd < 0)
		return cni_fail(e, CNI_ERR_UNKNOWN_CONTAINER, strerror(errno), "cannot open the pod's network namespace %s",
				env->netns);
	struct stat st;
	char inode[64];
	fstat(netns_fd, &st);
	snprintf(inode, sizeof(inode), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);

	/* From reading the record to the agent's answer: no DEL or GC of this pod in between. */
	int lock = record_lock(conf->record_dir, pod.uid, lock_wait_ms(conf), e);
	if (lock < 0) {
		close(netns_fd);
		return -1;
	}

	/* A record of another sandbox of this pod: that sandbox is being replaced, take it out first. */
	char previous[256] = "";
	int had = record_container(conf->record_dir, pod.uid, previous, sizeof(previous), e);
	bool replace = had == 1 && strcmp(previous, env->container_id) != 0;

	int rc = record_write(conf->record_dir, &pod, env->container_id, env->netns, inode, e);
	struct enroll_conn conn = { .fd = -1 };
	enum enroll_failure why;
	char client[128];
	client_name(client, sizeof(client), "ADD", env);
	if (rc == 0)
		rc = enroll_open(&conn, conf->socket_path, client, conf->timeout_ms, &why, e);

	struct enroll_answer a;
	memset(&a, 0, sizeof(a));
	if (rc == 0 && replace) {
		rc = enroll_del(&conn, pod.uid, previous, &a, e);
		if (rc == 0 && a.result == ENROLL_NACK)
			rc = cni_fail(e, AMBIT_CNI_ERR_REFUSED, a.reason,
				      "the ambit agent could not take out the previous sandbox %s of pod %s/%s (%s)", previous,
				      pod.ns, pod.name, a.code);
	}
	if (rc == 0)
		rc = enroll_cni_add(&conn, &pod, env->container_id, netns_fd, &a, e);
	enroll_close(&conn);
	close(netns_fd);

	if (rc == 0 && a.result == ENROLL_NACK) {
		/* The agent could not tell who the pod is yet: the runtime retries the sandbox. */
		int code = strcmp(a.code, "AMBIT_ERR_ENROLL_UNKNOWN_WORKLOAD") == 0 ? CNI_ERR_TRY_AGAIN_LATER
										     : AMBIT_CNI_ERR_REFUSED;
		char details[4400];
		snprintf(details, sizeof(details), "%s: %s", a.code, a.reason);
		rc = cni_fail(e, code, details, "the ambit agent did not enroll pod %s/%s", pod.ns, pod.name);
	}
	if (rc == 0 && a.result == ENROLL_ACK) {
		record_unlock(conf->record_dir, pod.uid, lock);
		print_prev_result(conf);
		return 0;
	}
	/* Not in the mesh after all (not ambient, or failed): no record, nothing for the agent to resume. */
	struct cni_error ignored;
	record_remove(conf->record_dir, pod.uid, &ignored);
	record_unlock(conf->record_dir, pod.uid, lock);
	if (rc < 0)
		return -1;
	fprintf(stderr, "ambit-cni: pod %s/%s left alone: %s\n", pod.ns, pod.name, a.reason);
	print_prev_result(conf);
	return 0;
}

/* The uid a DEL or CHECK is about: CNI_ARGS, else the record of CNI_CONTAINERID. */
struct by_container {
	const char *container_id;
	char uid[129];
};

static int match_container(const char *uid, const char *container_id, void *arg)
{
	struct by_container *b = arg;
	if (strcmp(container_id, b->container_id) != 0)
		return 0;
	snprintf(b->uid, sizeof(b->uid), "%s", uid);
	return 1;
}

static const char *target_uid(const struct cni_env *env, const struct cni_conf *conf, struct by_container *b,
			      struct cni_error *e)
{
	if (env->uid[0] != '\0')
		return env->uid;
	if (env->container_id == NULL || env->container_id[0] == '\0')
		return NULL;
	b->container_id = env->container_id;
	b->uid[0] = '\0';
	record_each(conf->record_dir, match_container, b, e);
	return b->uid[0] != '\0' ? b->uid : NULL;
}

/* DEL with the pod's record lock held: the record read here is the one the agent is asked about. */
static int del_locked(const struct cni_env *env, const struct cni_conf *conf, const char *uid, struct cni_error *e)
{
	char recorded[256] = "";
	int had = record_container(conf->record_dir, uid, recorded, sizeof(recorded), e);
	if (had == 1 && env->container_id != NULL && env->container_id[0] != '\0' &&
	    strcmp(recorded, env->container_id) != 0) {
		/* A late DEL of a sandbox this pod no longer runs in: the current one stays enrolled. */
		fprintf(stderr, "ambit-cni: DEL of sandbox %s ignored: pod %s now runs in sandbox %s\n",
			env->container_id, uid, recorded);
		return 0;
	}
	/*
	 * The del names the sandbox, so the agent takes out only that one: should a newer sandbox of
	 * the pod be enrolled by then (its record lost), it stays.
	 */
	const char *sandbox = had == 1 ? recorded : env->container_id;
	struct enroll_conn conn;
	enum enroll_failure why;
	char client[128];
	client_name(client, sizeof(client), "DEL", env);
	if (enroll_open(&conn, conf->socket_path, client, conf->timeout_ms, &why, e) < 0) {
		enroll_close(&conn);
		if (why == ENROLL_REFUSED || why == ENROLL_LOCAL)
			return -1;
		/* No agent, no capture to remove; the next agent forgets pods that have no record. */
		fprintf(stderr, "ambit-cni: DEL of pod %s without the agent: %s\n", uid, e->msg);
		return record_remove(conf->record_dir, uid, e);
	}
	struct enroll_answer a;
	int rc = enroll_del(&conn, uid, sandbox, &a, e);
	enroll_close(&conn);
	if (rc < 0) {
		fprintf(stderr, "ambit-cni: DEL of pod %s unanswered: %s\n", uid, e->msg);
		return record_remove(conf->record_dir, uid, e);
	}
	if (a.result == ENROLL_NACK) {
		char details[4400];
		snprintf(details, sizeof(details), "%s: %s", a.code, a.reason);
		return cni_fail(e, AMBIT_CNI_ERR_REFUSED, details, "the ambit agent could not remove pod %s", uid);
	}
	return record_remove(conf->record_dir, uid, e);
}

int cmd_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e)
{
	if (env->ns[0] != '\0' && conf_excluded(conf, env->ns))
		return 0;
	struct by_container b;
	const char *uid = target_uid(env, conf, &b, e);
	if (uid == NULL)
		return 0; /* nothing this plugin could have enrolled can be named */
	int lock = record_lock(conf->record_dir, uid, lock_wait_ms(conf), e);
	if (lock < 0)
		return -1;
	int rc = del_locked(env, conf, uid, e);
	record_unlock(conf->record_dir, uid, lock);
	return rc;
}

int cmd_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e)
{
	if (env->ns[0] != '\0' && conf_excluded(conf, env->ns))
		return 0;
	struct by_container b;
	const char *uid = target_uid(env, conf, &b, e);
	char recorded[256];
	if (uid == NULL || record_container(conf->record_dir, uid, recorded, sizeof(recorded), e) != 1)
		return 0; /* not enrolled by this plugin: not ambient, nothing to check */
	struct enroll_conn conn;
	enum enroll_failure why;
	char client[128];
	client_name(client, sizeof(client), "CHECK", env);
	int rc = enroll_open(&conn, conf->socket_path, client, conf->timeout_ms, &why, e);
	enroll_close(&conn);
	return rc;
}

/*
 * STATUS: ready whenever the config is valid (main.c has parsed it and checked cniVersion), agent
 * or not. ADD decides per pod and fails closed on its own: excluded namespaces pass, every other
 * pod waits for the agent. A STATUS failure would instead mark the whole node's network not
 * ready (containerd asks STATUS of 1.1.0 conflists), and the agent's own pod, which needs pod
 * networking, could then never start after a reboot. So the agent is not asked here.
 */
int cmd_status(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e)
{
	(void)env;
	(void)conf;
	(void)e;
	return 0;
}

/* GC: records whose attachment (containerID) the runtime no longer lists go, with a del. */
struct gc {
	const struct cni_conf *conf;
	const struct json_value *valid;
	struct enroll_conn conn;
	bool connected;
	bool absent;
	int failures;
	struct cni_error *e;
};

static int gc_one(const char *uid, const char *container_id, void *arg)
{
	struct gc *g = arg;
	for (size_t i = 0; i < g->valid->count; i++) {
		const struct json_value *id = json_get(&g->valid->items[i], "containerID");
		if (id != NULL && id->type == JSON_STRING && strcmp(id->string, container_id) == 0)
			return 0;
	}
	struct cni_error err;
	/* An ADD or DEL of this pod in progress knows better than this listing: leave the pod to it. */
	int lock = record_lock(g->conf->record_dir, uid, 0, &err);
	if (lock == -2)
		return 0;
	if (lock < 0) {
		g->failures++;
		return 0;
	}
	/* Read again under the lock: an ADD may have replaced the record since the listing. */
	char recorded[256] = "";
	if (record_container(g->conf->record_dir, uid, recorded, sizeof(recorded), &err) != 1 ||
	    strcmp(recorded, container_id) != 0) {
		record_unlock(g->conf->record_dir, uid, lock);
		return 0;
	}
	enum enroll_failure why;
	if (!g->connected && !g->absent) {
		g->connected = enroll_open(&g->conn, g->conf->socket_path, "ambit-cni GC", g->conf->timeout_ms, &why, &err) == 0;
		g->absent = !g->connected;
	}
	struct enroll_answer a;
	if (g->connected && (enroll_del(&g->conn, uid, container_id, &a, &err) < 0 || a.result == ENROLL_NACK)) {
		g->failures++;
		record_unlock(g->conf->record_dir, uid, lock);
		return 0;
	}
	record_remove(g->conf->record_dir, uid, &err);
	record_unlock(g->conf->record_dir, uid, lock);
	return 0;
}

int cmd_gc(const struct cni_conf *conf, struct cni_error *e)
{
	struct gc g = { .conf = conf, .e = e };
	g.conn.fd = -1;
	g.valid = json_get(&conf->root, "cni.dev/valid-attachments");
	if (g.valid == NULL || g.valid->type != JSON_ARRAY)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "GC needs cni.dev/valid-attachments (an array)");
	int rc = record_each(conf->record_dir, gc_one, &g, e);
	enroll_close(&g.conn);
	if (rc == 0 && g.failures > 0)
		return cni_fail(e, AMBIT_CNI_ERR_REFUSED, NULL, "the ambit agent did not remove %d stale pod(s)", g.failures);
	return rc;
}

