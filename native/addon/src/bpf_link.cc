// SPDX-License-Identifier: Apache-2.0
#include "bpf_link.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "bpf_program.h"
#include "errors.h"

namespace ambit {
namespace {

// Link types by number: the system's uapi header may predate some (sockmap links are 6.10+).
constexpr __u32 kLinkCgroup = 3;
constexpr __u32 kLinkNetns = 5;
constexpr __u32 kLinkSockmap = 14;

std::string LinkTypeName(__u32 type) {
  switch (type) {
    case kLinkCgroup:
      return "cgroup";
    case kLinkNetns:
      return "netns";
    case kLinkSockmap:
      return "sockmap";
    default:
      return "type " + std::to_string(type);
  }
}

// bpf_link__open() accepts any pinned object; only a link's fd is an anon inode "bpf-link".
bool IsLinkFd(int fd) {
  char want[] = "anon_inode:bpf-link";
  char got[64];
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), got, sizeof(got) - 1);
  if (n < 0) return false;
  got[n] = '\0';
  return strcmp(got, want) == 0;
}

}  // namespace

Napi::Function BpfLink::Init(Napi::Env env) {
  return DefineClass(env, "BpfLink",
                     {
                         InstanceMethod<&BpfLink::Pin>("pin"),
                         InstanceMethod<&BpfLink::Unpin>("unpin"),
                         InstanceMethod<&BpfLink::Detach>("detach"),
                         InstanceMethod<&BpfLink::Close>("close"),
                         InstanceMethod<&BpfLink::UpdateProgram>("updateProgram"),
                         InstanceMethod<&BpfLink::Info>("info"),
                         StaticMethod<&BpfLink::Open>("open"),
                         InstanceAccessor<&BpfLink::GetFd>("fd"),
                         InstanceAccessor<&BpfLink::GetId>("id"),
                         InstanceAccessor<&BpfLink::GetDescription>("description"),
                         InstanceAccessor<&BpfLink::GetPinPath>("pinPath"),
                         InstanceAccessor<&BpfLink::GetClosed>("closed"),
                     });
}

BpfLink::BpfLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfLink>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw ArgError(info.Env(), "BpfLink is created by BpfProgram.attach*()");
}

BpfLink::~BpfLink() { Release(); }

Napi::Object BpfLink::Make(Napi::Env env) {
  auto* addon = env.GetInstanceData<AmbitAddon>();
  static int token = 0;  // only marks the call as internal; carries no state
  return addon->link_ctor.New({Napi::External<int>::New(env, &token)});
}

Napi::Object BpfLink::FromLibbpf(Napi::Env env, struct bpf_link* link, const std::string& desc) {
  Napi::Object o = Make(env);
  BpfLink* self = Unwrap(o);
  self->link_ = link;
  self->desc_ = desc;
  return o;
}

Napi::Object BpfLink::FromFd(Napi::Env env, int link_fd, const std::string& desc) {
  Napi::Object o = Make(env);
  BpfLink* self = Unwrap(o);
  self->raw_fd_ = link_fd;
  self->desc_ = desc;
  return o;
}

Napi::Object BpfLink::FromLegacy(Napi::Env env, int prog_fd, int target_fd, enum bpf_attach_type type,
                                 const std::string& desc) {
  Napi::Object o = Make(env);
  BpfLink* self = Unwrap(o);
  // Dup the fds: the program or map may be closed before this link.
  self->legacy_prog_fd_ = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
  self->legacy_target_fd_ = fcntl(target_fd, F_DUPFD_CLOEXEC, 3);
  self->legacy_type_ = type;
  self->legacy_ = true;
  self->desc_ = desc;
  return o;
}

int BpfLink::Fd() const {
  if (link_ != nullptr) return bpf_link__fd(link_);
  return raw_fd_;
}

void BpfLink::Release() {
  if (link_ != nullptr) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  if (raw_fd_ >= 0) {
    close(raw_fd_);
    raw_fd_ = -1;
  }
  if (legacy_) {
    bpf_prog_detach2(legacy_prog_fd_, legacy_target_fd_, legacy_type_);
    close(legacy_prog_fd_);
    close(legacy_target_fd_);
    legacy_ = false;
  }
}

// pin(path): keep the attachment alive beyond this process (bpffs path).
Napi::Value BpfLink::Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  if (legacy_) throw SystemError(env, ENOTSUP, "bpf_obj_pin", desc_ + " is a legacy attachment and cannot be pinned", path);
  int fd = Fd();
  if (fd < 0) throw SystemError(env, EBADF, "bpf_obj_pin", "link " + desc_ + " is closed", path);
  int rc = link_ != nullptr ? bpf_link__pin(link_, path.c_str()) : (bpf_obj_pin(fd, path.c_str()) ? -errno : 0);
  if (rc != 0) {
    int err = -rc;
    throw SystemError(env, err, "bpf_obj_pin",
                      "pinning link " + desc_ + " at " + path + " failed" +
                          (err == ENOENT ? "; the directory must exist on a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)" : ""),
                      path);
  }
  pin_path_ = path;
  return env.Undefined();
}

Napi::Value BpfLink::Unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pin_path_.empty()) return env.Undefined();
  if (unlink(pin_path_.c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    throw SystemError(env, err, "unlink", "unpinning link " + desc_ + " failed", pin_path_);
  }
  if (link_ != nullptr) bpf_link__unpin(link_);  // clears libbpf's record; file already gone
  pin_path_.clear();
  return env.Undefined();
}

Napi::Value BpfLink::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd();
  if (fd >= 0 && bpf_link_detach(fd) != 0 && errno != ENOLINK && errno != EINVAL) {
    int err = errno;
    throw SystemError(env, err, "bpf_link_detach", "detaching " + desc_ + " failed");
  }
  Release();
  return env.Undefined();
}

// BpfLink.open(path): the link pinned at `path`, e.g. one a previous agent process left attached.
// This handle carries the pin path, so unpin() removes that pin; close() keeps the link attached.
Napi::Value BpfLink::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  ClearLibbpfLog();
  struct bpf_link* link = bpf_link__open(path.c_str());
  if (link == nullptr) {
    int err = errno;
    Failure f;
    f.err = err;
    f.syscall = "bpf_obj_get";
    f.path = path;
    f.details = TakeLibbpfLog();
    f.message = "opening the pinned link " + path + " failed" +
                (err == ENOENT ? "; nothing is pinned there" : HintFor(err));
    throw SystemError(env, f);
  }
  int fd = bpf_link__fd(link);
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  __u32 len = sizeof(li);
  if (!IsLinkFd(fd) || bpf_obj_get_info_by_fd(fd, &li, &len) != 0) {
    bpf_link__destroy(link);  // closes our fd only
    throw SystemError(env, EINVAL, "bpf_obj_get", path + " is pinned but is not a BPF link (a map or a program?)", path);
  }
  Napi::Object o = FromLibbpf(env, link, "link " + std::to_string(li.id) + " (" + LinkTypeName(li.type) + ") pinned at " + path);
  Unwrap(o)->pin_path_ = path;
  return o;
}

// updateProgram(program): BPF_LINK_UPDATE. The hook switches from the old program to the new one
// atomically. Kernels implement it for cgroup, netns (sk_lookup) and sockmap (6.10+) links; for a
// link type without it, as for a program of another type, the kernel answers EINVAL (a few types
// say EOPNOTSUPP), and the caller has to attach anew instead.
Napi::Value BpfLink::UpdateProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfProgram* prog = BpfProgram::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "program");
  int prog_fd = prog->LoadedFd(env, "bpf_link_update");
  if (legacy_)
    throw SystemError(env, ENOTSUP, "bpf_link_update",
                      desc_ + " is a legacy attachment without a link; attach '" + prog->name() +
                          "' instead (it replaces the program on that map)");
  int fd = Fd();
  if (fd < 0) throw SystemError(env, EBADF, "bpf_link_update", "link " + desc_ + " is closed");
  if (bpf_link_update(fd, prog_fd, nullptr) != 0) {
    int err = errno;
    std::string why;
    if (err == EOPNOTSUPP || err == EINVAL)
      why = "; either this link type cannot swap programs on this kernel or the program's type or attach type "
            "differs from the link's: attach the new program, then detach the old link";
    else if (err == ENOLINK)
      why = "; the link is defunct (its cgroup, netns or map is gone)";
    else
      why = HintFor(err);
    throw SystemError(env, err, "bpf_link_update", "replacing the program of " + desc_ + " with '" + prog->name() + "' failed" + why);
  }
  return env.Undefined();
}

// info(): what the kernel says about the link (ids, type, target), for checks and tests.
Napi::Value BpfLink::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd();
  if (fd < 0) throw SystemError(env, EBADF, "bpf_obj_get_info_by_fd", "link " + desc_ + " is closed or legacy");
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  __u32 len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) != 0) {
    int err = errno;
    throw SystemError(env, err, "bpf_obj_get_info_by_fd", "reading the info of " + desc_ + " failed");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, li.id));
  o.Set("type", LinkTypeName(li.type));
  o.Set("progId", Napi::Number::New(env, li.prog_id));
  if (li.type == kLinkCgroup) {
    o.Set("cgroupId", Napi::BigInt::New(env, static_cast<uint64_t>(li.cgroup.cgroup_id)));
    o.Set("attachType", Napi::Number::New(env, li.cgroup.attach_type));
  } else if (li.type == kLinkNetns) {
    o.Set("netnsIno", Napi::Number::New(env, li.netns.netns_ino));
    o.Set("attachType", Napi::Number::New(env, li.netns.attach_type));
  } else if (li.type == kLinkSockmap) {
    // Same layout as the netns member: { __u32 map_id; __u32 attach_type; }.
    o.Set("mapId", Napi::Number::New(env, li.netns.netns_ino));
    o.Set("attachType", Napi::Number::New(env, li.netns.attach_type));
  }
  return o;
}

Napi::Value BpfLink::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value BpfLink::GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Fd()); }

Napi::Value BpfLink::GetId(const Napi::CallbackInfo& info) {
  int fd = Fd();
  if (fd < 0) return info.Env().Null();
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  __u32 len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) != 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), li.id);
}

Napi::Value BpfLink::GetDescription(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), desc_); }
Napi::Value BpfLink::GetPinPath(const Napi::CallbackInfo& info) {
  if (pin_path_.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), pin_path_);
}
Napi::Value BpfLink::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Fd() < 0 && !legacy_);
}

}  // namespace ambit
