// SPDX-License-Identifier: Apache-2.0
#include "seqpacket.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "addon.h"

namespace ambit {
namespace {

socklen_t FillAddr(const std::string& path, sockaddr_un* addr) {
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path.data(), path.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
}

// A filesystem path only: the file is what carries the access mode (no abstract sockets).
std::string PathArg(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path) || path.find('\0') != std::string::npos)
    throw ArgError(info.Env(),
                   "argument 'path' must be a socket file path of 1.." +
                       std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes without NUL",
                   false);
  return path;
}

// A socket file left by a process that died is removed. Anything else at the
// path is an error: a live listener (another agent) or a file that is not a socket.
void ClearStale(Napi::Env env, const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw SystemError(env, errno, "lstat", "cannot inspect " + path, path);
  }
  if (!S_ISSOCK(st.st_mode))
    throw SystemError(env, EEXIST, "bind", path + " exists and is not a socket; refusing to replace it", path);
  int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) throw SystemError(env, errno, "socket", "cannot create a probe socket", path);
  sockaddr_un addr;
  socklen_t len = FillAddr(path, &addr);
  int err = connect(probe, reinterpret_cast<sockaddr*>(&addr), len) == 0 ? 0 : errno;
  close(probe);
  // EAGAIN: a live listener with a full backlog; EPROTOTYPE: a live listener of another type.
  if (err == 0 || err == EAGAIN || err == EPROTOTYPE)
    throw SystemError(env, EADDRINUSE, "bind", "another process is listening on " + path + "; stop it first", path);
  if (err != ECONNREFUSED)
    throw SystemError(env, err, "connect", "cannot tell whether " + path + " is a stale socket", path);
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    throw SystemError(env, errno, "unlink", "cannot remove the stale socket " + path, path);
}

}  // namespace

Napi::Function SeqpacketSocket::Init(Napi::Env env) {
  return DefineClass(env, "SeqpacketSocket",
                     {
                         InstanceMethod<&SeqpacketSocket::Listen>("listen"),
                         InstanceMethod<&SeqpacketSocket::Connect>("connect"),
                         InstanceMethod<&SeqpacketSocket::Start>("start"),
                         InstanceMethod<&SeqpacketSocket::Send>("send"),
                         InstanceMethod<&SeqpacketSocket::Close>("close"),
                         InstanceMethod<&SeqpacketSocket::RefHandle>("ref"),
                         InstanceMethod<&SeqpacketSocket::UnrefHandle>("unref"),
                         InstanceAccessor<&SeqpacketSocket::GetFd>("fd"),
                         InstanceAccessor<&SeqpacketSocket::GetClosed>("closed"),
                         InstanceAccessor<&SeqpacketSocket::GetPeer>("peer"),
                         InstanceAccessor<&SeqpacketSocket::GetPath>("path"),
                         InstanceAccessor<&SeqpacketSocket::GetQueued>("queued"),
                         StaticValue("MAX_MESSAGE", Napi::Number::New(env, kMaxMessage)),
                         StaticValue("MAX_FDS", Napi::Number::New(env, kMaxFds)),
                     });
}

SeqpacketSocket::SeqpacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SeqpacketSocket>(info) {
  Napi::Env env = info.Env();
  // An accepted connection: AcceptReady() hands over the fd.
  if (info.Length() == 1 && info[0].IsExternal()) return;
  if (info.Length() != 0) throw ArgError(env, "new SeqpacketSocket() takes no arguments");
  fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw SystemError(env, errno, "socket", "cannot create a unix SOCK_SEQPACKET socket");
}

SeqpacketSocket::~SeqpacketSocket() {
  self_ref_ = false;  // being finalized: the reference is going away anyway
  Release();
}

std::string SeqpacketSocket::Describe() const {
  if (listening_) return "listener on " + path_;
  if (connected_) return "connection on " + path_;
  return "socket";
}

// listen(path, mode, backlog?): removes a stale socket file, binds, chmods, listens.
Napi::Value SeqpacketSocket::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info);
  int mode = ArgInt32(info, 1, "mode");
  if (mode < 0 || mode > 0777) throw ArgError(env, "argument 'mode' must be a permission mode 0..0o777", false);
  int backlog = 128;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    backlog = ArgInt32(info, 2, "backlog");
    if (backlog < 1) throw ArgError(env, "argument 'backlog' must be >= 1", false);
  }
  if (fd_ < 0) throw SystemError(env, EBADF, "listen", "the socket is closed", path);
  if (listening_ || connected_) throw SystemError(env, EISCONN, "listen", Describe() + " cannot listen again", path);
  ClearStale(env, path);
  sockaddr_un addr;
  socklen_t len = FillAddr(path, &addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    std::string hint = err == ENOENT ? "; create the directory first"
                       : err == EADDRINUSE ? "; another process bound it meanwhile"
                                           : "";
    throw SystemError(env, err, "bind", "cannot bind " + path + hint, path);
  }
  auto undo = [&](const char* call, const std::string& what) {
    int err = errno;
    unlink(path.c_str());
    return SystemError(env, err, call, what, path);
  };
  // The mode is set before listen(): until then every connect() is refused,
  // so no peer ever gets through under the umask's default mode.
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) throw undo("chmod", "cannot set the mode of " + path);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) throw undo("stat", "cannot stat " + path);
  if (::listen(fd_, backlog) != 0) throw undo("listen", "cannot listen on " + path);
  path_ = path;
  owns_path_ = true;
  path_dev_ = st.st_dev;
  path_ino_ = st.st_ino;
  listening_ = true;
  return env.Undefined();
}

// connect(path): unix connects complete at once (EAGAIN only when the backlog is full).
Napi::Value SeqpacketSocket::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info);
  if (fd_ < 0) throw SystemError(env, EBADF, "connect", "the socket is closed", path);
  if (listening_ || connected_) throw SystemError(env, EISCONN, "connect", Describe() + " cannot connect again", path);
  sockaddr_un addr;
  socklen_t len = FillAddr(path, &addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    std::string hint = err == ENOENT         ? "; nothing listens there (is the server running?)"
                       : err == ECONNREFUSED ? "; the socket file is stale (is the server running?)"
                       : err == EACCES       ? "; the socket file's mode does not allow this user"
                       : err == EAGAIN       ? "; the listener's backlog is full, retry"
                       : err == EPROTOTYPE   ? "; that is not a SOCK_SEQPACKET socket"
                                             : "";
    throw SystemError(env, err, "connect", "cannot connect to " + path + hint, path);
  }
  path_ = path;
  connected_ = true;
  has_peer_ = ReadPeer(fd_, &peer_);
  return env.Undefined();
}

// start(handlers, {maxMessage?, maxFds?}): begins delivering connections or messages.
Napi::Value SeqpacketSocket::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw ArgError(env, "argument 'handlers' must be an object");
  if (early_failure_.failed()) throw SystemError(env, early_failure_);
  if (fd_ < 0) throw SystemError(env, EBADF, "start", "the socket is closed");
  if (!listening_ && !connected_) throw SystemError(env, ENOTCONN, "start", "call listen() or connect() first");
  if (started_) throw SystemError(env, EALREADY, "start", Describe() + " is already started");
  Napi::Object h = info[0].As<Napi::Object>();
  auto handler = [&](const char* name, bool required) {
    Napi::Value v = h.Get(name);
    if (v.IsUndefined() && !required) return Napi::FunctionReference();
    if (!v.IsFunction()) throw ArgError(env, std::string("handlers.") + name + " must be a function");
    return Napi::Persistent(v.As<Napi::Function>());
  };
  size_t max_message = kMaxMessage, max_fds = kMaxFds;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) throw ArgError(env, "argument 'options' must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    auto limit = [&](const char* name, size_t lo, size_t hi, size_t* out) {
      Napi::Value v = o.Get(name);
      if (v.IsUndefined()) return;
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
        throw ArgError(env, std::string("options.") + name + " must be an integer " + std::to_string(lo) + ".." +
                                std::to_string(hi), false);
      *out = static_cast<size_t>(d);
    };
    limit("maxMessage", 1, kMaxMessage, &max_message);
    limit("maxFds", 0, kMaxFds, &max_fds);
  }
  Napi::FunctionReference on_connection, on_message;
  if (listening_) on_connection = handler("connection", true);
  else on_message = handler("message", true);
  Napi::FunctionReference on_error = handler("error", false);
  Napi::FunctionReference on_close = handler("close", false);

  on_connection_ = std::move(on_connection);
  on_message_ = std::move(on_message);
  on_error_ = std::move(on_error);
  on_close_ = std::move(on_close);
  max_message_ = max_message;
  max_fds_ = max_fds;
  if (connected_) rbuf_.resize(max_message_);
  async_ = std::make_unique<Napi::AsyncContext>(env, "ambit.SeqpacketSocket");
  started_ = true;
  int err = UpdatePoll();
  if (err != 0) throw SystemError(env, err, "uv_poll_start", "cannot watch " + Describe());
  return env.Undefined();
}

// send(data, fds?): true when sent now, false when queued behind a full socket buffer.
// The caller keeps its fds either way (a queued message holds duplicates).
Napi::Value SeqpacketSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> data = ArgBuffer(info, 0, "data");
  if (data.Length() == 0 || data.Length() > kMaxMessage)
    throw ArgError(env,
                   "argument 'data' must be 1.." + std::to_string(kMaxMessage) + " bytes, got " +
                       std::to_string(data.Length()),
                   false);
  std::vector<int> fds;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsArray()) throw ArgError(env, "argument 'fds' must be an array of file descriptors");
    Napi::Array a = info[1].As<Napi::Array>();
    if (a.Length() > kMaxFds)
      throw ArgError(env, "at most " + std::to_string(kMaxFds) + " fds per message", false);
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (d != std::floor(d) || d < 0 || d > INT_MAX)
        throw ArgError(env, "fds[" + std::to_string(i) + "] must be a file descriptor (integer >= 0)");
      int fd = static_cast<int>(d);
      if (fcntl(fd, F_GETFD) < 0)
        throw SystemError(env, EBADF, "sendmsg", "fds[" + std::to_string(i) + "] (" + std::to_string(fd) +
                                                     ") is not an open file descriptor");
      fds.push_back(fd);
    }
  }
  if (fd_ < 0) throw SystemError(env, EBADF, "sendmsg", "the socket is closed", path_);
  if (!connected_) throw SystemError(env, ENOTCONN, "sendmsg", Describe() + " is not a connection", path_);
  if (queue_.empty()) {
    int err = SendNow(data.Data(), data.Length(), fds);
    if (err == 0) return Napi::Boolean::New(env, true);
    if (err != EAGAIN)
      throw SystemError(env, err, "sendmsg",
                        "sending on " + Describe() + " failed" +
                            (err == EPIPE || err == ECONNRESET ? "; the peer closed the connection" : ""),
                        path_);
  }
  Outgoing m;
  m.data.assign(data.Data(), data.Data() + data.Length());
  for (size_t i = 0; i < fds.size(); i++) {
    int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (d < 0) {
      int err = errno;
      CloseFds(m.fds);
      throw SystemError(env, err, "fcntl", "cannot duplicate fds[" + std::to_string(i) + "] to queue the message");
    }
    m.fds.push_back(d);
  }
  queue_.push_back(std::move(m));
  int err = UpdatePoll();
  if (err != 0) throw SystemError(env, err, "uv_poll_start", "cannot watch " + Describe());
  return Napi::Boolean::New(env, false);
}

Napi::Value SeqpacketSocket::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value SeqpacketSocket::RefHandle(const Napi::CallbackInfo& info) {
  refed_ = true;
  if (watch_ != nullptr) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&watch_->poll));
    if (watch_->has_retry) uv_ref(reinterpret_cast<uv_handle_t*>(&watch_->retry));
  }
  return info.Env().Undefined();
}

Napi::Value SeqpacketSocket::UnrefHandle(const Napi::CallbackInfo& info) {
  refed_ = false;
  if (watch_ != nullptr) {
    uv_unref(reinterpret_cast<uv_handle_t*>(&watch_->poll));
    if (watch_->has_retry) uv_unref(reinterpret_cast<uv_handle_t*>(&watch_->retry));
  }
  return info.Env().Undefined();
}

Napi::Value SeqpacketSocket::GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

Napi::Value SeqpacketSocket::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), fd_ < 0);
}

Napi::Value SeqpacketSocket::GetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!has_peer_) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, peer_.pid));
  o.Set("uid", Napi::Number::New(env, peer_.uid));
  o.Set("gid", Napi::Number::New(env, peer_.gid));
  return o;
}

Napi::Value SeqpacketSocket::GetPath(const Napi::CallbackInfo& info) {
  if (path_.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), path_);
}

Napi::Value SeqpacketSocket::GetQueued(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(queue_.size()));
}

}  // namespace ambit
