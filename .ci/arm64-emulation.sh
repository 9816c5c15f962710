# Sourced by .ci/run: arm64_emulation builds for linux-arm64 and runs under qemu-aarch64-static; returns 1 on a failure.
# Without qemu or the ARM64 sysroot it installs them (Debian packages, when it may), else skips with the reason.
arm64_emulation() {
  local sysroot=/usr/aarch64-linux-gnu out=artifacts/arm64 started=$SECONDS
  local packages="qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross"
  if ! command -v qemu-aarch64-static > /dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ] \
      || [ ! -e "$sysroot/lib/libstdc++.so.6" ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get > /dev/null && $sudo true 2> /dev/null; then
      echo "ARM64 emulation: installing $packages"
      $sudo apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages > /dev/null
    fi
    if ! command -v qemu-aarch64-static > /dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
      echo "ARM64 emulation: skipped (no qemu-aarch64-static or $sysroot, and apt-get could not install $packages)"
      return 0
    fi
  fi
  rm -rf "$out"
  mkdir -p "$out"
  local build=(-c Release -r linux-arm64 --self-contained -p:TargetFrameworks=net10.0 --artifacts-path "$out/build" -warnaserror)
  if ! dotnet publish src/Lstm.Cli "${build[@]}" -p:PublishAot=false -o "$out/cli" > "$out/publish.log" 2>&1 \
      || ! dotnet publish tests/Lstm.Net8.Smoke "${build[@]}" -p:TargetFramework=net10.0 -o "$out/smoke" >> "$out/publish.log" 2>&1 \
      || ! dotnet publish tests/Lstm.Simd.Tests.Runner "${build[@]}" -o "$out/simd-tests" >> "$out/publish.log" 2>&1; then
    cat "$out/publish.log"; echo "ARM64 publish failed"; return 1
  fi
  # W^X off: with it the runtime writes code through a second mapping of the same pages, which qemu-user does not see
  # as a change to code it has translated; once the JIT reuses such memory (reflection's invoke stubs, in the kernel
  # tests), qemu runs stale code: NullReferenceException, then "Illegal instruction" (seen here with qemu 7.2).
  local run=(env DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_EnableWriteXorExecute=0 qemu-aarch64-static -L "$sysroot")
  local failed=0
  "${run[@]}" "$out/cli/lstm" verify --stride 65536 > "$out/verify.log" 2>&1 || failed=1
  if [ $failed -ne 0 ] || ! grep -q "kernel paths on this CPU: vector128, scalar" "$out/verify.log"; then
    cat "$out/verify.log"; echo "ARM64 lstm verify failed, or did not list vector128"; failed=1
  fi
  if ! "${run[@]}" "$out/cli/lstm" bench --tiny --seconds 0.02 > "$out/bench.log" 2>&1 || ! grep -q "vector128" "$out/bench.log"; then
    cat "$out/bench.log"; echo "ARM64 lstm bench failed"; failed=1
  fi
  if ! "${run[@]}" "$out/smoke/Lstm.Net8.Smoke" > "$out/smoke.log" 2>&1; then
    cat "$out/smoke.log"; echo "ARM64 smoke run failed"; failed=1
  fi
  # All but the two oracle sweeps (every 16th float in [-20, 20] against double; one was still running after 5 min): they
  # check the algorithm, the same bits on every path, which the rest compare bit for bit; verify samples the oracle.
  if ! "${run[@]}" "$out/simd-tests/Lstm.Simd.Tests.Runner" --skip OfDoubleOracle_OnEvery16thFloat > "$out/simd-tests.log" 2>&1; then
    cat "$out/simd-tests.log"; echo "ARM64 kernel tests failed"; failed=1
  fi
  [ $failed -ne 0 ] && return 1
  echo "ARM64 under qemu: lstm verify and bench list vector128 and pass; $(tail -1 "$out/smoke.log"); $(tail -1 "$out/simd-tests.log") ($((SECONDS - started)) s in all)"
}
