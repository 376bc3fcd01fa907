# Shared by the benchmark scripts: install what a benchmark needs, build release.
#   bench_setup PACKAGE...    sets BIN to the release binaries' folder
bench_setup() {
  local need=() package
  for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || need+=("$package"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  echo "bench: building (release)"
  swift build -c release >/dev/null
  BIN=$(swift build -c release --show-bin-path)
}
