// SPDX-License-Identifier: Apache-2.0
#include "errors.h"

#include <bpf/libbpf.h>
#include <uv.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ambit {
namespace {

thread_local std::string g_log;
constexpr size_t kMaxLog = 16 * 1024;
bool g_echo = false;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG && !g_echo) return 0;
  char buf[1024];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(buf, sizeof(buf), fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (g_echo) fputs(buf, stderr);
  if (level == LIBBPF_DEBUG) return 0;
  g_log.append(buf);
  // Keep the tail: the verifier's verdict is at the end of its log.
  if (g_log.size() > kMaxLog) g_log.erase(0, g_log.size() - kMaxLog);
  return 0;
}

std::string CodeFor(int err) {
  if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END) return "ELIBBPF";
  const char* name = uv_err_name(-err);
  if (name == nullptr || strncmp(name, "Unknown", 7) == 0) return "E" + std::to_string(err);
  return name;
}

std::string Describe(int err) {
  char buf[256];
  if (libbpf_strerror(err, buf, sizeof(buf)) == 0) return buf;
  return strerror(err);
}

}  // namespace

void InstallLibbpfLogger() {
  const char* echo = getenv("AMBIT_LIBBPF_DEBUG");
  g_echo = echo != nullptr && echo[0] == '1';
  libbpf_set_print(LibbpfPrint);
}

void ClearLibbpfLog() { g_log.clear(); }

std::string TakeLibbpfLog() {
  std::string out;
  out.swap(g_log);
  return out;
}

std::string HintFor(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return "; run as root (loading eBPF needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)";
    case ENOMEM:
      return "; the kernel refused memory for BPF (check `ulimit -l` or memcg limits)";
    default:
      return "";
  }
}

Napi::Error SystemError(Napi::Env env, const Failure& f) {
  std::string code = CodeFor(f.err);
  std::string msg = code + ": " + f.message;
  if (msg.find(Describe(f.err)) == std::string::npos) msg += " (" + Describe(f.err) + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  Napi::Object o = e.Value();
  o.Set("code", code);
  o.Set("errno", Napi::Number::New(env, -f.err));
  o.Set("syscall", f.syscall);
  if (!f.path.empty()) o.Set("path", f.path);
  if (!f.details.empty()) o.Set("details", f.details);
  return e;
}

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall,
                        const std::string& message, const std::string& path) {
  Failure f;
  f.err = err;
  f.syscall = syscall;
  f.message = message;
  f.path = path;
  return SystemError(env, f);
}

Napi::Error ArgError(Napi::Env env, const std::string& message, bool type) {
  if (type) {
    Napi::TypeError e = Napi::TypeError::New(env, message);
    e.Value().Set("code", "ERR_INVALID_ARG_TYPE");
    return e;
  }
  Napi::RangeError e = Napi::RangeError::New(env, message);
  e.Value().Set("code", "ERR_INVALID_ARG_VALUE");
  return e;
}

}  // namespace ambit
