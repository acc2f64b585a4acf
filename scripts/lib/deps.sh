# Sourced by scripts/: installs the Debian packages the build and tests need, quietly, only when missing.
install_deps() {
  local need=(fuse3 libfuse3-dev libcurl4-openssl-dev libsqlite3-dev libarchive-dev libqrencode-dev libimage-exiftool-perl pkg-config curl python3 rsync attr tar)
  local missing=() p
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install ${missing[*]}: run as root or: sudo apt-get install ${missing[*]}" >&2
    return 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_swift() {
  command -v swift >/dev/null || { echo "swift is not on PATH: install a Swift 6 toolchain (swift.org) first" >&2; return 2; }
}
