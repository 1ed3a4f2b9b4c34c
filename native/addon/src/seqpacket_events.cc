// SPDX-License-Identifier: Apache-2.0
// The event side of SeqpacketSocket: the uv_poll watch, accepting, receiving,
// flushing queued sends, calling JS handlers, and releasing.
#include <napi.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "seqpacket.h"

namespace ambit {
namespace {

// Messages or accepts handled per wake-up, so one busy peer cannot starve the loop.
constexpr int kBatch = 64;
// Back-off after accept() ran out of fds; a level-triggered poll would spin otherwise.
constexpr uint64_t kAcceptRetryMs = 100;

// recvmsg() returns 0 both at EOF and for an empty message; only a hung-up peer is EOF.
bool PeerHungUp(int fd) {
  struct pollfd p = {fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
}

std::vector<int> TakeFds(struct msghdr* msg) {
  std::vector<int> fds;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.push_back(fd);
    }
  }
  return fds;
}

}  // namespace

void SeqpacketSocket::CloseFds(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

bool SeqpacketSocket::ReadPeer(int fd, struct ucred* out) {
  socklen_t len = sizeof(*out);
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, &len) == 0;
}

void SeqpacketSocket::CloseWatch(Watch* w) {
  w->owner = nullptr;
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnHandleClosed);
  if (w->has_retry) {
    uv_timer_stop(&w->retry);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->retry), OnHandleClosed);
  }
}

void SeqpacketSocket::OnHandleClosed(uv_handle_t* handle) {
  auto* w = static_cast<Watch*>(handle->data);
  if (--w->open_handles > 0) return;
  if (w->hook != nullptr) napi_remove_async_cleanup_hook(w->hook);
  delete w;
}

// The env is going away (a worker ends) with this socket open: close it now,
// so its handles are closed before the addon can be unloaded. The finalizer
// releases the JS side later.
void SeqpacketSocket::OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* w = static_cast<Watch*>(arg);
  if (w->owner != nullptr) w->owner->ReleaseOs();  // closes w; OnHandleClosed removes the hook
}

int SeqpacketSocket::UpdatePoll() {
  if (fd_ < 0) return 0;
  if (watch_ != nullptr && watch_->has_retry && uv_is_active(reinterpret_cast<uv_handle_t*>(&watch_->retry)))
    return 0;  // accept paused
  int events = (started_ ? UV_READABLE : 0) | (queue_.empty() ? 0 : UV_WRITABLE);
  if (watch_ == nullptr) {
    if (events == 0) return 0;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(Env(), &loop) != napi_ok) return EINVAL;
    auto* w = new Watch;
    int rc = uv_poll_init(loop, &w->poll, fd_);
    if (rc != 0) {
      delete w;
      return -rc;
    }
    w->owner = this;
    w->poll.data = w;
    w->open_handles = 1;
    if (napi_add_async_cleanup_hook(Env(), OnEnvCleanup, w, &w->hook) != napi_ok) w->hook = nullptr;
    if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
    watch_ = w;
  }
  if (events == poll_events_) return 0;
  int rc = events == 0 ? uv_poll_stop(&watch_->poll) : uv_poll_start(&watch_->poll, events, OnPoll);
  if (rc != 0) return -rc;
  poll_events_ = events;
  // While watched, the socket lives on even when JS drops it (like a net.Socket).
  if (events != 0 && !self_ref_) {
    Napi::ObjectWrap<SeqpacketSocket>::Ref();
    self_ref_ = true;
  }
  return 0;
}

void SeqpacketSocket::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Watch*>(handle->data)->owner;
  if (self == nullptr || self->fd_ < 0) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  [[maybe_unused]] Napi::Object keep = self->Value();  // alive until this callback returns, whatever JS does
  try {
    if (status < 0) {
      // libuv reports POLLERR as UV_EBADF and stops the handle; the socket's
      // pending error (read and cleared by SO_ERROR) says what happened.
      self->poll_events_ = 0;
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      if (getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
      if (soerr != 0 && (soerr != ECONNRESET || self->listening_)) {
        self->Finish(soerr, "poll", self->Describe() + " failed");
        return;
      }
      // The peer closed with our messages unread: what it sent is still to be read, then EOF.
      if (soerr == ECONNRESET) self->reset_ = true;
      events = UV_READABLE | UV_WRITABLE;
    }
    // Read first: a peer that closed is EOF, not a failed write.
    if ((events & UV_READABLE) && self->started_) {
      if (self->listening_) self->AcceptReady();
      else self->Readable();
    }
    if (self->fd_ >= 0 && (events & UV_WRITABLE)) self->Writable();
    // Re-arm a handle libuv stopped (POLLERR above).
    if (self->fd_ >= 0 && self->poll_events_ == 0) {
      int err = self->UpdatePoll();
      if (err != 0) self->Finish(err, "uv_poll_start", "cannot watch " + self->Describe());
    }
  } catch (const Napi::Error& e) {
    // A handler threw: that is the program's uncaught exception, as for any Node event.
    napi_fatal_exception(env, e.Value());
  }
}

void SeqpacketSocket::OnRetryTimer(uv_timer_t* timer) {
  auto* self = static_cast<Watch*>(timer->data)->owner;
  if (self == nullptr || self->fd_ < 0) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  [[maybe_unused]] Napi::Object keep = self->Value();
  try {
    int err = self->UpdatePoll();
    if (err != 0) self->Finish(err, "uv_poll_start", "cannot watch " + self->Describe());
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

void SeqpacketSocket::PauseAccept() {
  Watch* w = watch_;  // exists: we are in its poll callback
  if (!w->has_retry) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(Env(), &loop);
    uv_timer_init(loop, &w->retry);
    w->retry.data = w;
    w->has_retry = true;
    w->open_handles++;
    if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(&w->retry));
  }
  uv_poll_stop(&w->poll);
  poll_events_ = 0;
  uv_timer_start(&w->retry, OnRetryTimer, kAcceptRetryMs, 0);
}

void SeqpacketSocket::AcceptReady() {
  Napi::Env env = Env();
  for (int i = 0; i < kBatch && fd_ >= 0; i++) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        PauseAccept();
        ReportError(err, "accept4", "cannot accept on " + path_ + " (out of file descriptors or memory); retrying");
        return;
      }
      Finish(err, "accept4", "accepting on " + path_ + " failed");
      return;
    }
    Napi::Object o;
    try {
      o = env.GetInstanceData<AmbitAddon>()->seqpacket_ctor.New({Napi::External<SeqpacketSocket>::New(env, this)});
    } catch (...) {
      close(c);
      throw;
    }
    SeqpacketSocket* s = Unwrap(o);
    s->fd_ = c;
    s->connected_ = true;
    s->path_ = path_;
    s->has_peer_ = ReadPeer(c, &s->peer_);
    if (!Call(on_connection_, {o})) return;
  }
}

void SeqpacketSocket::Readable() {
  Napi::Env env = Env();
  for (int i = 0; i < kBatch && fd_ >= 0; i++) {
    alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * kMaxFds)];
    struct iovec iov = {rbuf_.data(), rbuf_.size()};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (max_fds_ > 0) {
      msg.msg_control = ctrl;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds_);
    }
    ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR) continue;
      // The peer closed with our messages unread. The error is reported once,
      // before what it had sent us: keep reading that, then EOF.
      if (err == ECONNRESET) {
        reset_ = true;
        continue;
      }
      Finish(err, "recvmsg", "receiving on " + Describe() + " failed");
      return;
    }
    std::vector<int> fds = TakeFds(&msg);
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      // The kernel kept the boundary: drop this message (and every fd it
      // carried), the next one is intact.
      CloseFds(fds);
      if (msg.msg_flags & MSG_TRUNC)
        ReportError(EMSGSIZE, "recvmsg",
                    "dropped a message larger than " + std::to_string(max_message_) + " bytes on " + Describe() +
                        (fds.empty() ? "" : "; the fds it carried were closed"));
      else
        ReportError(EMSGSIZE, "recvmsg",
                    "dropped a message carrying more than " + std::to_string(max_fds_) + " fds on " + Describe() +
                        "; the fds it carried were closed");
      continue;
    }
    if (n == 0 && fds.empty() && PeerHungUp(fd_)) {
      Finish(reset_ ? ECONNRESET : 0, "recvmsg", "the peer closed " + Describe() + " with messages unread");
      return;
    }
    Napi::Array arr = Napi::Array::New(env, fds.size());
    for (size_t k = 0; k < fds.size(); k++) arr.Set(static_cast<uint32_t>(k), Napi::Number::New(env, fds[k]));
    if (!Call(on_message_, {Napi::Buffer<uint8_t>::Copy(env, rbuf_.data(), static_cast<size_t>(n)), arr})) return;
  }
}

void SeqpacketSocket::Writable() {
  while (!queue_.empty()) {
    Outgoing& m = queue_.front();
    int err = SendNow(m.data.data(), m.data.size(), m.fds);
    if (err == EAGAIN) return;
    if (err != 0) {
      Finish(err, "sendmsg", "sending on " + Describe() + " failed");
      return;
    }
    CloseFds(m.fds);
    queue_.pop_front();
  }
  int err = UpdatePoll();
  if (err != 0) Finish(err, "uv_poll_start", "cannot watch " + Describe());
}

int SeqpacketSocket::SendNow(const uint8_t* data, size_t len, const std::vector<int>& fds) {
  struct iovec iov = {const_cast<uint8_t*>(data), len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    size_t bytes = sizeof(int) * fds.size();
    memset(ctrl, 0, sizeof(ctrl));
    msg.msg_control = ctrl;
    msg.msg_controllen = CMSG_SPACE(bytes);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(bytes);
    memcpy(CMSG_DATA(c), fds.data(), bytes);
  }
  for (;;) {
    // SEQPACKET sends are all or nothing; MSG_NOSIGNAL: EPIPE, never SIGPIPE.
    if (sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return 0;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

bool SeqpacketSocket::Call(const Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
  if (fn.IsEmpty() || !async_) return fd_ >= 0;
  depth_++;
  try {
    fn.MakeCallback(Value(), args, *async_);
  } catch (...) {
    EndCall();
    throw;
  }
  EndCall();
  return fd_ >= 0;
}

void SeqpacketSocket::EndCall() {
  if (--depth_ == 0 && fd_ < 0) async_.reset();
}

void SeqpacketSocket::Finish(int err, const char* syscall, const std::string& message) {
  Napi::Env env = Env();
  Failure f;
  f.err = err;
  f.syscall = syscall;
  f.message = message;
  f.path = path_;
  if (!started_ && err != 0) early_failure_ = f;
  Napi::FunctionReference cb = std::move(on_close_);
  depth_++;  // keeps async_ through Release() for the close callback
  Release();
  try {
    if (!cb.IsEmpty()) cb.MakeCallback(Value(), {err == 0 ? env.Null() : SystemError(env, f).Value()}, *async_);
  } catch (...) {
    EndCall();
    throw;
  }
  EndCall();
}

void SeqpacketSocket::ReportError(int err, const char* syscall, const std::string& message) {
  if (on_error_.IsEmpty()) return;
  Call(on_error_, {SystemError(Env(), err, syscall, message, path_).Value()});
}

void SeqpacketSocket::Release() {
  ReleaseOs();
  ReleaseJs();
}

void SeqpacketSocket::ReleaseOs() {
  if (fd_ < 0) return;
  if (watch_ != nullptr) {
    CloseWatch(watch_);
    watch_ = nullptr;
  }
  poll_events_ = 0;
  close(fd_);
  fd_ = -1;
  for (Outgoing& m : queue_) CloseFds(m.fds);
  queue_.clear();
  // Remove the socket file only if it is still ours (a successor may have replaced it).
  if (owns_path_) {
    struct stat st;
    if (stat(path_.c_str(), &st) == 0 && st.st_dev == path_dev_ && st.st_ino == path_ino_) unlink(path_.c_str());
    owns_path_ = false;
  }
}

void SeqpacketSocket::ReleaseJs() {
  // Handlers often close over this object: drop them so the pair can be collected.
  on_message_.Reset();
  on_connection_.Reset();
  on_error_.Reset();
  on_close_.Reset();
  std::vector<uint8_t>().swap(rbuf_);
  if (depth_ == 0) async_.reset();
  if (self_ref_) {
    self_ref_ = false;
    Napi::ObjectWrap<SeqpacketSocket>::Unref();
  }
}

}  // namespace ambit
