# shellcheck shell=bash
# The Debian package for the system test: built on the host with
# `dpkg-buildpackage -us -uc -b`, in a scratch copy of the source tree so the
# tree itself stays clean, with everything it writes in one directory.
#
# Set here: md_deb (the path of the built mydaily_*.deb) and md_changes.

# Copies the source tree as git sees it: tracked files and new files not
# ignored, so no build directory and no .git.  Without git (an unpacked
# tarball), everything but version control and build* directories.
md_source_copy () {
  local src=$1 dest=$2
  mkdir -p "$dest" || return 1
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard |
      md_existing_paths "$src" |
      (cd "$src" && xargs -0 -r cp -a --parents -t "$dest")
  else
    tar -C "$src" --exclude-vcs --exclude='./build*' -cf - . | tar -C "$dest" -xf -
  fi
}

# Filters NUL-separated paths under DIR to those that exist (a file deleted
# but not yet committed is still in the index).
md_existing_paths () {
  local dir=$1 path
  while IFS= read -r -d '' path; do
    if [ -e "$dir/$path" ] || [ -L "$dir/$path" ]; then
      printf '%s\0' "$path"
    fi
  done
}

# Builds the package from SRC into DIR; the log is DIR/build.log.  The test
# suites do not run in the package build (nocheck): this runs after the
# build's own unit suite, in the same meson test run.
md_package_build () {
  local src=$1 dir=$2 debs
  md_source_copy "$src" "$dir/mydaily" || return 1
  (cd "$dir/mydaily" &&
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
    >"$dir/build.log" 2>&1 || return 1
  debs=("$dir"/mydaily_*.deb)
  md_deb=${debs[0]}
  md_changes=$(echo "$dir"/mydaily_*.changes)
  [ "${#debs[@]}" -eq 1 ] && [ -f "$md_deb" ] && [ -f "$md_changes" ]
}
