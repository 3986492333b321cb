// Products Y[M, N] = W[M, K] * X[K, N] whose left factor is a constant (a Conv's weights), with
// W packed once when the kernel is made instead of on every call.
//
// OpenBLAS's sgemm packs both factors on every call: for the pointwise convs of mobilenet_v2
// (1280 x 320 weights against 49 columns, ...) copying the weights cost about as much as the
// multiply (perf: ~20% of an inference in sgemm_*copy), and with beta = 0 it zeroes the output
// before accumulating into it. Here W is packed once into panels of kPackedRows rows, k-major,
// and each call packs only X (in blocks of NR columns, zero-padded) and runs a register-blocked
// kernel, AVX-512 or AVX2+FMA picked at run time (the build targets baseline x86-64):
// kPackedRows x 32 columns (16 accumulators of AVX-512's 32 registers) or kPackedRows x 8 (8 of
// AVX2's 16). K runs in blocks of 1024. With up to 32 output rows X is packed one column block
// at a time, each multiplied by all the panels while it is in L1. The bias and a fused Relu/Clip
// are applied as each tile is stored, so the output is written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgefit {

constexpr int64_t kPackedRows = 8;

class PackedWeights {
 public:
  PackedWeights() = default;
  // Packs rows x depth floats at w (row r at w + r * ldw).
  PackedWeights(const float* w, int64_t rows, int64_t depth, int64_t ldw);
  int64_t rows() const { return rows_; }
  int64_t depth() const { return depth_; }
  // Panel p: depth x kPackedRows floats, rows p * kPackedRows + [0, kPackedRows), zero-padded.
  const float* panel(int64_t p) const { return data_.data() + p * depth_ * kPackedRows; }
  size_t bytes() const { return data_.size() * sizeof(float); }

 private:
  std::vector<float> data_;
  int64_t rows_ = 0, depth_ = 0;
};

// y[m - m0][j] = clamp(bias[m] + sum_k W[m][k] * x[k][j], lo, hi) for rows m in [m0, m1) of W
// and columns j in [0, n); row i of y at y + i * ldy, row k of x at x + k * ldx. m0 must be a
// multiple of kPackedRows; bias may be null (0); lo/hi = -inf/+inf for no clamp. The sum runs
// over k in order in one accumulator per output, whatever the tiling (NaN and Inf propagate as
// in a plain loop). Single-threaded: callers split rows or columns over threads.
void PackedGemm(const PackedWeights& w, int64_t m0, int64_t m1, const float* x, int64_t ldx,
                int64_t n, const float* bias, float lo, float hi, float* y, int64_t ldy);

// Tests: false makes PackedGemm use the AVX2-width tiles on an AVX-512 CPU (true restores the
// default, the widest the CPU has).
void SetPackedGemmAvx512(bool on);

}  // namespace edgefit
