# scripts/pytorch-configs.sh — PyTorch's tuned configurations, sourced by scripts/bench.sh and
# scripts/bench-tta.sh. A configuration is <allocator>_<blas>: the allocator glibc (tuned
# thresholds) or jemalloc (preloaded), the BLAS BLIS (blis-openmp, AVX-512 "skx" kernels where
# the CPU has them), BLIS with its own kernel choice ("blisown": "zen3" on AMD's Zen 3 and the
# Zen 4 models BLIS 0.9 knows, where it beats skx on skinny products) or OpenBLAS
# (openblas-pthread), all through the dynamic loader.
#   . scripts/pytorch-configs.sh; config_env NAME; CONFIGS="glibc_blis ..." pytorch_runnable
LIBDIR=/usr/lib/x86_64-linux-gnu
JEMALLOC=$LIBDIR/libjemalloc.so.2
BLIS_DIR=$LIBDIR/blis-openmp
OPENBLAS_DIR=$LIBDIR/openblas-pthread

# env assignments of one tuned configuration (allocator_blas), or nothing when it cannot run
config_env() {
  local alloc=${1%_*} blas=${1#*_}
  case "$alloc" in
    # heap instead of mmap up to glibc's maximum threshold (32 MiB), never trimmed, grown in
    # 256 MiB steps: activations are not re-mapped and page-faulted every step
    glibc) echo -n "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 "
           echo -n "MALLOC_TOP_PAD_=268435456 " ;;
    # the settings of PyTorch's CPU performance tuning guide
    jemalloc) [ -e "$JEMALLOC" ] || return 0
              echo -n "LD_PRELOAD=$JEMALLOC MALLOC_CONF=oversize_threshold:1,background_thread:true,"
              echo -n "metadata_thp:auto,dirty_decay_ms:9000000000,muzzy_decay_ms:9000000000 " ;;
    *) return 0 ;;
  esac
  case "$blas" in
    blis) [ -e "$BLIS_DIR/libblas.so.3" ] || return 0
          echo -n "LD_LIBRARY_PATH=$BLIS_DIR "
          grep -qw avx512f /proc/cpuinfo && echo -n "BLIS_ARCH_TYPE=skx " ;;
    blisown) [ -e "$BLIS_DIR/libblas.so.3" ] || return 0
             echo -n "LD_LIBRARY_PATH=$BLIS_DIR " ;;
    openblas) [ -e "$OPENBLAS_DIR/libblas.so.3" ] || return 0
              echo -n "LD_LIBRARY_PATH=$OPENBLAS_DIR " ;;
    *) return 0 ;;
  esac
  echo "OK"
}
# runnable=(the configurations of $CONFIGS whose libraries are installed), each echoed
pytorch_runnable() {
  runnable=()
  for c in $CONFIGS; do
    e=$(config_env "$c")
    if [[ $e == *OK ]]; then
      runnable+=("$c")
      echo "== PyTorch tuned configuration $c: ${e% OK}"
    else
      echo "$(basename "$0"): configuration $c cannot run here (package missing or unknown name)" >&2
    fi
  done
}
