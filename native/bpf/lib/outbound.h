/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The decisions shared by connect4 and connect6 (and DNS capture): capture this or not. */
#ifndef AMBIT_OUTBOUND_H
#define AMBIT_OUTBOUND_H

#include "common.h"

#ifndef SOCK_STREAM
#define SOCK_STREAM 1
#endif

/*
 * The enrolled pod this outbound traffic belongs to, or NULL when it must be
 * left alone: not an enrolled pod, loopback, an agent socket, or a destination
 * port or CIDR the pod bypasses. Shared by TCP capture and DNS capture.
 */
static __always_inline struct ambit_pod *outbound_pod(struct bpf_sock_addr *ctx, const __u8 addr[16],
						     __u16 port)
{
	struct ambit_pod *pod;
	struct bpf_sock *sk;
	__u64 cgroup;

	cgroup = bpf_get_current_cgroup_id();
	pod = bpf_map_lookup_elem(&enrolled, &cgroup);
	if (!pod || !(pod->flags & AMBIT_POD_F_CAPTURE_OUT))
		return NULL;
	if (addr_is_loopback(addr))
		return NULL;
	/* Belt and braces: the agent is outside pod cgroups, and marks its sockets too. */
	sk = ctx->sk;
	if (sk && knobs.agent_mark && sk->mark == knobs.agent_mark) {
		count(AMBIT_CNT_OUT_AGENT_SOCKET);
		return NULL;
	}
	if (port_bypassed(pod->pod_id, port, AMBIT_DIR_OUTBOUND)) {
		count(AMBIT_CNT_OUT_BYPASS_PORT);
		return NULL;
	}
	if (cidr_bypassed(pod->pod_id, addr)) {
		count(AMBIT_CNT_OUT_BYPASS_CIDR);
		return NULL;
	}
	return pod;
}

/*
 * Records where a captured socket was going, under its cookie, in `map` (TCP: orig_dst_by_cookie,
 * UDP DNS: dns_orig_dst). Non-zero when the map refused the entry.
 */
static __always_inline long record_orig_dst(void *map, struct bpf_sock_addr *ctx, const __u8 addr[16],
					    __u16 port, __u16 family, __u32 pod_id)
{
	struct ambit_orig_dst od = {};
	__u64 cookie = bpf_get_socket_cookie(ctx);

	__builtin_memcpy(od.addr, addr, 16);
	od.port = port;
	od.family = family;
	od.pod_id = pod_id;
	return bpf_map_update_elem(map, &cookie, &od, BPF_ANY);
}

/*
 * Returns 1 when the connect must be redirected to the pod-local outbound
 * listener; the original destination is then recorded under the socket
 * cookie for sockops to re-key once the client port is known.
 */
static __always_inline int should_capture(struct bpf_sock_addr *ctx, const __u8 addr[16],
					  __u16 port, __u16 family)
{
	struct ambit_pod *pod;

	if (ctx->type != SOCK_STREAM || ctx->protocol != IPPROTO_TCP)
		return 0;
	pod = outbound_pod(ctx, addr, port);
	if (!pod)
		return 0;
	if (record_orig_dst(&orig_dst_by_cookie, ctx, addr, port, family, pod->pod_id))
		return 0; /* cannot record it: leave the connect alone rather than orphan it */
	count(AMBIT_CNT_OUT_CAPTURED);
	return 1;
}

/*
 * The pod-local port a captured TCP connect goes to: DNS (port 53) to the
 * DNS proxy, which serves DNS over TCP too, everything else to 15001.
 */
static __always_inline __u16 captured_port(__u16 port)
{
	if (knobs.dns_capture && port == AMBIT_DNS_PORT) {
		count(AMBIT_CNT_DNS_TCP_CAPTURED);
		return knobs.dns_port;
	}
	return knobs.outbound_port;
}

#endif /* AMBIT_OUTBOUND_H */
