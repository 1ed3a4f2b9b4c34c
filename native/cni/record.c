/* SPDX-License-Identifier: Apache-2.0 */
/* Pod records: one small JSON file per pod, replaced atomically (write a temporary file, rename). */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_VERSION 1
#define RECORD_MAX_BYTES (64 * 1024)

/* mkdir -p: parents 0755 (they may be shared, e.g. /var/run/ambit), the record dir itself 0700. */
static int make_dirs(const char *dir, struct cni_error *e)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "recordDir is too long");
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot create %s for the pod record", path);
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot create the record directory %s", path);
	return 0;
}

static int record_path(const char *dir, const char *uid, const char *suffix, char *out, size_t len,
		       struct cni_error *e)
{
	if (snprintf(out, len, "%s/%s%s", dir, uid, suffix) >= (int)len)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "recordDir is too long");
	return 0;
}

int record_write(const char *dir, const struct cni_pod *pod, const char *container_id, const char *netns,
		 const char *netns_inode, struct cni_error *e)
{
	char path[4200], tmp[4300];
	char suffix[32];
	snprintf(suffix, sizeof(suffix), ".json.%d.tmp", (int)getpid());
	if (make_dirs(dir, e) < 0 || record_path(dir, pod->uid, ".json", path, sizeof(path), e) < 0 ||
	    record_path(dir, pod->uid, suffix, tmp, sizeof(tmp), e) < 0)
		return -1;

	struct strbuf sb = { 0 };
	sb_puts(&sb, "{\"version\":1,\"uid\":");
	sb_json_string(&sb, pod->uid);
	sb_puts(&sb, ",\"namespace\":");
	sb_json_string(&sb, pod->ns);
	sb_puts(&sb, ",\"name\":");
	sb_json_string(&sb, pod->name);
	sb_puts(&sb, ",\"containerId\":");
	sb_json_string(&sb, container_id);
	sb_puts(&sb, ",\"netns\":");
	sb_json_string(&sb, netns);
	sb_puts(&sb, ",\"netnsInode\":");
	sb_json_string(&sb, netns_inode);
	sb_puts(&sb, ",\"cgroupPath\":");
	sb_json_string(&sb, pod->cgroup);
	sb_puts(&sb, ",\"ips\":[");
	for (size_t i = 0; i < pod->ip_count; i++) {
		if (i > 0)
			sb_puts(&sb, ",");
		sb_json_string(&sb, pod->ips[i]);
	}
	sb_puts(&sb, "]}\n");
	if (sb.failed) {
		sb_free(&sb);
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	}

	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = 0;
	if (fd < 0) {
		rc = cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot write the pod record %s", tmp);
	} else {
		ssize_t n = write(fd, sb.data, sb.len);
		if (n != (ssize_t)sb.len || fsync(fd) < 0)
			rc = cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot write the pod record %s", tmp);
		if (close(fd) < 0 && rc == 0)
			rc = cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot write the pod record %s", tmp);
		if (rc == 0 && rename(tmp, path) < 0)
			rc = cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot put the pod record in place at %s", path);
		if (rc < 0)
			unlink(tmp);
	}
	sb_free(&sb);
	return rc;
}

int record_remove(const char *dir, const char *uid, struct cni_error *e)
{
	char path[4200];
	if (record_path(dir, uid, ".json", path, sizeof(path), e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot remove the pod record %s", path);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int record_lock(const char *dir, const char *uid, int wait_ms, struct cni_error *e)
{
	char path[4200];
	if (make_dirs(dir, e) < 0 || record_path(dir, uid, ".lock", path, sizeof(path), e) < 0)
		return -1;
	long long deadline = now_ms() + wait_ms;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot open the pod record lock %s", path);
		int rc;
		while ((rc = flock(fd, LOCK_EX | LOCK_NB)) < 0 && (errno == EWOULDBLOCK || errno == EINTR) &&
		       now_ms() < deadline)
			usleep(10000);
		if (rc < 0) {
			int err = errno;
			close(fd);
			if (err == EWOULDBLOCK || err == EINTR) {
				cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, NULL,
					 "another ambit-cni call for pod %s still holds its record lock %s after %d ms", uid,
					 path, wait_ms);
				return -2;
			}
			return cni_fail(e, CNI_ERR_IO, strerror(err), "cannot lock the pod record %s", path);
		}
		/* The previous holder removes the file as it lets go: a lock on an unlinked file guards nothing. */
		struct stat held, named;
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
		    held.st_ino == named.st_ino)
			return fd;
		close(fd);
	}
}

void record_unlock(const char *dir, const char *uid, int fd)
{
	char path[4200];
	struct cni_error ignored;
	if (fd < 0)
		return;
	/* Unlinked while still held: whoever opened the old file sees it is gone and opens anew. */
	if (record_path(dir, uid, ".lock", path, sizeof(path), &ignored) == 0)
		unlink(path);
	close(fd);
}

/* Reads and parses one record file: 1 read, 0 absent, -1 unreadable. */
static int read_record(const char *path, struct json_value *out, struct cni_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot read the pod record %s", path);
	}
	char *buf = malloc(RECORD_MAX_BYTES);
	if (buf == NULL) {
		close(fd);
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	}
	ssize_t n = read(fd, buf, RECORD_MAX_BYTES);
	close(fd);
	char why[256];
	int rc = 1;
	if (n < 0)
		rc = cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot read the pod record %s", path);
	else if (json_parse(buf, (size_t)n, out, why, sizeof(why)) < 0)
		rc = cni_fail(e, CNI_ERR_IO, why, "the pod record %s is not JSON", path);
	free(buf);
	return rc;
}

static const char *record_string(const struct json_value *rec, const char *key)
{
	const struct json_value *v = json_get(rec, key);
	return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}

int record_container(const char *dir, const char *uid, char *out, size_t len, struct cni_error *e)
{
	char path[4200];
	struct json_value rec;
	if (record_path(dir, uid, ".json", path, sizeof(path), e) < 0)
		return -1;
	int rc = read_record(path, &rec, e);
	if (rc <= 0)
		return rc;
	const char *id = record_string(&rec, "containerId");
	if (id == NULL)
		rc = cni_fail(e, CNI_ERR_IO, NULL, "the pod record %s has no containerId", path);
	else
		snprintf(out, len, "%s", id);
	json_free(&rec);
	return rc;
}

int record_each(const char *dir, int (*fn)(const char *uid, const char *container_id, void *arg), void *arg,
		struct cni_error *e)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return cni_fail(e, CNI_ERR_IO, strerror(errno), "cannot list the pod records in %s", dir);
	}
	int rc = 0;
	struct dirent *ent;
	while (rc == 0 && (ent = readdir(d)) != NULL) {
		size_t n = strlen(ent->d_name);
		if (n <= 5 || strcmp(ent->d_name + n - 5, ".json") != 0)
			continue;
		char path[4200];
		struct json_value rec;
		if (snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name) >= (int)sizeof(path))
			continue;
		if (read_record(path, &rec, e) <= 0)
			continue; /* gone meanwhile, or unreadable: not ours to judge here */
		const char *uid = record_string(&rec, "uid");
		const char *id = record_string(&rec, "containerId");
		if (uid != NULL && id != NULL)
			rc = fn(uid, id, arg);
		json_free(&rec);
	}
	closedir(d);
	return rc;
}
