/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambit-cni: entry point. Reads the CNI environment and the network configuration (stdin), runs
 * the command and prints its result or a CNI error (stdout, non-zero exit), per the CNI spec.
 *
 *   ADD      excluded namespace: pass prevResult on. Otherwise record the pod, send cni_add (netns
 *            fd attached) and wait: ack -> prevResult on (the pod is captured); not_ambient ->
 *            record removed, prevResult on; nack or no agent -> record removed, CNI error (fail
 *            closed: the runtime does not start the pod).
 *   DEL      send del, remove the record; no agent is not an error (idempotent).
 *   CHECK    a recorded pod needs a live agent.
 *   STATUS   succeeds when the configuration is valid: a node is never marked network-not-ready
 *            because the agent is away (ADD fails closed per pod instead).
 *   GC       records of attachments the runtime no longer has are deleted.
 *   VERSION  0.4.0, 1.0.0, 1.1.0.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "commands.h"

#define STDIN_MAX (1024 * 1024)

int cni_fail(struct cni_error *e, int code, const char *details, const char *msg_fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, msg_fmt);
	vsnprintf(e->msg, sizeof(e->msg), msg_fmt, ap);
	va_end(ap);
	snprintf(e->details, sizeof(e->details), "%s", details != NULL ? details : "");
	return -1;
}

const char *result_version(const struct cni_conf *conf)
{
	return conf->cni_version != NULL && cni_version_supported(conf->cni_version) ? conf->cni_version
										       : CNI_VERSION_LATEST;
}

/* A chained plugin passes the previous result on unchanged (byte for byte). */
void print_prev_result(const struct cni_conf *conf)
{
	if (conf->prev_result != NULL) {
		fwrite(conf->prev_result->text, 1, conf->prev_result->text_len, stdout);
		fputc('\n', stdout);
	} else {
		printf("{\"cniVersion\":\"%s\"}\n", result_version(conf));
	}
}

static int print_error(const struct cni_conf *conf, const struct cni_error *e)
{
	struct strbuf sb = { 0 };
	char code[16];
	snprintf(code, sizeof(code), "%d", e->code);
	sb_puts(&sb, "{\"cniVersion\":");
	sb_json_string(&sb, result_version(conf));
	sb_puts(&sb, ",\"code\":");
	sb_puts(&sb, code);
	sb_puts(&sb, ",\"msg\":");
	sb_json_string(&sb, e->msg);
	if (e->details[0] != '\0') {
		sb_puts(&sb, ",\"details\":");
		sb_json_string(&sb, e->details);
	}
	sb_puts(&sb, "}\n");
	if (!sb.failed)
		fputs(sb.data, stdout);
	fprintf(stderr, "ambit-cni: %s%s%s\n", e->msg, e->details[0] ? ": " : "", e->details);
	sb_free(&sb);
	return 1;
}

static int read_stdin(char **out, size_t *len, struct cni_error *e)
{
	char *buf = malloc(STDIN_MAX + 1);
	size_t n = 0;
	if (buf == NULL)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	for (;;) {
		ssize_t got = read(STDIN_FILENO, buf + n, STDIN_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot read the network config from stdin");
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > STDIN_MAX) {
			free(buf);
			return cni_fail(e, CNI_ERR_DECODE, NULL, "the network config on stdin is over %d bytes", STDIN_MAX);
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void print_version(void)
{
	printf("{\"cniVersion\":\"%s\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n", CNI_VERSION_LATEST);
}

int main(void)
{
	struct cni_error e = { 0 };
	struct cni_conf conf;
	struct cni_env env;
	memset(&conf, 0, sizeof(conf));
	if (env_read(&env, &e) < 0)
		return print_error(&conf, &e);
	char *text = NULL;
	size_t len = 0;
	if (strcmp(env.command, "VERSION") == 0) {
		/* stdin holds {"cniVersion": ...}; read it so the runtime's write completes. */
		if (read_stdin(&text, &len, &e) == 0)
			free(text);
		print_version();
		return 0;
	}
	if (read_stdin(&text, &len, &e) < 0 || conf_parse(text, len, &conf, &e) < 0) {
		int rc = print_error(&conf, &e);
		conf_free(&conf);
		free(text);
		return rc;
	}
	int rc;
	if (conf.cni_version == NULL)
		rc = cni_fail(&e, CNI_ERR_INVALID_CONFIG, NULL, "network config: 'cniVersion' is missing");
	else if (!cni_version_supported(conf.cni_version))
		rc = cni_fail(&e, CNI_ERR_INCOMPATIBLE_VERSION, "supported: 0.4.0, 1.0.0, 1.1.0",
			      "ambit-cni does not support CNI version %s", conf.cni_version);
	else if (strcmp(env.command, "ADD") == 0)
		rc = cmd_add(&env, &conf, &e);
	else if (strcmp(env.command, "DEL") == 0)
		rc = cmd_del(&env, &conf, &e);
	else if (strcmp(env.command, "CHECK") == 0)
		rc = cmd_check(&env, &conf, &e);
	else if (strcmp(env.command, "STATUS") == 0)
		rc = cmd_status(&env, &conf, &e);
	else if (strcmp(env.command, "GC") == 0)
		rc = cmd_gc(&conf, &e);
	else
		rc = cni_fail(&e, CNI_ERR_INVALID_ENV, NULL, "unknown CNI_COMMAND %s", env.command);
	int exit_code = rc < 0 ? print_error(&conf, &e) : 0;
	fflush(stdout);
	conf_free(&conf);
	free(text);
	return exit_code;
}
