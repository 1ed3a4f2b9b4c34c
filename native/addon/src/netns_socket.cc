// SPDX-License-Identifier: Apache-2.0
#include "netns_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "addon.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14+
#endif

namespace ambit {
namespace {

struct SocketSpec {
  int netns_fd = -1;  // -1: the caller's own namespace
  int family = AF_INET;
  int type = SOCK_STREAM;  // or SOCK_DGRAM (the DNS proxy's UDP socket)
  std::string address;  // bind address; empty: do not bind
  int port = 0;
  bool listen = false;
  int backlog = 511;
  bool reuse_port = false;
  bool has_mark = false;
  uint32_t mark = 0;
};

Failure Fail(int err, const char* syscall, const std::string& message) {
  Failure f;
  f.err = err;
  f.syscall = syscall;
  f.message = message;
  return f;
}

std::string Where(const SocketSpec& s) {
  std::string a = s.family == AF_INET6 ? "[" + s.address + "]" : s.address;
  return a + ":" + std::to_string(s.port) + (s.netns_fd >= 0 ? " in netns fd " + std::to_string(s.netns_fd) : "");
}

// Runs on a thread that may already be inside the target namespace.
Failure MakeSocket(const SocketSpec& s, int* out) {
  bool udp = s.type == SOCK_DGRAM;
  int fd = socket(s.family, s.type | SOCK_CLOEXEC, udp ? IPPROTO_UDP : IPPROTO_TCP);
  if (fd < 0) return Fail(errno, "socket", udp ? "cannot create a UDP socket" : "cannot create a TCP socket");
  int one = 1;
  auto fail = [&](const char* call, const std::string& msg) {
    Failure f = Fail(errno, call, msg);
    close(fd);
    return f;
  };
  if (s.has_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &s.mark, sizeof(s.mark)) != 0)
    return fail("setsockopt", "cannot set SO_MARK (needs CAP_NET_ADMIN)");
  if (s.family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
    return fail("setsockopt", "cannot set IPV6_V6ONLY");
  if (s.listen && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
    return fail("setsockopt", "cannot set SO_REUSEADDR");
  if (s.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
    return fail("setsockopt", "cannot set SO_REUSEPORT");
  if (!s.address.empty()) {
    sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (s.family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(static_cast<uint16_t>(s.port));
      inet_pton(AF_INET, s.address.c_str(), &sin->sin_addr);
      len = sizeof(*sin);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(static_cast<uint16_t>(s.port));
      inet_pton(AF_INET6, s.address.c_str(), &sin6->sin6_addr);
      len = sizeof(*sin6);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      int err = errno;
      std::string hint = err == EADDRINUSE ? "; another socket holds it (is an agent already running for this pod?)"
                         : err == EADDRNOTAVAIL ? "; that address is not configured in the namespace"
                                                : "";
      errno = err;
      return fail("bind", "cannot bind " + Where(s) + hint);
    }
  }
  if (s.listen && ::listen(fd, s.backlog) != 0) return fail("listen", "cannot listen on " + Where(s));
  *out = fd;
  return Failure{};
}

Failure MakeSocketIn(const SocketSpec& s, int* out) {
  if (s.netns_fd < 0) return MakeSocket(s, out);
  Failure result;
  // A fresh thread: setns() changes only this thread, which then simply ends,
  // so no thread is ever left in the wrong namespace.
  std::thread t([&]() {
    if (setns(s.netns_fd, CLONE_NEWNET) != 0) {
      result = Fail(errno, "setns", "cannot enter netns fd " + std::to_string(s.netns_fd));
      return;
    }
    result = MakeSocket(s, out);
  });
  t.join();
  return result;
}

Failure NetnsCookieOf(int netns_fd, uint64_t* cookie) {
  SocketSpec s;
  s.netns_fd = netns_fd;
  int fd = -1;
  Failure f = MakeSocketIn(s, &fd);
  if (f.failed()) return f;
  socklen_t len = sizeof(*cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) != 0) {
    f = Fail(errno, "getsockopt", "cannot read SO_NETNS_COOKIE (Linux 5.14+ needed)");
  }
  close(fd);
  return f;
}

class SocketWorker : public Napi::AsyncWorker {
 public:
  SocketWorker(Napi::Env env, SocketSpec spec, bool cookie_only)
      : Napi::AsyncWorker(env), spec_(std::move(spec)), cookie_only_(cookie_only),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    failure_ = cookie_only_ ? NetnsCookieOf(spec_.netns_fd, &cookie_) : MakeSocketIn(spec_, &fd_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failure_.failed()) {
      deferred_.Reject(SystemError(env, failure_).Value());
    } else if (cookie_only_) {
      deferred_.Resolve(Napi::BigInt::New(env, cookie_));
    } else {
      deferred_.Resolve(Napi::Number::New(env, fd_));
    }
  }

 private:
  SocketSpec spec_;
  bool cookie_only_;
  Napi::Promise::Deferred deferred_;
  Failure failure_;
  int fd_ = -1;
  uint64_t cookie_ = 0;
};

int OptionalNetnsFd(Napi::Env env, Napi::Object o) {
  Napi::Value v = o.Get("netnsFd");
  if (v.IsUndefined() || v.IsNull()) return -1;
  if (!v.IsNumber()) throw ArgError(env, "options.netnsFd must be a file descriptor number");
  int fd = v.As<Napi::Number>().Int32Value();
  Failure f = CheckNetnsFd(fd);
  if (f.failed()) throw SystemError(env, f);
  return fd;
}

// createSocket({netnsFd?, family: 4|6, type?: 'tcp'|'udp', address?, port?, listen?, backlog?, reusePort?, mark?}): Promise<fd>
// A UDP socket is bound (never listening) and without SO_REUSEADDR, so a second bind of the
// same address:port fails with EADDRINUSE instead of splitting its datagrams.
Napi::Value CreateSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw ArgError(env, "createSocket(options): options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  SocketSpec s;
  s.netns_fd = OptionalNetnsFd(env, o);
  Napi::Value fam = o.Get("family");
  int family = fam.IsNumber() ? fam.As<Napi::Number>().Int32Value() : 0;
  if (family != 4 && family != 6) throw ArgError(env, "options.family must be 4 or 6", false);
  s.family = family == 4 ? AF_INET : AF_INET6;
  Napi::Value type = o.Get("type");
  if (!type.IsUndefined()) {
    std::string t = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
    if (t != "tcp" && t != "udp") throw ArgError(env, "options.type must be 'tcp' or 'udp'", false);
    s.type = t == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  }
  Napi::Value addr = o.Get("address");
  if (addr.IsString()) {
    s.address = addr.As<Napi::String>().Utf8Value();
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(s.family, s.address.c_str(), buf) != 1)
      throw ArgError(env, "options.address '" + s.address + "' is not an IPv" + std::to_string(family) + " address", false);
  } else if (!addr.IsUndefined()) {
    throw ArgError(env, "options.address must be a string");
  }
  Napi::Value port = o.Get("port");
  if (!port.IsUndefined()) {
    if (!port.IsNumber()) throw ArgError(env, "options.port must be a number");
    s.port = port.As<Napi::Number>().Int32Value();
    if (s.port < 0 || s.port > 65535) throw ArgError(env, "options.port must be 0..65535", false);
  }
  s.listen = o.Get("listen").ToBoolean();
  if (s.listen && s.type == SOCK_DGRAM) throw ArgError(env, "options.listen is for TCP; a UDP socket is only bound", false);
  // A listener, or a socket given a port, binds the wildcard when no address is given.
  if ((s.listen || s.port != 0) && s.address.empty()) s.address = family == 4 ? "0.0.0.0" : "::";
  Napi::Value backlog = o.Get("backlog");
  if (backlog.IsNumber()) s.backlog = backlog.As<Napi::Number>().Int32Value();
  s.reuse_port = o.Get("reusePort").ToBoolean();
  Napi::Value mark = o.Get("mark");
  if (mark.IsNumber()) {
    s.has_mark = true;
    s.mark = mark.As<Napi::Number>().Uint32Value();
  }
  auto* w = new SocketWorker(env, s, false);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// netnsCookie(netnsFd): Promise<bigint> — the cookie BPF sees for that namespace.
Napi::Value NetnsCookie(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketSpec s;
  s.netns_fd = ArgInt32(info, 0, "netnsFd");
  Failure f = CheckNetnsFd(s.netns_fd);
  if (f.failed()) throw SystemError(env, f);
  auto* w = new SocketWorker(env, s, true);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Endpoint(Napi::Env env, const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  Napi::Object o = Napi::Object::New(env);
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    o.Set("address", buf);
    o.Set("port", ntohs(sin->sin_port));
    o.Set("family", 4);
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    o.Set("address", buf);
    o.Set("port", ntohs(sin6->sin6_port));
    o.Set("family", 6);
  } else {
    return env.Null();
  }
  return o;
}

// socketInfo(fd): {netnsCookie, mark, local, remote|null} — cheap getsockopt/getsockname calls.
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    int err = errno;
    throw SystemError(env, err, "getsockopt",
                      "fd " + std::to_string(fd) + (err == ENOTSOCK || err == EBADF ? " is not an open socket" : ": cannot read SO_NETNS_COOKIE"));
  }
  uint32_t mark = 0;
  len = sizeof(mark);
  getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len);
  sockaddr_storage local, remote;
  socklen_t l1 = sizeof(local), l2 = sizeof(remote);
  memset(&local, 0, sizeof(local));
  memset(&remote, 0, sizeof(remote));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &l1) != 0)
    throw SystemError(env, errno, "getsockname", "fd " + std::to_string(fd) + ": cannot read the local address");
  Napi::Object o = Napi::Object::New(env);
  o.Set("netnsCookie", Napi::BigInt::New(env, cookie));
  o.Set("mark", mark);
  o.Set("local", Endpoint(env, local));
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &l2) == 0) o.Set("remote", Endpoint(env, remote));
  else o.Set("remote", env.Null());
  return o;
}

// checkNetnsFd(fd): throws a SystemError unless fd is a network namespace.
Napi::Value CheckNetns(const Napi::CallbackInfo& info) {
  Failure f = CheckNetnsFd(ArgInt32(info, 0, "netnsFd"));
  if (f.failed()) throw SystemError(info.Env(), f);
  return info.Env().Undefined();
}

}  // namespace

Failure CheckNetnsFd(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0)
    return Fail(EBADF, "fstat", "fd " + std::to_string(fd) + " is not an open file descriptor");
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET)
    return Fail(EINVAL, "ioctl",
                "fd " + std::to_string(fd) + " is not a network namespace; open /proc/<pid>/ns/net or /run/netns/<name>");
  return Failure{};
}

void RegisterNetnsSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("createSocket", Napi::Function::New<CreateSocket>(env, "createSocket"));
  exports.Set("netnsCookie", Napi::Function::New<NetnsCookie>(env, "netnsCookie"));
  exports.Set("socketInfo", Napi::Function::New<SocketInfo>(env, "socketInfo"));
  exports.Set("checkNetnsFd", Napi::Function::New<CheckNetns>(env, "checkNetnsFd"));
}

}  // namespace ambit
