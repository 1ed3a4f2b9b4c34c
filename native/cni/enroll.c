/* SPDX-License-Identifier: Apache-2.0 */
/* The enrollment socket client: connect, hello, one request, its answer; every wait bounded. */
#include "enroll.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ENROLL_PROTOCOL_VERSION 1
/* The agent's largest message (ENROLLMENT_MAX_MESSAGE). */
#define ENROLL_MAX_MESSAGE (64 * 1024)
#define HINT_RUNNING "is the ambit-agent DaemonSet running on this node?"
/* A live agent answers hello at once: a silent one is not waited for as long as for an add. */
#define HELLO_TIMEOUT_MS 5000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(const struct enroll_conn *c)
{
	long long left = c->deadline_ms - now_ms();
	return left < 0 ? 0 : (int)left;
}

static void set_deadline(struct enroll_conn *c, int timeout_ms)
{
	c->wait_ms = timeout_ms;
	c->deadline_ms = now_ms() + timeout_ms;
}

static int silent(struct enroll_conn *c, struct cni_error *e, const char *what)
{
	return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, NULL,
			"the ambit agent did not answer %s on %s within %d ms: is it overloaded or stuck? (see the "
			"ambit-agent log on this node)",
			what, c->socket_path, c->wait_ms);
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static int send_message(struct enroll_conn *c, const struct strbuf *msg, int fd, struct cni_error *e)
{
	struct iovec iov = { .iov_base = msg->data, .iov_len = msg->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	if (fd >= 0) {
		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(c->fd, &mh, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };
			int left = remaining_ms(c);
			if (left == 0 || poll(&p, 1, left) == 0)
				return silent(c, e, "(its socket is full)");
			continue;
		}
		return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, strerror(errno),
				"the ambit agent closed the enrollment connection on %s (is it restarting?)", c->socket_path);
	}
}

/* Receives one message into `buf` (NUL-terminated) and parses it. */
static int receive(struct enroll_conn *c, char *buf, struct json_value *msg, const char *what, struct cni_error *e)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = remaining_ms(c);
		int n = left == 0 ? 0 : poll(&p, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return silent(c, e, what);
		if (n < 0)
			return cni_fail(e, CNI_ERR_IO, strerror(errno), "waiting for the ambit agent failed");
		struct iovec iov = { .iov_base = buf, .iov_len = ENROLL_MAX_MESSAGE };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t got = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, got < 0 ? strerror(errno) : NULL,
					"the ambit agent closed the enrollment connection on %s before answering %s (is it "
					"restarting?)",
					c->socket_path, what);
		if (mh.msg_flags & MSG_TRUNC)
			return cni_fail(e, AMBIT_CNI_ERR_REFUSED, NULL, "the ambit agent sent a message over %d bytes",
					ENROLL_MAX_MESSAGE);
		buf[got] = '\0';
		char why[256];
		if (json_parse(buf, (size_t)got, msg, why, sizeof(why)) < 0 || msg->type != JSON_OBJECT) {
			if (msg->type != JSON_NULL)
				snprintf(why, sizeof(why), "a JSON value that is not an object");
			json_free(msg);
			return cni_fail(e, AMBIT_CNI_ERR_REFUSED, why,
					"the ambit agent's answer is not a JSON object: is %s another program's socket?",
					c->socket_path);
		}
		return 0;
	}
}

static const char *str_field(const struct json_value *msg, const char *key)
{
	const struct json_value *v = json_get(msg, key);
	return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", or_empty(src));
}

int enroll_open(struct enroll_conn *c, const char *socket_path, const char *client, int timeout_ms,
		enum enroll_failure *why, struct cni_error *e)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->socket_path = socket_path;
	c->timeout_ms = timeout_ms;
	set_deadline(c, timeout_ms < HELLO_TIMEOUT_MS ? timeout_ms : HELLO_TIMEOUT_MS);
	c->next_id = 1;
	*why = ENROLL_LOCAL;

	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "socketPath %s is longer than a unix socket path may be",
				socket_path);
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot create a unix socket");
	/* A listener whose backlog is full answers EAGAIN: try again until the deadline. */
	while (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;
		if (err == EINTR)
			continue;
		if (err == EAGAIN && remaining_ms(c) > 0) {
			usleep(20000);
			continue;
		}
		*why = ENROLL_ABSENT;
		if (err == ENOENT)
			return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, NULL, "ambit agent socket %s not found: " HINT_RUNNING,
					socket_path);
		if (err == ECONNREFUSED)
			return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, NULL,
					"nothing listens on the ambit agent socket %s (left by an agent that stopped): " HINT_RUNNING,
					socket_path);
		if (err == EAGAIN) {
			*why = ENROLL_UNRESPONSIVE;
			return silent(c, e, "the connection");
		}
		*why = err == EACCES || err == EPERM ? ENROLL_REFUSED : ENROLL_LOCAL;
		return cni_fail(e, err == EACCES || err == EPERM ? AMBIT_CNI_ERR_REFUSED : CNI_ERR_IO, strerror(errno),
				"cannot connect to the ambit agent socket %s%s", socket_path,
				err == EACCES || err == EPERM ? ": ambit-cni must run as root" : "");
	}

	struct strbuf hello = { 0 };
	sb_puts(&hello, "{\"type\":\"hello\",\"version\":1,\"client\":");
	sb_json_string(&hello, client);
	sb_puts(&hello, "}");
	if (hello.failed) {
		sb_free(&hello);
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	}
	int rc = send_message(c, &hello, -1, e);
	sb_free(&hello);
	*why = ENROLL_UNRESPONSIVE;
	if (rc < 0)
		return -1;

	char *buf = malloc(ENROLL_MAX_MESSAGE + 1);
	if (buf == NULL)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	struct json_value msg;
	memset(&msg, 0, sizeof(msg));
	rc = receive(c, buf, &msg, "hello", e);
	if (rc == 0) {
		const char *type = str_field(&msg, "type");
		const struct json_value *version = json_get(&msg, "version");
		if (type != NULL && strcmp(type, "hello") == 0 && version != NULL && version->type == JSON_NUMBER &&
		    version->number == ENROLL_PROTOCOL_VERSION) {
			copy(c->node, sizeof(c->node), str_field(&msg, "node"));
		} else if (type != NULL && strcmp(type, "nack") == 0) {
			char details[4400];
			*why = ENROLL_REFUSED;
			snprintf(details, sizeof(details), "%s: %s", or_empty(str_field(&msg, "code")),
				 or_empty(str_field(&msg, "reason")));
			rc = cni_fail(e, AMBIT_CNI_ERR_REFUSED, details, "the ambit agent on %s refused this plugin",
				      socket_path);
		} else {
			*why = ENROLL_REFUSED;
			rc = cni_fail(e, AMBIT_CNI_ERR_REFUSED, NULL,
				      "the ambit agent on %s answered hello with something other than protocol version %d: "
				      "upgrade ambit-cni and the agent together",
				      socket_path, ENROLL_PROTOCOL_VERSION);
		}
		json_free(&msg);
	}
	free(buf);
	return rc;
}

/* Sends `msg` (with `fd` when >= 0) as request `id` and reads the agent's answer to it. */
static int request(struct enroll_conn *c, const struct strbuf *msg, int fd, const char *id, const char *what,
		   struct enroll_answer *a, struct cni_error *e)
{
	if (msg->failed)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	set_deadline(c, c->timeout_ms);
	if (send_message(c, msg, fd, e) < 0)
		return -1;
	char *buf = malloc(ENROLL_MAX_MESSAGE + 1);
	if (buf == NULL)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	int rc = -1;
	for (;;) {
		struct json_value answer;
		memset(&answer, 0, sizeof(answer));
		if (receive(c, buf, &answer, what, e) < 0)
			break;
		const char *type = str_field(&answer, "type");
		const struct json_value *idv = json_get(&answer, "id");
		bool session = idv != NULL && idv->type == JSON_NULL;
		bool ours = idv != NULL && idv->type == JSON_STRING && strcmp(idv->string, id) == 0;
		if (type != NULL && (ours || (session && strcmp(type, "nack") == 0))) {
			memset(a, 0, sizeof(*a));
			if (strcmp(type, "ack") == 0) {
				a->result = ENROLL_ACK;
				rc = 0;
			} else if (strcmp(type, "not_ambient") == 0 || strcmp(type, "nack") == 0) {
				a->result = strcmp(type, "nack") == 0 ? ENROLL_NACK : ENROLL_NOT_AMBIENT;
				copy(a->code, sizeof(a->code), str_field(&answer, "code"));
				copy(a->reason, sizeof(a->reason), str_field(&answer, "reason"));
				rc = 0;
			}
		}
		json_free(&answer);
		if (rc == 0)
			break;
		/* Anything else (an answer to no request of ours) is not for us: keep waiting. */
	}
	free(buf);
	return rc;
}

int enroll_cni_add(struct enroll_conn *c, const struct cni_pod *pod, const char *sandbox, int netns_fd,
		   struct enroll_answer *a, struct cni_error *e)
{
	char id[16];
	snprintf(id, sizeof(id), "%d", c->next_id++);
	struct strbuf m = { 0 };
	sb_puts(&m, "{\"type\":\"cni_add\",\"id\":");
	sb_json_string(&m, id);
	sb_puts(&m, ",\"pod\":{\"uid\":");
	sb_json_string(&m, pod->uid);
	sb_puts(&m, ",\"name\":");
	sb_json_string(&m, pod->name);
	sb_puts(&m, ",\"namespace\":");
	sb_json_string(&m, pod->ns);
	sb_puts(&m, ",\"cgroupPath\":");
	sb_json_string(&m, pod->cgroup);
	sb_puts(&m, ",\"ips\":[");
	for (size_t i = 0; i < pod->ip_count; i++) {
		if (i > 0)
			sb_puts(&m, ",");
		sb_json_string(&m, pod->ips[i]);
	}
	sb_puts(&m, "]}");
	if (sandbox != NULL && sandbox[0] != '\0') {
		sb_puts(&m, ",\"sandbox\":");
		sb_json_string(&m, sandbox);
	}
	sb_puts(&m, "}");
	int rc = request(c, &m, netns_fd, id, "cni_add", a, e);
	sb_free(&m);
	return rc;
}

int enroll_del(struct enroll_conn *c, const char *uid, const char *sandbox, struct enroll_answer *a,
	       struct cni_error *e)
{
	char id[16];
	snprintf(id, sizeof(id), "%d", c->next_id++);
	struct strbuf m = { 0 };
	sb_puts(&m, "{\"type\":\"del\",\"id\":");
	sb_json_string(&m, id);
	sb_puts(&m, ",\"uid\":");
	sb_json_string(&m, uid);
	if (sandbox != NULL && sandbox[0] != '\0') {
		sb_puts(&m, ",\"sandbox\":");
		sb_json_string(&m, sandbox);
	}
	sb_puts(&m, "}");
	int rc = request(c, &m, -1, id, "del", a, e);
	sb_free(&m);
	return rc;
}

void enroll_close(struct enroll_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
