// SPDX-License-Identifier: Apache-2.0
#include "bpf_program.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "addon.h"
#include "bpf_link.h"
#include "bpf_map.h"
#include "bpf_object.h"
#include "errors.h"
#include "netns_socket.h"

namespace ambit {

Napi::Function BpfProgram::Init(Napi::Env env) {
  return DefineClass(env, "BpfProgram",
                     {
                         InstanceMethod<&BpfProgram::AttachCgroup>("attachCgroup"),
                         InstanceMethod<&BpfProgram::AttachNetns>("attachNetns"),
                         InstanceMethod<&BpfProgram::AttachSockmap>("attachSockmap"),
                         InstanceMethod<&BpfProgram::SetAutoload>("setAutoload"),
                         InstanceAccessor<&BpfProgram::GetName>("name"),
                         InstanceAccessor<&BpfProgram::GetSection>("section"),
                         InstanceAccessor<&BpfProgram::GetType>("type"),
                         InstanceAccessor<&BpfProgram::GetFd>("fd"),
                     });
}

// Created only by BpfObject.program(name): (External<bpf_program>, BpfObject).
BpfProgram::BpfProgram(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfProgram>(info) {
  if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject())
    throw ArgError(info.Env(), "BpfProgram is created by BpfObject.program(name)");
  prog_ = info[0].As<Napi::External<struct bpf_program>>().Data();
  parent_ = BpfObject::Unwrap(info[1].As<Napi::Object>());
  parent_ref_ = Napi::Persistent(info[1].As<Napi::Object>());
}

struct bpf_program* BpfProgram::Require(Napi::Env env, const char* what, bool must_be_loaded) {
  parent_->Require(env, what);  // throws when the object was closed
  if (must_be_loaded && !parent_->loaded())
    throw SystemError(env, EBADF, what,
                      std::string("program '") + bpf_program__name(prog_) + "' is not loaded; await object.load() first");
  return prog_;
}

BpfProgram* BpfProgram::FromValue(Napi::Env env, Napi::Value v, const char* what) {
  auto* addon = env.GetInstanceData<AmbitAddon>();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(addon->program_ctor.Value()))
    throw ArgError(env, std::string("argument '") + what + "' must be a BpfProgram");
  return Unwrap(v.As<Napi::Object>());
}

int BpfProgram::LoadedFd(Napi::Env env, const char* what) { return bpf_program__fd(Require(env, what, true)); }

Napi::Value BpfProgram::AttachCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "cgroupPath");
  struct bpf_program* prog = Require(env, "bpf_program__attach_cgroup", true);
  std::string name = bpf_program__name(prog);
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw SystemError(env, err, "open",
                      "cannot attach '" + name + "': cgroup " + path +
                          (err == ENOENT ? " does not exist; create the cgroup first" : " cannot be opened"),
                      path);
  }
  struct statfs sfs;
  if (fstatfs(fd, &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
    close(fd);
    throw SystemError(env, EINVAL, "fstatfs",
                      "cannot attach '" + name + "': " + path + " is not a cgroup v2 directory", path);
  }
  ClearLibbpfLog();
  struct bpf_link* link = bpf_program__attach_cgroup(prog, fd);
  int err = errno;
  close(fd);  // the link holds its own reference to the cgroup
  if (link == nullptr) {
    Failure f;
    f.err = err;
    f.syscall = "bpf_program__attach_cgroup";
    f.path = path;
    f.details = TakeLibbpfLog();
    f.message = "attaching '" + name + "' to cgroup " + path + " failed" + HintFor(err);
    throw SystemError(env, f);
  }
  return BpfLink::FromLibbpf(env, link, name + "@cgroup:" + path);
}

Napi::Value BpfProgram::AttachNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int netns_fd = ArgInt32(info, 0, "netnsFd");
  struct bpf_program* prog = Require(env, "bpf_program__attach_netns", true);
  std::string name = bpf_program__name(prog);
  Failure check = CheckNetnsFd(netns_fd);
  if (check.failed()) {
    check.message = "cannot attach '" + name + "': " + check.message;
    throw SystemError(env, check);
  }
  ClearLibbpfLog();
  struct bpf_link* link = bpf_program__attach_netns(prog, netns_fd);
  if (link == nullptr) {
    int err = errno;
    Failure f;
    f.err = err;
    f.syscall = "bpf_program__attach_netns";
    f.details = TakeLibbpfLog();
    f.message = "attaching '" + name + "' to netns fd " + std::to_string(netns_fd) + " failed" + HintFor(err);
    throw SystemError(env, f);
  }
  return BpfLink::FromLibbpf(env, link, name + "@netns:" + std::to_string(netns_fd));
}

// attachSockmap(map): attach an sk_msg / sk_skb verdict program to a
// sockmap/sockhash. Prefers a BPF link (kernel 6.10+); falls back to the
// legacy BPF_PROG_ATTACH, which the returned link detaches on close().
Napi::Value BpfProgram::AttachSockmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw ArgError(env, "attachSockmap(map): map must be a BpfMap");
  BpfMap* map = BpfMap::Unwrap(info[0].As<Napi::Object>());
  struct bpf_program* prog = Require(env, "bpf_link_create", true);
  std::string name = bpf_program__name(prog);
  int map_fd = map->RequireFd(env, "bpf_link_create");
  enum bpf_attach_type type = bpf_program__expected_attach_type(prog);
  if (bpf_program__type(prog) == BPF_PROG_TYPE_SK_MSG) type = BPF_SK_MSG_VERDICT;
  else if (type != BPF_SK_SKB_VERDICT && type != BPF_SK_SKB_STREAM_VERDICT) type = BPF_SK_SKB_VERDICT;
  int prog_fd = bpf_program__fd(prog);
  int link_fd = bpf_link_create(prog_fd, map_fd, type, nullptr);
  if (link_fd >= 0) return BpfLink::FromFd(env, link_fd, name + "@sockmap:" + map->name());
  if (bpf_prog_attach(prog_fd, map_fd, type, 0) != 0) {
    int err = errno;
    throw SystemError(env, err, "bpf_prog_attach",
                      "attaching verdict program '" + name + "' to map '" + map->name() + "' failed" + HintFor(err));
  }
  return BpfLink::FromLegacy(env, prog_fd, map_fd, type, name + "@sockmap:" + map->name());
}

Napi::Value BpfProgram::SetAutoload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBoolean()) throw ArgError(env, "setAutoload(enabled): enabled must be a boolean");
  struct bpf_program* prog = Require(env, "bpf_program__set_autoload", false);
  int rc = bpf_program__set_autoload(prog, info[0].As<Napi::Boolean>().Value());
  if (rc != 0) throw SystemError(env, -rc, "bpf_program__set_autoload", "cannot change autoload after load()");
  return env.Undefined();
}

Napi::Value BpfProgram::GetName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), bpf_program__name(Require(info.Env(), "bpf_program__name", false)));
}
Napi::Value BpfProgram::GetSection(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), bpf_program__section_name(Require(info.Env(), "bpf_program__section_name", false)));
}
Napi::Value BpfProgram::GetType(const Napi::CallbackInfo& info) {
  const char* t = libbpf_bpf_prog_type_str(bpf_program__type(Require(info.Env(), "bpf_program__type", false)));
  return Napi::String::New(info.Env(), t ? t : "unknown");
}
Napi::Value BpfProgram::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), bpf_program__fd(Require(info.Env(), "bpf_program__fd", true)));
}

}  // namespace ambit
