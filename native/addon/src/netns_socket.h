// SPDX-License-Identifier: Apache-2.0
// The netns socket factory. A socket's network namespace is fixed when it is
// created, so the agent makes in-pod sockets on a short-lived thread that
// setns()es into the pod, creates (and binds/listens) the socket and exits;
// the fd then goes to Node (net.Server.listen({fd}) / new net.Socket({fd})).
#pragma once

#include <napi.h>

#include "errors.h"

namespace ambit {

// Ok (err == 0) when fd refers to a network namespace.
Failure CheckNetnsFd(int fd);

void RegisterNetnsSocket(Napi::Env env, Napi::Object exports);

}  // namespace ambit
