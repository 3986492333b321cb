// Kernel family: Gemm, MatMul, Einsum.
//
// float32 goes through blas::Sgemm (batched MatMul loops over the broadcast batch, or folds the
// batch into M when B has none); double and integer types use a plain loop. Einsum lowers the
// two-operand matmul-like cases (batch, contraction, free axes, transposes, reductions private
// to one operand) to transposes + batched Sgemm, and evaluates anything else with a plain loop
// over all label values.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "runtime/blas.h"
#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/conv_impl.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/gemm_impl.h"

namespace edgefit {

// ------------------------------------------------------------------------- one-pool BLAS

void ParallelSgemm(KernelContext& ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                   float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                   float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // no products: C = beta * C
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
    return;
  }
  auto gemm = [&](int64_t mm, int64_t nn, const float* aa, const float* bb, float* cc) {
    blas::Sgemm(trans_a, trans_b, static_cast<int>(mm), static_cast<int>(nn), static_cast<int>(k),
                alpha, aa, static_cast<int>(lda), bb, static_cast<int>(ldb), beta, cc,
                static_cast<int>(ldc));
  };
  // Slices of at least 16 rows or columns, along the longer side.
  const bool split_n = n >= m;
  const int64_t len = split_n ? n : m;
  const int64_t parts = std::min<int64_t>(ctx.num_threads(), len / 16);
  if (parts <= 1 || m * n * k < kMinParallelMacs) {
    gemm(m, n, a, b, c);
    return;
  }
  ctx.ParallelFor(parts, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t lo = len * p / parts / 16 * 16;
      const int64_t hi = p + 1 == parts ? len : len * (p + 1) / parts / 16 * 16;
      if (hi <= lo) continue;
      if (split_n)
        gemm(m, hi - lo, a, trans_b ? b + lo * ldb : b + lo, c + lo);
      else
        gemm(hi - lo, n, trans_a ? a + lo : a + lo * lda, b, c + lo * ldc);
    }
  });
}

namespace {

// C_i = op(A_i) * op(B_i) for i < count, A_i = a + a_off[i], B_i = b + b_off[i], C_i = c + i *
// c_stride: whole products per thread when there are enough, else each product split.
void BatchedSgemm(KernelContext& ctx, int64_t count, bool ta, bool tb, int64_t m, int64_t n,
                  int64_t k, const float* a, const std::vector<int64_t>& a_off, int64_t lda,
                  const float* b, const std::vector<int64_t>& b_off, int64_t ldb, float* c,
                  int64_t c_stride, int64_t ldc) {
  if (count >= ctx.num_threads() && ctx.num_threads() > 1) {
    ParallelItems(ctx, count, m * n * k, [&](int64_t, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        if (k == 0) {
          std::fill(c + i * c_stride, c + i * c_stride + m * ldc, 0.f);
          continue;
        }
        blas::Sgemm(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f,
                    a + a_off[i], static_cast<int>(lda), b + b_off[i], static_cast<int>(ldb), 0.f,
                    c + i * c_stride, static_cast<int>(ldc));
      }
    });
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    ParallelSgemm(ctx, ta, tb, m, n, k, 1.f, a + a_off[i], lda, b + b_off[i], ldb, 0.f,
                  c + i * c_stride, ldc);
}

bool IsMathType(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kInt32 ||
         t == DataType::kInt64 || t == DataType::kUint32 || t == DataType::kUint64;
}

Status CheckTypes(const KernelInit& init, size_t count) {
  DataType first = DataType::kUndefined;
  for (size_t i = 0; i < count; ++i) {
    if (!init.has_input(i)) continue;
    DataType t = init.input_types[i]->elem_type;
    if (t == DataType::kUndefined) continue;
    if (!IsMathType(t))
      return init.Unsupported("input " + std::to_string(i) + " of type " + DataTypeName(t) +
                              " (float32, float64, int32, int64, uint32, uint64 are implemented)");
    if (first == DataType::kUndefined) first = t;
    if (t != first)
      return init.Invalid(std::string("inputs have different types ") + DataTypeName(first) +
                          " and " + DataTypeName(t));
  }
  return Status::Ok();
}

Status CheckTensors(const KernelContext& ctx) {
  const Tensor* first = nullptr;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t) continue;
    if (!IsMathType(t->dtype()))
      return Unsupported(ctx.node_description() + ": input " + std::to_string(i) + " of type " +
                         DataTypeName(t->dtype()));
    if (!first) first = t;
    if (t->dtype() != first->dtype())
      return ctx.Error(std::string("inputs have different types ") + DataTypeName(first->dtype()) +
                       " and " + DataTypeName(t->dtype()));
  }
  return Status::Ok();
}

// Calls fn.template operator()<T>() with T the C++ type of `t` (one of IsMathType's).
template <typename Fn>
Status Dispatch(DataType t, Fn&& fn) {
  switch (t) {
    case DataType::kFloat: return fn(float{});
    case DataType::kDouble: return fn(double{});
    case DataType::kInt32: return fn(int32_t{});
    case DataType::kInt64: return fn(int64_t{});
    case DataType::kUint32: return fn(uint32_t{});
    default: return fn(uint64_t{});
  }
}

// C[m, n] = sum_k A[m, k] * B[k, n] (+ C when accumulate), row-major with leading dimensions.
template <typename T>
void PlainGemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      T sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += (ta ? a[k * lda + i] : a[i * lda + k]) * (tb ? b[j * ldb + k] : b[k * ldb + j]);
      T v = alpha == 1.0 ? sum : static_cast<T>(alpha * static_cast<double>(sum));
      c[i * ldc + j] = accumulate ? static_cast<T>(c[i * ldc + j] + v) : v;
    }
  }
}

template <typename T>
void AnyGemm(KernelContext& ctx, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
             const T* a, int64_t lda, const T* b, int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    ParallelSgemm(ctx, ta, tb, M, N, K, alpha, a, lda, b, ldb, accumulate ? 1.f : 0.f, c, ldc);
  } else {
    PlainGemm<T>(ta, tb, M, N, K, alpha, a, lda, b, ldb, accumulate, c, ldc);
  }
}

// ------------------------------------------------------------------------- Gemm

// Y = alpha * op(A) * op(B) + beta * C, C broadcast (unidirectionally) to [M, N].
class GemmKernel : public Kernel {
 public:
  GemmKernel(bool ta, bool tb, float alpha, float beta)
      : ta_(ta), tb_(tb), alpha_(alpha), beta_(beta) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckTensors(ctx));
    const Tensor& A = *ctx.input(0);
    const Tensor& B = *ctx.input(1);
    const Tensor* C = ctx.input(2);
    if (A.rank() != 2 || B.rank() != 2)
      return ctx.Error("A " + ShapeToString(A.shape()) + " and B " + ShapeToString(B.shape()) +
                       " must be matrices");
    const int64_t M = ta_ ? A.dim(1) : A.dim(0), K = ta_ ? A.dim(0) : A.dim(1);
    const int64_t KB = tb_ ? B.dim(1) : B.dim(0), N = tb_ ? B.dim(0) : B.dim(1);
    if (K != KB)
      return ctx.Error("inner dimensions differ: A " + ShapeToString(A.shape()) +
                       (ta_ ? " (transposed)" : "") + " and B " + ShapeToString(B.shape()) +
                       (tb_ ? " (transposed)" : ""));
    const Shape yshape = {M, N};
    if (C) {
      bool ok = C->rank() <= 2;
      for (size_t i = 0; ok && i < C->rank(); ++i) {
        int64_t want = yshape[2 - C->rank() + i];
        ok = C->dim(i) == want || C->dim(i) == 1;
      }
      if (!ok)
        return ctx.Error("C " + ShapeToString(C->shape()) + " does not broadcast to [" +
                         std::to_string(M) + "," + std::to_string(N) + "]");
    }
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, A.dtype(), yshape));
    return Dispatch(A.dtype(), [&](auto zero) -> Status {
      using T = decltype(zero);
      T* y = Y->data<T>();
      const bool use_c = C && beta_ != 0.f && C->numel() > 0;
      if (use_c) {
        std::vector<int64_t> st = BroadcastStrides(C->shape(), yshape);
        const T* c = C->data<T>();
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j)
            y[i * N + j] = static_cast<T>(beta_ * static_cast<double>(c[i * st[0] + j * st[1]]));
      }
      AnyGemm<T>(ctx, ta_, tb_, M, N, K, alpha_, A.data<T>(), A.dim(1), B.data<T>(), B.dim(1),
                 use_c, y, N);
      return Status::Ok();
    });
  }

 private:
  bool ta_, tb_;
  float alpha_, beta_;
};

StatusOr<std::unique_ptr<Kernel>> MakeGemm(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs inputs A and B");
  if (init.opset < 11 && !init.has_input(2))
    return init.Invalid("input C is required before opset 11");
  RETURN_IF_ERROR(CheckTypes(init, 3));
  const Node& n = init.node;
  return std::unique_ptr<Kernel>(new GemmKernel(n.GetInt("transA", 0) != 0,
                                                n.GetInt("transB", 0) != 0,
                                                n.GetFloat("alpha", 1.f), n.GetFloat("beta", 1.f)));
}

// ------------------------------------------------------------------------- MatMul

// NumPy matmul: 1-D operands are promoted (and the added axis removed from the result), batch
// axes broadcast.
class MatMulKernel : public Kernel {
 public:
  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckTensors(ctx));
    const Tensor& A = *ctx.input(0);
    const Tensor& B = *ctx.input(1);
    if (A.rank() == 0 || B.rank() == 0)
      return ctx.Error("operands must not be scalars: A " + ShapeToString(A.shape()) + ", B " +
                       ShapeToString(B.shape()));
    Shape as = A.shape(), bs = B.shape();
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    if (bs[bs.size() - 2] != K)
      return ctx.Error("inner dimensions differ: A " + ShapeToString(A.shape()) + " and B " +
                       ShapeToString(B.shape()));
    Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    auto batch = BroadcastShapes({a_batch, b_batch});
    if (!batch.ok())
      return ctx.Error("batch axes of A " + ShapeToString(A.shape()) + " and B " +
                       ShapeToString(B.shape()) + " do not broadcast");
    Shape yshape = *batch;
    if (!a_vec) yshape.push_back(M);
    if (!b_vec) yshape.push_back(N);
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, A.dtype(), yshape));
    if (Y->numel() == 0) return Status::Ok();
    const int64_t batches = NumElements(*batch);
    return Dispatch(A.dtype(), [&](auto zero) -> Status {
      using T = decltype(zero);
      const T* a = A.data<T>();
      const T* b = B.data<T>();
      T* y = Y->data<T>();
      // B shared by every batch and A's batch is the whole batch: one big product.
      if (NumElements(b_batch) == 1 && NumElements(a_batch) == batches) {
        AnyGemm<T>(ctx, false, false, batches * M, N, K, 1.f, a, K, b, N, false, y, N);
        return Status::Ok();
      }
      std::vector<int64_t> sa = BroadcastStrides(a_batch, *batch);
      std::vector<int64_t> sb = BroadcastStrides(b_batch, *batch);
      std::vector<int64_t> a_off(batches), b_off(batches);
      ForEachBroadcast(*batch, {sa, sb}, 0, batches,
                       [&](int64_t i, const std::vector<int64_t>& off) {
                         a_off[i] = off[0] * M * K;
                         b_off[i] = off[1] * K * N;
                       });
      if constexpr (std::is_same_v<T, float>) {
        BatchedSgemm(ctx, batches, false, false, M, N, K, a, a_off, K, b, b_off, N, y, M * N, N);
      } else {
        for (int64_t i = 0; i < batches; ++i)
          AnyGemm<T>(ctx, false, false, M, N, K, 1.f, a + a_off[i], K, b + b_off[i], N, false,
                     y + i * M * N, N);
      }
      return Status::Ok();
    });
  }
};

StatusOr<std::unique_ptr<Kernel>> MakeMatMul(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs inputs A and B");
  RETURN_IF_ERROR(CheckTypes(init, 2));
  return std::unique_ptr<Kernel>(new MatMulKernel());
}

// ------------------------------------------------------------------------- Einsum

// Labels are small integers: letters map to 0..51, the axes covered by "..." to 52 + j (aligned
// from the right across operands, like broadcasting).
constexpr int kEllipsisBase = 52;

struct Term {
  std::vector<int> letters;  // in order; kEllipsis marks where "..." stands
  bool has_ellipsis = false;
};
constexpr int kEllipsis = -1;

int LetterLabel(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' : c - 'a' + 26; }

struct Equation {
  std::vector<Term> inputs;
  Term output;
  bool explicit_output = false;
};

StatusOr<Term> ParseTerm(const std::string& s, const std::string& eq) {
  Term t;
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '.') {
      if (s.compare(i, 3, "...") != 0 || t.has_ellipsis)
        return InvalidModel("equation '" + eq + "': malformed ellipsis in '" + s + "'");
      t.has_ellipsis = true;
      t.letters.push_back(kEllipsis);
      i += 3;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return InvalidModel("equation '" + eq + "': unexpected character '" + std::string(1, c) +
                          "'");
    t.letters.push_back(LetterLabel(c));
    ++i;
  }
  return t;
}

StatusOr<Equation> ParseEquation(const std::string& text) {
  std::string eq;
  for (char c : text)
    if (c != ' ' && c != '\t') eq += c;
  Equation e;
  size_t arrow = eq.find("->");
  std::string lhs = arrow == std::string::npos ? eq : eq.substr(0, arrow);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    std::string part =
        lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    ASSIGN_OR_RETURN(Term t, ParseTerm(part, text));
    e.inputs.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow != std::string::npos) {
    e.explicit_output = true;
    ASSIGN_OR_RETURN(e.output, ParseTerm(eq.substr(arrow + 2), text));
    std::set<int> seen;
    for (int l : e.output.letters) {
      if (l == kEllipsis) continue;
      if (!seen.insert(l).second)
        return InvalidModel("equation '" + text + "': output label repeated");
      bool found = false;
      for (const Term& t : e.inputs)
        found = found || std::find(t.letters.begin(), t.letters.end(), l) != t.letters.end();
      if (!found) return InvalidModel("equation '" + text + "': output label not in any input");
    }
  } else {
    // Implicit output: "..." first, then the letters used exactly once, in alphabetical order.
    std::map<int, int> count;
    bool any_ellipsis = false;
    for (const Term& t : e.inputs)
      for (int l : t.letters) {
        if (l == kEllipsis)
          any_ellipsis = true;
        else
          ++count[l];
      }
    if (any_ellipsis) {
      e.output.letters.push_back(kEllipsis);
      e.output.has_ellipsis = true;
    }
    for (const auto& [l, n] : count)  // labels 0..25 = 'A'..'Z' sort before 'a'..'z'
      if (n == 1) e.output.letters.push_back(l);
  }
  return e;
}

// The equation bound to actual input ranks/shapes.
struct Bound {
  int num_labels = 0;
  std::vector<int64_t> size;               // per label
  std::vector<std::vector<int>> operands;  // per operand: label of each axis
  std::vector<int> out;                    // output labels in order
  std::vector<int> summed;                 // labels not in the output
};

StatusOr<Bound> Bind(const Equation& e, const std::vector<const Tensor*>& ins,
                     const KernelContext& ctx) {
  Bound b;
  if (e.inputs.size() != ins.size())
    return ctx.Error("the equation has " + std::to_string(e.inputs.size()) + " operands, " +
                     std::to_string(ins.size()) + " inputs given");
  size_t ell_rank = 0;
  std::vector<size_t> op_ell(ins.size(), 0);
  for (size_t i = 0; i < ins.size(); ++i) {
    const Term& t = e.inputs[i];
    size_t letters = t.letters.size() - (t.has_ellipsis ? 1 : 0);
    if (ins[i]->rank() < letters || (!t.has_ellipsis && ins[i]->rank() != letters))
      return ctx.Error("operand " + std::to_string(i) + " " + ShapeToString(ins[i]->shape()) +
                       " does not match its term's " + std::to_string(letters) + " labels");
    op_ell[i] = ins[i]->rank() - letters;
    ell_rank = std::max(ell_rank, op_ell[i]);
  }
  b.num_labels = kEllipsisBase + static_cast<int>(ell_rank);
  b.size.assign(b.num_labels, -1);
  for (size_t i = 0; i < ins.size(); ++i) {
    std::vector<int>& labels = b.operands.emplace_back();
    for (int l : e.inputs[i].letters) {
      if (l != kEllipsis) {
        labels.push_back(l);
        continue;
      }
      for (size_t j = 0; j < op_ell[i]; ++j)
        labels.push_back(kEllipsisBase + static_cast<int>(ell_rank - op_ell[i] + j));
    }
    for (size_t d = 0; d < labels.size(); ++d) {
      int l = labels[d];
      int64_t n = ins[i]->dim(d);
      int64_t& s = b.size[l];
      if (s < 0 || s == n) {
        s = n;
      } else if (l >= kEllipsisBase && (s == 1 || n == 1)) {
        s = std::max(s, n);
      } else {
        return ctx.Error("label sizes differ: operand " + std::to_string(i) + " " +
                         ShapeToString(ins[i]->shape()) + " axis " + std::to_string(d) + " has " +
                         std::to_string(n) + ", elsewhere " + std::to_string(s));
      }
    }
  }
  std::vector<bool> in_out(b.num_labels, false);
  for (int l : e.output.letters) {
    if (l != kEllipsis) {
      b.out.push_back(l);
      in_out[l] = true;
      continue;
    }
    for (size_t j = 0; j < ell_rank; ++j) {
      b.out.push_back(kEllipsisBase + static_cast<int>(j));
      in_out[kEllipsisBase + j] = true;
    }
  }
  for (int l = 0; l < b.num_labels; ++l)
    if (b.size[l] >= 0 && !in_out[l]) b.summed.push_back(l);
  return b;
}

// Element strides of an operand per label (summed for repeated labels: diagonals; 0 where the
// axis is broadcast).
std::vector<int64_t> LabelStrides(const Bound& b, size_t op, const Shape& shape) {
  std::vector<int64_t> st(b.num_labels, 0);
  int64_t stride = 1;
  const std::vector<int>& labels = b.operands[op];
  for (size_t d = labels.size(); d-- > 0;) {
    if (shape[d] != 1 || b.size[labels[d]] == 1) st[labels[d]] += stride;
    stride *= shape[d];
  }
  return st;
}

// The plain loop: every output element sums, over all values of the summed labels, the product
// of the operands.
template <typename T>
void EinsumLoop(const Bound& b, const std::vector<const Tensor*>& ins, T* y, KernelContext& ctx) {
  const size_t k = ins.size();
  std::vector<std::vector<int64_t>> st(k);
  std::vector<const T*> data(k);
  for (size_t i = 0; i < k; ++i) {
    st[i] = LabelStrides(b, i, ins[i]->shape());
    data[i] = ins[i]->data<T>();
  }
  int64_t out_total = 1, sum_total = 1;
  for (int l : b.out) out_total *= b.size[l];
  for (int l : b.summed) sum_total *= b.size[l];
  ParallelForCost(ctx, out_total, sum_total * static_cast<int64_t>(k),
                  [&](int64_t begin, int64_t end) {
                    const size_t no = b.out.size(), ns = b.summed.size();
                    std::vector<int64_t> oc(no), sc(ns), base(k), off(k);
                    int64_t rem = begin;
                    for (size_t d = no; d-- > 0;) {
                      oc[d] = rem % b.size[b.out[d]];
                      rem /= b.size[b.out[d]];
                    }
                    for (int64_t o = begin; o < end; ++o) {
                      for (size_t i = 0; i < k; ++i) {
                        base[i] = 0;
                        for (size_t d = 0; d < no; ++d) base[i] += oc[d] * st[i][b.out[d]];
                        off[i] = base[i];
                      }
                      T acc = 0;
                      std::fill(sc.begin(), sc.end(), 0);
                      for (int64_t s = 0; s < sum_total; ++s) {
                        T prod = data[0][off[0]];
                        for (size_t i = 1; i < k; ++i) prod *= data[i][off[i]];
                        acc += prod;
                        for (size_t d = ns; d-- > 0;) {
                          const int l = b.summed[d];
                          for (size_t i = 0; i < k; ++i) off[i] += st[i][l];
                          if (++sc[d] < b.size[l]) break;
                          for (size_t i = 0; i < k; ++i) off[i] -= sc[d] * st[i][l];
                          sc[d] = 0;
                        }
                      }
                      y[o] = acc;
                      for (size_t d = no; d-- > 0;) {
                        if (++oc[d] < b.size[b.out[d]]) break;
                        oc[d] = 0;
                      }
                    }
                  });
}

// dst = src (shape `shape`) with axes permuted: dst axis i is src axis perm[i].
template <typename T>
void Permute(const T* src, const Shape& shape, const std::vector<size_t>& perm, T* dst) {
  const size_t r = shape.size();
  std::vector<int64_t> src_stride(r, 1);
  for (size_t d = r; d-- > 1;) src_stride[d - 1] = src_stride[d] * shape[d];
  Shape dshape(r);
  std::vector<int64_t> st(r);
  for (size_t i = 0; i < r; ++i) {
    dshape[i] = shape[perm[i]];
    st[i] = src_stride[perm[i]];
  }
  ForEachBroadcast(dshape, {st}, 0, NumElements(dshape),
                   [&](int64_t i, const std::vector<int64_t>& off) { dst[i] = src[off[0]]; });
}

class EinsumKernel : public Kernel {
 public:
  explicit EinsumKernel(Equation eq) : eq_(std::move(eq)) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckTensors(ctx));
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      if (!ctx.input(i)) return ctx.Error("input " + std::to_string(i) + " is missing");
      ins.push_back(ctx.input(i));
    }
    ASSIGN_OR_RETURN(Bound b, Bind(eq_, ins, ctx));
    Shape yshape;
    for (int l : b.out) yshape.push_back(b.size[l]);
    const DataType dtype = ins[0]->dtype();
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, dtype, yshape));
    if (Y->numel() == 0) return Status::Ok();
    if (dtype == DataType::kFloat && ins.size() == 2 && MatMulLike(b, ins, Y->data<float>(), ctx))
      return Status::Ok();
    return Dispatch(dtype, [&](auto zero) -> Status {
      using T = decltype(zero);
      EinsumLoop<T>(b, ins, Y->data<T>(), ctx);
      return Status::Ok();
    });
  }

 private:
  // Two float operands as batched Sgemm. Returns false (nothing written) when the case does not
  // fit: diagonals or broadcast batch axes.
  static bool MatMulLike(const Bound& b, const std::vector<const Tensor*>& ins, float* y,
                         KernelContext& ctx) {
    std::vector<int> la = b.operands[0], lb = b.operands[1];
    auto has = [](const std::vector<int>& v, int l) {
      return std::find(v.begin(), v.end(), l) != v.end();
    };
    for (const auto* labels : {&la, &lb}) {
      std::set<int> unique(labels->begin(), labels->end());
      if (unique.size() != labels->size()) return false;  // a diagonal
    }
    for (size_t i = 0; i < 2; ++i)
      for (size_t d = 0; d < ins[i]->rank(); ++d)
        if (ins[i]->dim(d) != b.size[b.operands[i][d]]) return false;  // broadcast axis
    // Sum away labels private to one operand first (via the plain loop on that operand).
    Tensor ra, rb;
    const Tensor* A = ins[0];
    const Tensor* B = ins[1];
    auto reduce_private = [&](const Tensor* t, std::vector<int>& labels,
                              const std::vector<int>& other, Tensor* holder) -> const Tensor* {
      std::vector<int> keep;
      for (int l : labels)
        if (has(other, l) || has(b.out, l)) keep.push_back(l);
      if (keep.size() == labels.size()) return t;
      Bound sub;
      sub.num_labels = b.num_labels;
      sub.size = b.size;
      sub.operands = {labels};
      sub.out = keep;
      for (int l : labels)
        if (!has(keep, l)) sub.summed.push_back(l);
      Shape shape;
      for (int l : keep) shape.push_back(b.size[l]);
      *holder = Tensor(DataType::kFloat, shape);
      EinsumLoop<float>(sub, {t}, holder->data<float>(), ctx);
      labels = keep;
      return holder;
    };
    A = reduce_private(A, la, lb, &ra);
    B = reduce_private(B, lb, la, &rb);
    std::vector<int> batch, m, n, k;
    for (int l : b.out) {
      bool ia = has(la, l), ib = has(lb, l);
      if (ia && ib)
        batch.push_back(l);
      else if (ia)
        m.push_back(l);
      else if (ib)
        n.push_back(l);
    }
    for (int l : la)
      if (has(lb, l) && !has(b.out, l)) k.push_back(l);
    auto prod = [&](const std::vector<int>& v) {
      int64_t p = 1;
      for (int l : v) p *= b.size[l];
      return p;
    };
    const int64_t NB = prod(batch), M = prod(m), N = prod(n), K = prod(k);
    auto cat = [](std::initializer_list<const std::vector<int>*> parts) {
      std::vector<int> v;
      for (const auto* p : parts) v.insert(v.end(), p->begin(), p->end());
      return v;
    };
    // Operand layouts: use as is when already [batch, M, K] / [batch, K, M] (A) and
    // [batch, K, N] / [batch, N, K] (B); otherwise transpose into [batch, M, K] / [batch, K, N].
    auto arrange = [&](const Tensor* t, const std::vector<int>& labels,
                       const std::vector<int>& plain, const std::vector<int>& swapped,
                       std::vector<float>* buf, bool* trans) -> const float* {
      *trans = false;
      if (labels == plain) return t->data<float>();
      if (labels == swapped) {
        *trans = true;
        return t->data<float>();
      }
      std::vector<size_t> perm;
      for (int l : plain)
        perm.push_back(std::find(labels.begin(), labels.end(), l) - labels.begin());
      buf->resize(t->numel());
      Permute(t->data<float>(), t->shape(), perm, buf->data());
      return buf->data();
    };
    std::vector<float> abuf, bbuf, ybuf;
    bool ta, tb;
    const float* a = arrange(A, la, cat({&batch, &m, &k}), cat({&batch, &k, &m}), &abuf, &ta);
    const float* bp = arrange(B, lb, cat({&batch, &k, &n}), cat({&batch, &n, &k}), &bbuf, &tb);
    std::vector<int> natural = cat({&batch, &m, &n});
    float* out = y;
    if (natural != b.out) {
      ybuf.resize(NB * M * N);
      out = ybuf.data();
    }
    std::vector<int64_t> a_off(NB), b_off(NB);
    for (int64_t i = 0; i < NB; ++i) {
      a_off[i] = i * M * K;
      b_off[i] = i * K * N;
    }
    BatchedSgemm(ctx, NB, ta, tb, M, N, K, a, a_off, ta ? M : K, bp, b_off, tb ? K : N, out, M * N,
                 N);
    if (out != y) {
      Shape shape;
      for (int l : natural) shape.push_back(b.size[l]);
      std::vector<size_t> perm;
      for (int l : b.out)
        perm.push_back(std::find(natural.begin(), natural.end(), l) - natural.begin());
      Permute(out, shape, perm, y);
    }
    return true;
  }

  Equation eq_;
};

StatusOr<std::unique_ptr<Kernel>> MakeEinsum(const KernelInit& init) {
  const Attribute* a = init.node.FindAttribute("equation");
  if (!a || a->type != AttrType::kString) return init.Invalid("the equation attribute is required");
  auto eq = ParseEquation(a->s);
  if (!eq.ok()) return init.Invalid(eq.status().message());
  if (eq->inputs.size() != init.node.num_inputs())
    return init.Invalid("equation '" + a->s + "' has " + std::to_string(eq->inputs.size()) +
                        " operands but the node has " + std::to_string(init.node.num_inputs()) +
                        " inputs");
  RETURN_IF_ERROR(CheckTypes(init, init.node.num_inputs()));
  return std::unique_ptr<Kernel>(new EinsumKernel(std::move(eq).value()));
}

}  // namespace

// Versions: Gemm 1 and 6 (broadcast attribute; C is broadcast whenever its shape allows),
// 7 (unidirectional broadcast), 9 (integer types), 11 (C optional), 13 (bfloat16); MatMul 1,
// 9 (integer types), 13; Einsum 12.
void RegisterGemmKernels(KernelRegistry& r) {
  r.Add("Gemm", 1, 6, MakeGemm);
  r.Add("Gemm", 7, 8, MakeGemm);
  r.Add("Gemm", 9, 10, MakeGemm);
  r.Add("Gemm", 11, 12, MakeGemm);
  r.Add("Gemm", 13, 1000, MakeGemm);
  r.Add("MatMul", 1, 8, MakeMatMul);
  r.Add("MatMul", 9, 12, MakeMatMul);
  r.Add("MatMul", 13, 1000, MakeMatMul);
  r.Add("Einsum", 12, 1000, MakeEinsum);
}

}  // namespace edgefit
