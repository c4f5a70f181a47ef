#!/usr/bin/env bash
# scripts/test.sh - build keyfort and run the whole ctest suite (every label; perf is not a ctest).
#
#   scripts/test.sh                   build/      RelWithDebInfo, then ctest
#   scripts/test.sh --sanitize        build-asan/ Debug + ASan/UBSan (KEYFORT_SANITIZE=ON), then ctest
#   scripts/test.sh --tsan            build-tsan/ ThreadSanitizer (KEYFORT_TSAN=ON): the offload
#                                     engine and its tests only
#   scripts/test.sh [...] -- ARGS     pass ARGS to ctest (e.g. -- -L hsm, -- -R test_cursor)
#
# Warnings are always errors here (KEYFORT_WERROR=ON), not only when CI=true: this script is the
# gate CI runs, and a developer who runs it locally must get the same verdict CI will give. A
# plain `cmake -B build` keeps warnings as warnings for day-to-day work.
#
# Environment: KF_JOBS (build and ctest parallelism, default nproc), KF_BUILD_DIR (build dir
# relative to the repository, instead of build/ or build-asan/), CC (compiler).
# Exit status is non-zero when deps, configure, build or any test fails; the last line is a
# summary of the form "result: N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

sanitize=0
tsan=0
ctest_extra=()
while (($# > 0)); do
    case "$1" in
        --sanitize) sanitize=1 ;;
        --tsan) tsan=1 ;;
        --)
            shift
            ctest_extra=("$@")
            break
            ;;
        -h | --help)
            sed -n '2,17s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *)
            printf 'test.sh: unknown option %s (try --help)\n' "$1" >&2
            exit 2
            ;;
    esac
    shift
done

jobs=${KF_JOBS:-$(nproc)}
if ((tsan)); then
    variant=tsan
    bdir=${KF_BUILD_DIR:-build-tsan}
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYFORT_TSAN=ON)
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
elif ((sanitize)); then
    variant=sanitize
    bdir=${KF_BUILD_DIR:-build-asan}
    cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DKEYFORT_SANITIZE=ON)
    # halt_on_error: the first report fails the test; detect_leaks: a leak is a failure too.
    # The fast unwinder stays on here: the slow one (fast_unwind_on_malloc=0) makes every
    # malloc ~10x dearer and pushed the fork test's children past their deadline. Only
    # test_cli needs it (tests/cli/CMakeLists.txt sets it there), because the leak inside
    # SoftHSM that scripts/lsan.supp names is reported at the exit of the keyfort processes it
    # spawns, and only the slow unwinder sees past libcrypto (no frame pointers) to SoftHSM.
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    # Leaks inside third-party code we load but do not own (SoftHSM2, p11-kit, Criterion).
    export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
else
    variant=default
    bdir=${KF_BUILD_DIR:-build}
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake_args+=(-DKEYFORT_WERROR=ON)

start=$SECONDS
stage="deps"
# shellcheck disable=SC2317 # called by the EXIT trap
summary()
{
    local rc=$? secs=$((SECONDS - start))
    if ((rc != 0)) && [[ "$stage" != "done" ]]; then
        printf '\n==> test.sh [%s] FAILED at stage "%s" after %ds (exit %d)\n' \
            "$variant" "$stage" "$secs" "$rc"
        if [[ "$stage" != "test" ]]; then
            printf 'result: 0 passed, 1 failed\n'
        fi
    fi
}
trap summary EXIT

step()
{
    printf '\n==> [%s] %s\n' "$variant" "$*"
}

step "dependencies (scripts/deps.sh)"
"$ROOT/scripts/deps.sh"

if ((!sanitize && !tsan)); then
    # STYLE.md s13: the checked-in .clang-format is the format; a diff fails the run.
    stage="format"
    step "format check (clang-format, tracked C files)"
    if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z '*.c' '*.h' |
            (cd "$ROOT" && xargs -0 -r clang-format --dry-run -Werror)
    fi
fi

stage="configure"
step "configure $bdir/ (${cmake_args[*]})"
cmake -S "$ROOT" -B "$ROOT/$bdir" "${cmake_args[@]}"

stage="build"
step "build $bdir/ with $jobs jobs"
cmake --build "$ROOT/$bdir" --parallel "$jobs"

stage="test"
step "ctest in $bdir/ (all labels)"
log="$ROOT/$bdir/ctest.log"
set +e
ctest --test-dir "$ROOT/$bdir" --output-on-failure --no-tests=error -j "$jobs" \
    "${ctest_extra[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# ctest's own closing line: "NN% tests passed, F tests failed out of T".
line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
total=0
failed=0
if [[ "$line" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=${BASH_REMATCH[1]}
    total=${BASH_REMATCH[2]}
fi
passed=$((total - failed))
if ((rc != 0 && failed == 0)); then
    failed=1 # ctest itself failed (no tests, bad arguments, timeout of the run)
fi

stage="done"
secs=$((SECONDS - start))
verdict=PASS
if ((rc != 0)); then
    verdict=FAIL
fi
printf '\n==> test.sh [%s] %s: %s/, %d tests, %d passed, %d failed, %ds\n' \
    "$variant" "$verdict" "$bdir" "$total" "$passed" "$failed" "$secs"
printf 'result: %d passed, %d failed\n' "$passed" "$failed"
exit "$rc"
