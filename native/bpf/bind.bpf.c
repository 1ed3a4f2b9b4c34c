// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Bind guard, in the spirit of Istio's: an app in an enrolled pod cannot take
 * the agent's ports (it would steal or shadow captured traffic). The agent's
 * own sockets are created from outside pod cgroups and are not affected.
 * Returning 0 makes bind() fail with EPERM.
 */
#include "common.h"

static __always_inline int bind_allowed(struct bpf_sock_addr *ctx)
{
	__u64 cgroup = bpf_get_current_cgroup_id();
	struct ambit_pod *pod = bpf_map_lookup_elem(&enrolled, &cgroup);
	__u16 port;

	if (!pod || !(pod->flags & AMBIT_POD_F_BIND_GUARD))
		return 1;
	port = bpf_ntohs(ctx->user_port);
	if (port == knobs.outbound_port || port == knobs.inbound_port ||
	    port == knobs.hbone_port || port == knobs.dns_port) {
		count(AMBIT_CNT_BIND_DENIED);
		return 0;
	}
	return 1;
}

SEC("cgroup/bind4")
int ambit_bind4(struct bpf_sock_addr *ctx)
{
	return bind_allowed(ctx);
}

SEC("cgroup/bind6")
int ambit_bind6(struct bpf_sock_addr *ctx)
{
	return bind_allowed(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
