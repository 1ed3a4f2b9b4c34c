// SPDX-License-Identifier: Apache-2.0
// SeqpacketSocket: a unix SOCK_SEQPACKET socket (message boundaries kept,
// fds passed with SCM_RIGHTS, peer credentials from SO_PEERCRED), which Node
// does not offer. It backs the agent's enrollment socket.
//
// One object per socket, all state in the instance. The fd is nonblocking and
// watched by a uv_poll on the JS thread: no thread per socket, nothing on the
// threadpool. Messages go to JS as (data, fds); received fds are CLOEXEC and
// belong to JS. A send that would block is queued (its fds dup'ed, so the
// caller always keeps its own) and flushed when the socket turns writable.
// close() is explicit and idempotent; the finalizer is a backstop.
// seqpacket.cc: setup (listen/connect/start/send); seqpacket_events.cc: the
// event side (poll, accept, receive, flush, handlers, release).
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace ambit {

class SeqpacketSocket : public Napi::ObjectWrap<SeqpacketSocket> {
 public:
  // Largest message and most fds per message, unless start() lowers them.
  // Mirrored in common/native/addon.ts.
  static constexpr size_t kMaxMessage = 64 * 1024;
  static constexpr size_t kMaxFds = 16;

  static Napi::Function Init(Napi::Env env);
  explicit SeqpacketSocket(const Napi::CallbackInfo& info);
  ~SeqpacketSocket() override;

 private:
  struct Outgoing {
    std::vector<uint8_t> data;
    std::vector<int> fds;  // dup'ed, owned by the queue
  };

  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value RefHandle(const Napi::CallbackInfo& info);
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetPeer(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value GetQueued(const Napi::CallbackInfo& info);

  static void CloseFds(const std::vector<int>& fds);
  static bool ReadPeer(int fd, struct ucred* out);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnRetryTimer(uv_timer_t* timer);
  void Readable();
  void AcceptReady();
  void Writable();
  // Sends one message now: 0, or a positive errno (EAGAIN: try later).
  int SendNow(const uint8_t* data, size_t len, const std::vector<int>& fds);
  // (Re)arms the poll for what is wanted now; 0 or a positive errno.
  int UpdatePoll();
  void PauseAccept();
  // The peer closed (err == 0) or the socket failed: release, then tell JS.
  void Finish(int err, const char* syscall, const std::string& message);
  // A message was dropped; the socket stays usable.
  void ReportError(int err, const char* syscall, const std::string& message);
  // Calls a JS handler; false when the socket was closed meanwhile.
  bool Call(const Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args);
  // Release(): ReleaseOs() (fd, handles, queue, socket file) then ReleaseJs()
  // (handlers, async context, self reference). Each is idempotent.
  void Release();
  void ReleaseOs();
  void ReleaseJs();
  void EndCall();
  std::string Describe() const;

  int fd_ = -1;
  bool listening_ = false;
  bool connected_ = false;
  bool started_ = false;
  bool refed_ = true;
  bool self_ref_ = false;  // ObjectWrap::Ref() taken while polling
  bool reset_ = false;     // ECONNRESET seen: the peer closed with our messages unread
  // The socket's uv handles (poll, and the accept back-off timer). They
  // outlive the socket until libuv has closed them; an async env-cleanup hook
  // makes a worker's teardown wait for that, since the close callbacks live in
  // this addon, which Node unloads with the last env using it.
  struct Watch {
    SeqpacketSocket* owner = nullptr;  // null once the socket let go
    uv_poll_t poll;
    uv_timer_t retry;
    bool has_retry = false;
    int open_handles = 0;
    napi_async_cleanup_hook_handle hook = nullptr;
  };
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  static void CloseWatch(Watch* w);
  Watch* watch_ = nullptr;
  int poll_events_ = 0;
  int depth_ = 0;  // JS callbacks running: async_ outlives them even when one closes the socket

  std::string path_;      // listener: the socket file we bound; connected: where we connected
  bool owns_path_ = false;
  dev_t path_dev_ = 0;
  ino_t path_ino_ = 0;

  bool has_peer_ = false;
  struct ucred peer_ {};

  size_t max_message_ = kMaxMessage;
  size_t max_fds_ = kMaxFds;
  std::vector<uint8_t> rbuf_;
  std::deque<Outgoing> queue_;
  Failure early_failure_;  // failed before start(): start() reports it

  Napi::FunctionReference on_message_;
  Napi::FunctionReference on_connection_;
  Napi::FunctionReference on_error_;
  Napi::FunctionReference on_close_;
  std::unique_ptr<Napi::AsyncContext> async_;
};

}  // namespace ambit
