// SPDX-License-Identifier: Apache-2.0
// Errors that cross into JS are shaped like Node's SystemError: `code`
// ('ENOENT'), negative `errno`, `syscall`, optional `path`, and a message
// that names the object and, where we can tell, what to do.
#pragma once

#include <napi.h>

#include <string>

namespace ambit {

// A failure recorded off the JS thread, turned into a JS error on it.
struct Failure {
  int err = 0;  // positive errno (or a LIBBPF_ERRNO__* value)
  std::string syscall;
  std::string message;
  std::string path;
  std::string details;  // libbpf's log tail (e.g. the verifier log)
  bool failed() const { return err != 0; }
};

// Routes libbpf's log into a per-thread buffer so the log of a failed
// operation can travel with its error instead of spamming stderr.
// AMBIT_LIBBPF_DEBUG=1 also echoes it to stderr.
void InstallLibbpfLogger();
void ClearLibbpfLog();
std::string TakeLibbpfLog();

// Operator hint for common errnos ("run as root ...").
std::string HintFor(int err);

Napi::Error SystemError(Napi::Env env, const Failure& f);
Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall,
                        const std::string& message, const std::string& path = "");

// Argument errors are TypeErrors with code ERR_INVALID_ARG_TYPE/VALUE, as in Node.
Napi::Error ArgError(Napi::Env env, const std::string& message, bool type = true);

}  // namespace ambit
