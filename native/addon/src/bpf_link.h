// SPDX-License-Identifier: Apache-2.0
// BpfLink owns one attachment. close() releases this process's handle: the
// program stays attached only while the link is pinned on bpffs (that is how
// an agent restart keeps capture in place). detach() ends the attachment even
// when pinned. Both are idempotent; the finalizer closes as a backstop.
// BpfLink.open(path) re-adopts a pinned link, and updateProgram() swaps the
// program it runs in one step (BPF_LINK_UPDATE), with no moment where the hook
// runs nothing and none where it runs both.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <string>

namespace ambit {

class BpfLink : public Napi::ObjectWrap<BpfLink> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object FromLibbpf(Napi::Env env, struct bpf_link* link, const std::string& desc);
  static Napi::Object FromFd(Napi::Env env, int link_fd, const std::string& desc);
  static Napi::Object FromLegacy(Napi::Env env, int prog_fd, int target_fd, enum bpf_attach_type type,
                                 const std::string& desc);
  explicit BpfLink(const Napi::CallbackInfo& info);
  ~BpfLink() override;

 private:
  static Napi::Object Make(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value UpdateProgram(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Pin(const Napi::CallbackInfo& info);
  Napi::Value Unpin(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetId(const Napi::CallbackInfo& info);
  Napi::Value GetDescription(const Napi::CallbackInfo& info);
  Napi::Value GetPinPath(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  int Fd() const;
  void Release();

  struct bpf_link* link_ = nullptr;  // libbpf-made link
  int raw_fd_ = -1;                  // link made with bpf_link_create
  // Legacy attachment (no link fd): detached with bpf_prog_detach2.
  int legacy_prog_fd_ = -1;
  int legacy_target_fd_ = -1;
  enum bpf_attach_type legacy_type_ = BPF_CGROUP_INET_INGRESS;
  bool legacy_ = false;
  std::string desc_;
  std::string pin_path_;
};

}  // namespace ambit
