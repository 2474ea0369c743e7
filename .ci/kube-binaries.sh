#!/usr/bin/env bash
# kube-binaries.sh: build the test binaries that io.fabric8:kube-api-test (the library
# the Maven tests use to start a real Kubernetes API server) expects, from source.
#
# What it builds
#   kube-apiserver, kubectl  from the Go module k8s.io/kubernetes          $KUBE_VERSION (v1.34.4)
#   etcd                     from the Go module go.etcd.io/etcd/server/v3  $ETCD_VERSION (v3.6.5)
#   kube-apiserver/kubectl get the same version stamps (-X ...version.gitVersion etc.) and
#   build tags (selinux,notest,grpcnotrace) as hack/lib/golang.sh of the release build, so
#   `kube-apiserver --version` prints "Kubernetes v1.34.4" and `kubectl version --client`
#   prints "Client Version: v1.34.4"; etcd's version is compiled in (`etcd --version`).
#   All three are static (CGO_ENABLED=0), -trimpath, stripped (-s -w).
#
# Why from source
#   kube-api-test downloads the envtest archives from github.com, which this CI cannot reach.
#   Only the Go module proxy (and Maven Central, Debian, npm, PyPI) is reachable, so the
#   binaries are compiled from the modules the proxy serves.
#   k8s.io/kubernetes cannot be built with `go install pkg@version`: its go.mod replaces
#   every k8s.io/<staging module> with ./staging/src/k8s.io/<module>, which Go ignores for a
#   dependency. So a throw-away wrapper module requires k8s.io/kubernetes and replaces each
#   of those staging modules with its published twin k8s.io/<module> v0.<minor>.<patch>;
#   the list is read from k8s.io/kubernetes's own go.mod in the module cache, not kept here.
#   etcd's main package is the root of go.etcd.io/etcd/server/v3 (main.go there); its go.mod
#   replaces its sibling modules with ../ paths, which a wrapper module that just requires
#   server/v3 ignores, so the published siblings at the versions server/v3 requires are used
#   (the same versions as the release).
#
# Layout (what kube-api-test 7.5.2 looks for: BinaryManager/BinaryDownloader/Utils/OSInfo and
# KubeAPIServerConfigBuilder in io.fabric8:kube-api-test)
#   $KUBE_API_TEST_DIR/k8s/<version without the v>-<os>-<arch>/{kube-apiserver,etcd,kubectl}
#   e.g. /root/.kubeapitest/k8s/1.34.4-linux-amd64/kube-apiserver
#   KUBE_API_TEST_DIR is the library's own environment variable; its default is
#   ${user.home}/.kubeapitest, which is also the default here, so tests find the binaries
#   with no configuration (with no version configured it takes the highest version there).
#
# Cache
#   A binary already in the target directory that reports the expected version is kept
#   ("cached"); a run where all three are there builds nothing and takes a fraction of a
#   second. Missing or wrong binaries are built (cold: tens of minutes on 2 cores) into a
#   work directory and then moved into place. The wrapper modules live in
#   $KUBE_BINARIES_WORK_DIR (default ~/.cache/kube-binaries); sources and compiled
#   packages in the usual GOMODCACHE/GOCACHE. Nothing is written inside the repository.
#
# Usage
#   .ci/kube-binaries.sh            # status lines on stderr, the binary directory on stdout
#   Environment: KUBE_VERSION, ETCD_VERSION, KUBE_API_TEST_DIR, KUBE_BINARIES_WORK_DIR.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"

user_home="${HOME:-}"
if [ -z "$user_home" ]; then
  user_home="$(getent passwd "$(id -u)" | cut -d: -f6)"
  export HOME="$user_home" # go needs it for its default GOPATH and GOCACHE
fi
KUBE_API_TEST_DIR="${KUBE_API_TEST_DIR:-$user_home/.kubeapitest}"
WORK_DIR="${KUBE_BINARIES_WORK_DIR:-${XDG_CACHE_HOME:-$user_home/.cache}/kube-binaries}"
case "$KUBE_API_TEST_DIR" in /*) ;; *) KUBE_API_TEST_DIR="$PWD/$KUBE_API_TEST_DIR" ;; esac
case "$WORK_DIR" in /*) ;; *) WORK_DIR="$PWD/$WORK_DIR" ;; esac

log() { echo "kube-binaries: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$KUBE_VERSION" in v1.[0-9]*.[0-9]*) ;; *) die "KUBE_VERSION must look like v1.34.4, got '$KUBE_VERSION'";; esac
case "$ETCD_VERSION" in v3.[0-9]*.[0-9]*) ;; *) die "ETCD_VERSION must look like v3.6.5, got '$ETCD_VERSION'";; esac

# kube-api-test's OSInfo: os.name lower-cased, os.arch aarch64 -> arm64, anything else -> amd64.
case "$(uname -s)" in Linux) os=linux ;; *) die "only Linux is supported, not $(uname -s)" ;; esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac

kube_semver="${KUBE_VERSION#v}"                  # 1.34.4
kube_major="${kube_semver%%.*}"                  # 1
kube_minor="${kube_semver#*.}"; kube_minor="${kube_minor%%.*}"   # 34
staging_version="v0.${kube_semver#*.}"           # v0.34.4
etcd_semver="${ETCD_VERSION#v}"                  # 3.6.5

OUT_DIR="$KUBE_API_TEST_DIR/k8s/$kube_semver-$os-$arch"

# --- cached? -------------------------------------------------------------------------------
# Each check runs the binary and looks for the exact line it must print. The output is read
# whole first: `binary | grep -q` could kill the binary with SIGPIPE and, with pipefail, fail.
has_line() { # has_line <line> <command...>
  local line="$1" out
  shift
  out="$("$@" 2>/dev/null)" || return 1
  grep -qxF -- "$line" <<<"$out"
}
check_kube_apiserver() { [ -x "$1" ] && has_line "Kubernetes $KUBE_VERSION" "$1" --version; }
check_kubectl() { [ -x "$1" ] && has_line "Client Version: $KUBE_VERSION" "$1" version --client; }
check_etcd() { [ -x "$1" ] && has_line "etcd Version: $etcd_semver" "$1" --version; }

check() { # check <name> <path>
  case "$1" in
    kube-apiserver) check_kube_apiserver "$2" ;;
    kubectl) check_kubectl "$2" ;;
    etcd) check_etcd "$2" ;;
  esac
}

binaries=(kube-apiserver kubectl etcd)
missing=()
for b in "${binaries[@]}"; do
  if check "$b" "$OUT_DIR/$b"; then
    log "$b: cached ($OUT_DIR/$b)"
  else
    missing+=("$b")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  log "directory: $OUT_DIR"
  echo "$OUT_DIR"
  exit 0
fi

# --- build ---------------------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "go is not installed (needed to build ${missing[*]})"

mkdir -p "$WORK_DIR"
cd "$WORK_DIR" # not inside whatever Go module the caller may be in
# One build at a time per work directory (two runs at once would fight over the wrapper modules).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$WORK_DIR/.lock"
  flock 9
fi

export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOOS="$os" GOARCH="$arch"
export GO111MODULE=on GOWORK=off
gobuild() { nice -n 10 go build -trimpath "$@"; }

bin_dir="$WORK_DIR/bin-$kube_semver-$etcd_semver-$os-$arch"
rm -rf "$bin_dir"
mkdir -p "$bin_dir"

# Fields of `go mod download -json` (flat JSON, one field a line).
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n1; }

need() { local x; for x in "${missing[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

kube_pkgs=()
need kube-apiserver && kube_pkgs+=(k8s.io/kubernetes/cmd/kube-apiserver)
need kubectl && kube_pkgs+=(k8s.io/kubernetes/cmd/kubectl)

if [ ${#kube_pkgs[@]} -gt 0 ]; then
  start=$SECONDS
  log "building ${kube_pkgs[*]##*/} $KUBE_VERSION from k8s.io/kubernetes (cold: tens of minutes)"
  kube_json="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION")" || die "go mod download k8s.io/kubernetes@$KUBE_VERSION failed: $kube_json"
  kube_gomod="$(json_field GoMod <<<"$kube_json")"
  kube_info="$(json_field Info <<<"$kube_json")"
  [ -f "$kube_gomod" ] || die "no go.mod for k8s.io/kubernetes@$KUBE_VERSION in the module cache"

  # Every "k8s.io/x => ./staging/src/k8s.io/x", in a replace block or on a replace line.
  staging=()
  while IFS= read -r m; do staging+=("$m"); done < <(
    sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./staging/.*#\2#p' "$kube_gomod" | sort -u)
  [ ${#staging[@]} -gt 0 ] || die "found no ./staging replace lines in $kube_gomod"

  mod_dir="$WORK_DIR/kubernetes-$kube_semver"
  rm -rf "$mod_dir"
  mkdir -p "$mod_dir"
  {
    echo "// Generated by kube-binaries.sh: builds k8s.io/kubernetes $KUBE_VERSION binaries."
    echo "module kubebinaries.local/kubernetes"
    echo
    grep -m1 '^go [0-9]' "$kube_gomod"
    # The godebug settings of k8s.io/kubernetes only apply when it is the main module: copy them.
    awk '/^godebug[[:space:]]*\(/{b=1} b||/^godebug[[:space:]]/{print} b&&/^\)/{b=0}' "$kube_gomod"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    for m in "${staging[@]}"; do echo "	$m => $m $staging_version"; done
    echo ")"
  } >"$mod_dir/go.mod"

  build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$kube_info" 2>/dev/null || true)"
  [ -n "$build_date" ] || build_date="1970-01-01T00:00:00Z"
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$kube_major -X $p.gitMinor=$kube_minor"
    # No commit: the proxy does not record one for k8s.io/kubernetes (else "$Format:%H$" shows).
    ldflags+=" -X $p.gitCommit= -X $p.gitTreeState=archive -X $p.buildDate=$build_date"
  done

  (
    cd "$mod_dir"
    # Resolves the module graph and fills go.sum for exactly the packages that are built.
    go get "${kube_pkgs[@]/%/@$KUBE_VERSION}" >&2
    gobuild -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$bin_dir/" "${kube_pkgs[@]}" >&2
  ) || die "building ${kube_pkgs[*]} failed"
  log "built ${kube_pkgs[*]##*/} in $((SECONDS - start))s"
fi

if need etcd; then
  start=$SECONDS
  log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  etcd_json="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION")" || die "go mod download go.etcd.io/etcd/server/v3@$ETCD_VERSION failed: $etcd_json"
  etcd_gomod="$(json_field GoMod <<<"$etcd_json")"
  etcd_dir="$(json_field Dir <<<"$etcd_json")"
  [ -f "$etcd_dir/main.go" ] || die "go.etcd.io/etcd/server/v3@$ETCD_VERSION has no main.go at its root"
  # The commit for `etcd --version` ("Git SHA"): the proxy records it for the root module
  # go.etcd.io/etcd/v3, tagged on the same commit as server/v3; best effort (metadata only).
  git_sha="$(go list -m -json "go.etcd.io/etcd/v3@$ETCD_VERSION" 2>/dev/null | json_field Hash || true)"

  mod_dir="$WORK_DIR/etcd-$etcd_semver"
  rm -rf "$mod_dir"
  mkdir -p "$mod_dir"
  {
    echo "// Generated by kube-binaries.sh: builds etcd $ETCD_VERSION."
    echo "module kubebinaries.local/etcd"
    echo
    grep -m1 '^go [0-9]' "$etcd_gomod"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  } >"$mod_dir/go.mod"

  ldflags="-s -w"
  [ -n "$git_sha" ] && ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${git_sha:0:7}"
  (
    cd "$mod_dir"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    gobuild -ldflags "$ldflags" -o "$bin_dir/etcd" go.etcd.io/etcd/server/v3 >&2
  ) || die "building etcd failed"
  log "built etcd in $((SECONDS - start))s"
fi

# Check what was built before anything is put in place.
for b in "${missing[@]}"; do
  check "$b" "$bin_dir/$b" || die "$bin_dir/$b does not report the expected version"
done
mkdir -p "$OUT_DIR"
for b in "${missing[@]}"; do
  mv -f "$bin_dir/$b" "$OUT_DIR/$b"
  log "$b: built ($OUT_DIR/$b)"
done
rm -rf "$bin_dir"

log "directory: $OUT_DIR"
echo "$OUT_DIR"
