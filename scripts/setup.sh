#!/usr/bin/env bash
# Prepares this machine and this clone for `npm run demo` / `npm test`:
#   1. preflight: root, BPF syscall, cgroup v2, BTF
#   2. Debian build/run-time packages (only the missing ones)
#   3. bpffs at /sys/fs/bpf
#   4. node_modules (npm ci, only when package-lock.json changed)
#   5. native addon + eBPF objects (node-gyp) and TypeScript (tsc), both incremental
# Idempotent: a second run with nothing changed only checks and takes a few seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
LOG_DIR="$ROOT/.ambit/logs"

say() { printf '[ambit setup] %s\n' "$*"; }
die() {
  printf '[ambit setup] ERROR: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '[ambit setup]   %s\n' "$line" >&2; done
  exit 1
}
# Prints the tail of a build log and fails.
die_with_log() {
  local what="$1" log="$2"
  printf '[ambit setup] ---- last 40 lines of %s ----\n' "${log#"$ROOT"/}" >&2
  tail -n 40 "$log" >&2 || true
  printf '[ambit setup] ---- end of log ----\n' >&2
  die "$what failed (full log: ${log#"$ROOT"/})"
}

start_all=$SECONDS

# ---------------------------------------------------------------- 1. preflight
if [ "${EUID:-$(id -u)}" -ne 0 ]; then
  die "must run as root (current uid: ${EUID:-$(id -u)})." \
    "Ambit loads eBPF programs and creates network namespaces, so setup and the tests need root." \
    "Run it as root, e.g. 'sudo npm test' or 'sudo npm run demo'."
fi

if [ ! -e /proc/sys/kernel/unprivileged_bpf_disabled ] && [ ! -d /sys/fs/bpf ]; then
  die "this kernel has no BPF syscall (neither /proc/sys/kernel/unprivileged_bpf_disabled nor /sys/fs/bpf exists)." \
    "Boot a kernel built with CONFIG_BPF_SYSCALL=y (any distribution kernel >= 5.10 has it)."
fi

# The kernel config is optional evidence: only fail when it is readable and says no.
kconfig=""
kconfig_src=""
if [ -r /proc/config.gz ] && kconfig="$(gzip -dc /proc/config.gz 2>/dev/null)"; then
  kconfig_src=/proc/config.gz
elif [ -r "/boot/config-$(uname -r)" ]; then
  kconfig="$(cat "/boot/config-$(uname -r)")"
  kconfig_src="/boot/config-$(uname -r)"
fi
if [ -n "$kconfig_src" ]; then
  if ! grep -q '^CONFIG_BPF_SYSCALL=y' <<<"$kconfig"; then
    die "kernel $(uname -r) is built without CONFIG_BPF_SYSCALL (per $kconfig_src)." \
      "Boot a kernel built with CONFIG_BPF_SYSCALL=y."
  fi
else
  say "kernel config not readable (/proc/config.gz, /boot/config-$(uname -r)); skipping CONFIG_BPF_SYSCALL check"
fi
unset kconfig

if ! awk '$3 == "cgroup2" { found = 1 } END { exit !found }' /proc/mounts; then
  die "no cgroup v2 hierarchy is mounted (no 'cgroup2' entry in /proc/mounts)." \
    "Ambit attaches cgroup/connect4 and sockops programs to a cgroup v2 root." \
    "Boot with systemd.unified_cgroup_hierarchy=1, or mount one: mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified"
fi
cgroup2_at="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"

if [ ! -e /sys/kernel/btf/vmlinux ]; then
  die "kernel BTF is missing (/sys/kernel/btf/vmlinux does not exist)." \
    "Ambit's eBPF programs are CO-RE and need kernel BTF: boot a kernel built with CONFIG_DEBUG_INFO_BTF=y."
fi
say "kernel $(uname -r): BPF syscall, BTF and cgroup v2 (at $cgroup2_at) present"

# Two setups in one clone (e.g. `npm test` and `npm run demo`) would race in npm ci and node-gyp.
mkdir -p "$LOG_DIR"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$ROOT/.ambit/setup.lock"
  if ! flock -n 9; then
    say "another setup is running in this clone; waiting for it"
    flock 9
  fi
fi

# ---------------------------------------------------------------- 2. packages
PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config iproute2 util-linux
  iptables nftables make g++ python3 tcpdump prometheus chromium)
command -v dpkg-query >/dev/null 2>&1 ||
  die "dpkg-query not found: this script installs packages with apt (Debian/Ubuntu)." \
    "On another distribution install the equivalents of: ${PACKAGES[*]}"
missing=()
for pkg in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q ||
    die "apt-get update failed; check the network and /etc/apt/sources.list*"
  apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
else
  say "system packages present (${#PACKAGES[@]} checked)"
fi

# ---------------------------------------------------------------- 3. bpffs
if awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { found = 1 } END { exit !found }' /proc/mounts; then
  say "bpffs already mounted at /sys/fs/bpf"
else
  say "mounting bpffs at /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf ||
    die "could not mount bpffs at /sys/fs/bpf." "Try by hand: mount -t bpf bpf /sys/fs/bpf"
fi

# ---------------------------------------------------------------- 4. node deps
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
  die "node and npm are required (Node.js >= 20)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] ||
  die "Node.js >= 20 is required, found $(node --version)."

if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node dependencies (npm ci)"
  t0=$SECONDS
  npm ci --ignore-scripts --no-audit --no-fund ||
    die "npm ci failed; see the npm output above."
  say "node dependencies installed ($((SECONDS - t0))s)"
else
  say "dependencies up to date"
fi

# ---------------------------------------------------------------- 5a. native addon + eBPF objects
ADDON=build/Release/ambit_native.node
[ -f binding.gyp ] ||
  die "binding.gyp not found: the native addon and eBPF objects have no build definition yet." \
    "binding.gyp (repo root) must build target 'ambit_native' from native/."

# Compile against the headers that ship with this node (no download: the machine may be offline).
NODE_GYP=(node node_modules/node-gyp/bin/node-gyp.js)
nodedir_args=()
node_prefix="$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)"
if [ -f "$node_prefix/include/node/node_api.h" ] && [ -f "$node_prefix/include/node/common.gypi" ]; then
  nodedir_args=(--nodedir="$node_prefix")
fi

native_stale=""
if [ ! -f "$ADDON" ]; then
  native_stale="$ADDON missing"
else
  # Any source (not a build product) newer than the addon means rebuild.
  newer="$(find native binding.gyp -type f ! -name '*.o' ! -name '*.node' -newer "$ADDON" -print -quit 2>/dev/null || true)"
  [ -z "$newer" ] || native_stale="$newer changed"
fi

if [ -n "$native_stale" ]; then
  log="$LOG_DIR/native-build.log"
  t0=$SECONDS
  if [ -f build/Makefile ] && [ -f build/config.gypi ] && [ ! binding.gyp -nt build/Makefile ]; then
    say "building native addon + eBPF objects (node-gyp build; $native_stale)"
    cmd=("${NODE_GYP[@]}" build -j max "${nodedir_args[@]}")
  else
    say "building native addon + eBPF objects (node-gyp rebuild; $native_stale)"
    cmd=("${NODE_GYP[@]}" rebuild -j max "${nodedir_args[@]}")
  fi
  if ! "${cmd[@]}" >"$log" 2>&1; then
    die_with_log "native build (${cmd[*]:1})" "$log"
  fi
  [ -f "$ADDON" ] ||
    die "node-gyp succeeded but $ADDON was not produced; the binding.gyp target must be named 'ambit_native' (log: ${log#"$ROOT"/})."
  touch "$ADDON" # record "built from the current sources", also when make found nothing to do
  bpf_objs="$(find build/Release -maxdepth 2 -name '*.bpf.o' 2>/dev/null | wc -l)"
  say "built $ADDON and $bpf_objs eBPF object(s) ($((SECONDS - t0))s)"
else
  say "native addon up to date ($ADDON)"
fi

# ---------------------------------------------------------------- 5b. TypeScript
TSC_STAMP=dist/.ambit-tsc-stamp
ts_sources="$(find . \( -path ./node_modules -o -path ./dist -o -path ./build -o -path ./.git -o -path ./.ambit \) -prune \
  -o -name '*.ts' -type f -print -quit)"
if [ -z "$ts_sources" ]; then
  say "no TypeScript sources yet; skipping tsc"
else
  ts_stale=""
  if [ ! -f "$TSC_STAMP" ]; then
    ts_stale="dist/ not built"
  else
    newer="$(find . \( -path ./node_modules -o -path ./dist -o -path ./build -o -path ./.git -o -path ./.ambit \) -prune \
      -o -type f \( -name '*.ts' -o -path ./tsconfig.json -o -path ./package-lock.json \) -newer "$TSC_STAMP" -print -quit)"
    [ -z "$newer" ] || ts_stale="${newer#./} changed"
  fi
  if [ -n "$ts_stale" ]; then
    log="$LOG_DIR/tsc.log"
    t0=$SECONDS
    say "compiling TypeScript (tsc -p tsconfig.json; $ts_stale)"
    # The stamp takes the start time, so an edit made while tsc runs is picked up next time.
    touch "$LOG_DIR/tsc.start"
    if node node_modules/typescript/bin/tsc -p tsconfig.json >"$log" 2>&1; then
      mkdir -p dist && mv "$LOG_DIR/tsc.start" "$TSC_STAMP"
      say "built dist/ ($((SECONDS - t0))s)"
    elif grep -q 'TS18003' "$log"; then
      # "No inputs were found": none of tsconfig's include folders has a .ts file yet.
      say "no TypeScript sources under tsconfig's include folders yet; skipping tsc"
    else
      die_with_log "TypeScript build (tsc -p tsconfig.json)" "$log"
    fi
  else
    say "TypeScript up to date (dist/)"
  fi
fi

say "ready ($((SECONDS - start_all))s)"
