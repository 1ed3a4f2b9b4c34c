/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client of the agent's enrollment socket (common/enrollment/protocol.ts): a unix SOCK_SEQPACKET
 * connection, one JSON object per message. A CNI call is a one-shot session: hello, then cni_add
 * (with the pod's netns fd as SCM_RIGHTS) or del, each answered by ack, not_ambient or nack; both
 * name the sandbox (the CNI container id) they are about.
 */
#ifndef AMBIT_CNI_ENROLL_H
#define AMBIT_CNI_ENROLL_H

#include <stddef.h>

#include "cni.h"

/* What a CNI plugin tells the agent about a pod (the protocol's CniPodInfo). */
struct cni_pod {
	char uid[129];
	char ns[64];
	char name[254];
	char cgroup[4096];
	char ips[CNI_MAX_IPS][64];
	size_t ip_count;
};

struct enroll_conn {
	int fd;
	const char *socket_path;
	/* CLOCK_MONOTONIC milliseconds by which every answer must have arrived. */
	long long deadline_ms;
	/* What the current deadline allowed (for messages); timeout_ms: each request's allowance. */
	int wait_ms;
	int timeout_ms;
	int next_id;
	char node[254];
};

enum enroll_result { ENROLL_ACK, ENROLL_NOT_AMBIENT, ENROLL_NACK };

struct enroll_answer {
	enum enroll_result result;
	char code[129];
	char reason[4097];
};

/* Why enroll_open failed: the agent is not there, or it is but would not talk. */
enum enroll_failure { ENROLL_ABSENT, ENROLL_UNRESPONSIVE, ENROLL_REFUSED, ENROLL_LOCAL };

/*
 * Connects and exchanges hello within `timeout_ms` (also the deadline of the requests that follow).
 * On failure returns -1 with `e` set (code 11 when the agent is absent or silent) and `why`.
 */
int enroll_open(struct enroll_conn *c, const char *socket_path, const char *client, int timeout_ms,
		enum enroll_failure *why, struct cni_error *e);
/*
 * 0 with `a` filled when the agent answered; -1 with `e` set (code 11) when it did not. `sandbox`
 * (the CNI container id; NULL: none) names the pod sandbox: the agent remembers it with the pod
 * and ignores a del that names another sandbox (a late DEL of a sandbox since replaced).
 */
int enroll_cni_add(struct enroll_conn *c, const struct cni_pod *pod, const char *sandbox, int netns_fd,
		   struct enroll_answer *a, struct cni_error *e);
int enroll_del(struct enroll_conn *c, const char *uid, const char *sandbox, struct enroll_answer *a,
	       struct cni_error *e);
void enroll_close(struct enroll_conn *c);

#endif
