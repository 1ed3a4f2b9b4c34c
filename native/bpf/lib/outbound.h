/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The decision shared by connect4 and connect6: capture this connect() or not. */
#ifndef AMBIT_OUTBOUND_H
#define AMBIT_OUTBOUND_H

#include "common.h"

#ifndef SOCK_STREAM
#define SOCK_STREAM 1
#endif

/*
 * Returns 1 when the connect must be redirected to the pod-local outbound
 * listener; the original destination is then recorded under the socket
 * cookie for sockops to re-key once the client port is known.
 */
static __always_inline int should_capture(struct bpf_sock_addr *ctx, const __u8 addr[16],
					  __u16 port, __u16 family)
{
	struct ambit_orig_dst od = {};
	struct ambit_pod *pod;
	struct bpf_sock *sk;
	__u64 cgroup, cookie;

	if (ctx->type != SOCK_STREAM || ctx->protocol != IPPROTO_TCP)
		return 0;
	cgroup = bpf_get_current_cgroup_id();
	pod = bpf_map_lookup_elem(&enrolled, &cgroup);
	if (!pod || !(pod->flags & AMBIT_POD_F_CAPTURE_OUT))
		return 0;
	if (addr_is_loopback(addr))
		return 0;
	/* Belt and braces: the agent is outside pod cgroups, and marks its sockets too. */
	sk = ctx->sk;
	if (sk && knobs.agent_mark && sk->mark == knobs.agent_mark) {
		count(AMBIT_CNT_OUT_AGENT_SOCKET);
		return 0;
	}
	if (port_bypassed(pod->pod_id, port, AMBIT_DIR_OUTBOUND)) {
		count(AMBIT_CNT_OUT_BYPASS_PORT);
		return 0;
	}
	if (cidr_bypassed(pod->pod_id, addr)) {
		count(AMBIT_CNT_OUT_BYPASS_CIDR);
		return 0;
	}

	__builtin_memcpy(od.addr, addr, 16);
	od.port = port;
	od.family = family;
	od.pod_id = pod->pod_id;
	cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_update_elem(&orig_dst_by_cookie, &cookie, &od, BPF_ANY))
		return 0; /* cannot record it: leave the connect alone rather than orphan it */
	count(AMBIT_CNT_OUT_CAPTURED);
	return 1;
}

#endif /* AMBIT_OUTBOUND_H */
