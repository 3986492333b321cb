// Gemm, MatMul and Einsum: hand-computed cases per attribute and opset, integer paths, errors,
// and differential tests of the Sgemm paths (and Einsum's lowering to them) against plain loops.
#include <gtest/gtest.h>

#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::ExpectNear;
using testing::F32;
using testing::I64;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

NodeSpec Spec(const std::string& op, std::vector<NodeInput> inputs,
              std::vector<Attribute> attrs = {}, int64_t opset = 17) {
  NodeSpec s;
  s.op_type = op;
  s.inputs = std::move(inputs);
  s.attributes = std::move(attrs);
  s.opset = opset;
  return s;
}

std::vector<float> Random(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: A B = [[4,5],[10,11]].
Tensor A23() { return F32({2, 3}, {1, 2, 3, 4, 5, 6}); }
Tensor B32() { return F32({3, 2}, {1, 0, 0, 1, 1, 1}); }

// ------------------------------------------------------------------------- Gemm

TEST(GemmTest, AlphaBetaScalarC) {
  auto out = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}, {"c", F32({}, {1})}},
                          {Attribute::Float("alpha", 2), Attribute::Float("beta", 3)}, 13));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {11, 13, 23, 25});
}

TEST(GemmTest, TransposesAndBroadcastC) {
  Tensor at = F32({3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor bt = F32({2, 3}, {1, 0, 1, 0, 1, 1});
  auto out = RunNode(Spec("Gemm", {{"a", at}, {"b", bt}, {"c", F32({2}, {1, 2})}},
                          {Attribute::Int("transA", 1), Attribute::Int("transB", 1)}, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {5, 7, 11, 13});
  out = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}, {"c", F32({2, 1}, {1, 2})}}, {}, 9));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {5, 6, 12, 13});
  // Opset 6 with the broadcast attribute.
  out = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}, {"c", F32({1}, {1})}},
                     {Attribute::Int("broadcast", 1)}, 6));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {5, 6, 11, 12});
}

TEST(GemmTest, OptionalCAndBetaZero) {
  auto out = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}}, {}, 13));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {4, 5, 10, 11});
  auto old = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}}, {}, 9));
  EXPECT_EQ(old.status().code(), StatusCode::kInvalidModel);
  // beta = 0: C is not read (as ONNX Runtime does).
  out = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}, {"c", F32({2, 2}, {NAN, 1, 1, 1})}},
                     {Attribute::Float("beta", 0)}, 13));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {4, 5, 10, 11});
}

TEST(GemmTest, IntegerTypes) {
  Tensor a = testing::I32({2, 2}, {1, 2, 3, 4});
  Tensor b = testing::I32({2, 2}, {5, 6, 7, 8});
  Tensor c = testing::I32({2}, {1, -1});
  auto out = RunNode(Spec("Gemm", {{"a", a}, {"b", b}, {"c", c}}, {}, 13));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int32_t>((*out)[0]), (std::vector<int32_t>{20, 21, 44, 49}));
}

TEST(GemmTest, Errors) {
  auto inner = RunNode(Spec("Gemm", {{"a", A23()}, {"b", A23()}}));
  EXPECT_EQ(inner.status().code(), StatusCode::kInvalidArgument);
  auto c = RunNode(Spec("Gemm", {{"a", A23()}, {"b", B32()}, {"c", F32({3}, {1, 2, 3})}}));
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  auto rank = RunNode(Spec("Gemm", {{"a", F32({3}, {1, 2, 3})}, {"b", B32()}}));
  EXPECT_EQ(rank.status().code(), StatusCode::kInvalidArgument);
  Tensor h = testing::Make<uint16_t>(DataType::kFloat16, {1, 1}, {0});
  auto f16 = RunNode(Spec("Gemm", {{"a", h}, {"b", h}}));
  EXPECT_EQ(f16.status().code(), StatusCode::kUnsupported);
  auto mixed = RunNode(Spec("Gemm", {{"a", A23()}, {"b", testing::I32({3, 1}, {1, 2, 3})}}));
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidModel);
}

TEST(GemmTest, MatchesPlainLoop) {
  std::mt19937 rng(5);
  struct Case {
    int64_t m, n, k;
    bool ta, tb;
    Shape c;
  };
  for (const Case& cs : std::vector<Case>{{37, 29, 53, false, false, {37, 29}},
                                          {64, 1, 100, true, false, {1}},
                                          {1, 70, 33, false, true, {70}},
                                          {20, 30, 40, true, true, {20, 1}},
                                          {100, 90, 80, false, true, {90}},     // split N
                                          {150, 20, 120, true, false, {1}}}) {  // split M
    std::vector<float> a = Random(cs.m * cs.k, rng), b = Random(cs.k * cs.n, rng);
    int64_t cn = 1;
    for (int64_t d : cs.c) cn *= d;
    std::vector<float> c = Random(cn, rng);
    Shape as = cs.ta ? Shape{cs.k, cs.m} : Shape{cs.m, cs.k};
    Shape bs = cs.tb ? Shape{cs.n, cs.k} : Shape{cs.k, cs.n};
    auto out =
        RunNode(Spec("Gemm", {{"a", F32(as, a)}, {"b", F32(bs, b), true}, {"c", F32(cs.c, c)}},
                     {Attribute::Int("transA", cs.ta), Attribute::Int("transB", cs.tb),
                      Attribute::Float("alpha", 0.5f), Attribute::Float("beta", -2.f)}),
                2);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::vector<float> ref(cs.m * cs.n);
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < cs.n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < cs.k; ++k)
          s += static_cast<double>(cs.ta ? a[k * cs.m + i] : a[i * cs.k + k]) *
               (cs.tb ? b[j * cs.k + k] : b[k * cs.n + j]);
        int64_t ci = cs.c.size() == 2 ? (cs.c[0] == 1 ? 0 : i) * cs.c[1] + (cs.c[1] == 1 ? 0 : j)
                                      : (cs.c[0] == 1 ? 0 : j);
        ref[i * cs.n + j] = static_cast<float>(0.5 * s - 2.0 * c[ci]);
      }
    ExpectNear((*out)[0], {cs.m, cs.n}, ref, 1e-4f, 1e-4f);
  }
}

// ------------------------------------------------------------------------- MatMul

TEST(MatMulTest, MatricesVectorsAndBroadcast) {
  auto out = RunNode(Spec("MatMul", {{"a", A23()}, {"b", B32()}}, {}, 13));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {4, 5, 10, 11});
  // 1-D x 1-D: a scalar.
  out = RunNode(Spec("MatMul", {{"a", F32({3}, {1, 2, 3})}, {"b", F32({3}, {4, 5, 6})}}, {}, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {}, {32});
  // 1-D x batched: [3] x [2,3,2] -> [2,2].
  Tensor b = F32({2, 3, 2}, {1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 2, 2});
  out = RunNode(Spec("MatMul", {{"a", F32({3}, {1, 2, 3})}, {"b", b}}, {}, 9));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {4, 5, 8, 10});
  // batched x 1-D: [2,2,3] x [3] -> [2,2].
  Tensor a = F32({2, 2, 3}, {1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0});
  out = RunNode(Spec("MatMul", {{"a", a}, {"b", F32({3}, {1, 1, 2})}}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {9, 21, 2, 1});
  // Matrix x batch (A broadcast over B's batch).
  out = RunNode(Spec("MatMul", {{"a", A23()}, {"b", b}}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2, 2}, {4, 5, 10, 11, 8, 10, 20, 22});
}

TEST(MatMulTest, IntegerTypes) {
  Tensor a = I64({2, 2}, {1, 2, 3, 4});
  Tensor b = I64({2, 1}, {10, -1});
  auto out = RunNode(Spec("MatMul", {{"a", a}, {"b", b}}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{8, 26}));
}

TEST(MatMulTest, Errors) {
  auto inner = RunNode(Spec("MatMul", {{"a", A23()}, {"b", A23()}}));
  EXPECT_EQ(inner.status().code(), StatusCode::kInvalidArgument);
  auto batch =
      RunNode(Spec("MatMul", {{"a", F32({2, 1, 1}, {1, 2})}, {"b", F32({3, 1, 1}, {1, 2, 3})}}));
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  auto scalar = RunNode(Spec("MatMul", {{"a", F32({}, {1})}, {"b", F32({1}, {1})}}));
  EXPECT_EQ(scalar.status().code(), StatusCode::kInvalidArgument);
}

TEST(MatMulTest, MatchesPlainLoopWithBroadcastBatches) {
  std::mt19937 rng(11);
  struct Case {
    Shape a, b;
  };
  for (const Case& cs : std::vector<Case>{{{4, 17, 33}, {33, 9}},     // batch folded into M
                                          {{2, 1, 5, 7}, {3, 7, 6}},  // broadcast both ways
                                          {{5, 8}, {3, 8, 4}},        // A shared
                                          {{2, 3, 16, 16}, {2, 3, 16, 16}},
                                          {{64, 64}, {64, 64}},
                                          {{4, 40, 70}, {4, 70, 50}},  // batches per thread
                                          {{3, 1, 50, 60}, {1, 2, 60, 40}},
                                          {{3, 0, 4}, {4, 2}},     // empty
                                          {{2, 3, 0}, {0, 5}}}) {  // K = 0
    int64_t na = 1, nb = 1;
    for (int64_t d : cs.a) na *= d;
    for (int64_t d : cs.b) nb *= d;
    std::vector<float> a = Random(na, rng), b = Random(nb, rng);
    auto out = RunNode(Spec("MatMul", {{"a", F32(cs.a, a)}, {"b", F32(cs.b, b)}}), 2);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    // Reference: pad batch shapes to rank 2 and loop.
    const int64_t M = cs.a[cs.a.size() - 2], K = cs.a.back(), N = cs.b.back();
    Shape ab(cs.a.begin(), cs.a.end() - 2), bb(cs.b.begin(), cs.b.end() - 2);
    while (ab.size() < 2) ab.insert(ab.begin(), 1);
    while (bb.size() < 2) bb.insert(bb.begin(), 1);
    Shape batch = {std::max(ab[0], bb[0]), std::max(ab[1], bb[1])};
    std::vector<float> ref;
    for (int64_t i0 = 0; i0 < batch[0]; ++i0)
      for (int64_t i1 = 0; i1 < batch[1]; ++i1) {
        int64_t ao = ((ab[0] == 1 ? 0 : i0) * ab[1] + (ab[1] == 1 ? 0 : i1)) * M * K;
        int64_t bo = ((bb[0] == 1 ? 0 : i0) * bb[1] + (bb[1] == 1 ? 0 : i1)) * K * N;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = 0;
            for (int64_t k = 0; k < K; ++k)
              s += static_cast<double>(a[ao + i * K + k]) * b[bo + k * N + j];
            ref.push_back(static_cast<float>(s));
          }
      }
    Shape yshape = (*out)[0].shape();
    ExpectNear((*out)[0], yshape, ref, 1e-4f, 1e-4f);
    EXPECT_EQ(yshape.back(), N);
  }
}

// ------------------------------------------------------------------------- Einsum

TEST(EinsumTest, HandComputed) {
  Tensor m = F32({2, 2}, {1, 2, 3, 4});
  auto run = [&](const std::string& eq, std::vector<NodeInput> in) {
    return RunNode(Spec("Einsum", std::move(in), {Attribute::String("equation", eq)}, 12));
  };
  auto out = run("ij->ji", {{"x", m}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {1, 3, 2, 4});
  out = run("ii->i", {{"x", m}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2}, {1, 4});
  out = run("ii", {{"x", m}});  // implicit: the trace
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {}, {5});
  out = run("ij->", {{"x", m}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {}, {10});
  out = run("ij->i", {{"x", m}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2}, {3, 7});
  out = run("i,i", {{"a", F32({3}, {1, 2, 3})}, {"b", F32({3}, {4, 5, 6})}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {}, {32});
  out = run("i, j -> ij", {{"a", F32({2}, {1, 2})}, {"b", F32({3}, {1, 10, 100})}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 3}, {1, 10, 100, 2, 20, 200});
  out = run("ij,jk", {{"a", A23()}, {"b", B32()}});  // implicit "ik"
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {4, 5, 10, 11});
  out = run("ij,kj->ik", {{"a", A23()}, {"b", F32({2, 3}, {1, 0, 1, 0, 1, 1})}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {4, 5, 10, 11});
  // Sum over a label private to one operand: "ij,k->i" = rowsum(A) * sum(b).
  out = run("ij,k->i", {{"a", A23()}, {"b", F32({2}, {1, 2})}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2}, {18, 45});
  // "...ii->...i" (batch diagonal), and uppercase labels.
  out = run("...ii->...i", {{"x", F32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {1, 4, 5, 8});
  out = run("Ab->bA", {{"x", m}});
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {1, 3, 2, 4});
  // Integer path.
  out = run("ij,jk->ik", {{"a", I64({1, 2}, {2, 3})}, {"b", I64({2, 1}, {4, 5})}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{23}));
}

TEST(EinsumTest, Errors) {
  auto run = [&](const std::string& eq, std::vector<NodeInput> in) {
    return RunNode(Spec("Einsum", std::move(in), {Attribute::String("equation", eq)}, 12));
  };
  Tensor m = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run("ij->k", {{"x", m}}).status().code(), StatusCode::kInvalidModel);
  EXPECT_EQ(run("i1->i", {{"x", m}}).status().code(), StatusCode::kInvalidModel);
  EXPECT_EQ(run("ij,jk->ik", {{"x", m}}).status().code(), StatusCode::kInvalidModel);
  EXPECT_EQ(run("ii->i", {{"x", m}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run("ijk->i", {{"x", m}}).status().code(), StatusCode::kInvalidArgument);
  auto old = RunNode(Spec("Einsum", {{"x", m}}, {Attribute::String("equation", "ij")}, 11));
  EXPECT_EQ(old.status().code(), StatusCode::kUnsupported);
}

// Differential: each equation against a plain loop over its labels written out here.
TEST(EinsumTest, MatMulLikeCasesMatchPlainLoops) {
  std::mt19937 rng(3);
  const int64_t B = 3, H = 2, I = 5, J = 7, K = 4;
  auto run = [&](const std::string& eq, const Tensor& a, const Tensor& b) {
    return RunNode(Spec("Einsum", {{"a", a}, {"b", b}}, {Attribute::String("equation", eq)}, 12));
  };
  std::vector<float> a = Random(B * H * I * J, rng), b = Random(B * H * J * K, rng);
  // Batched matmul: "bhij,bhjk->bhik".
  std::vector<float> ref(B * H * I * K, 0.f);
  for (int64_t p = 0; p < B * H; ++p)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t k = 0; k < K; ++k) {
        double s = 0;
        for (int64_t j = 0; j < J; ++j)
          s += static_cast<double>(a[(p * I + i) * J + j]) * b[(p * J + j) * K + k];
        ref[(p * I + i) * K + k] = static_cast<float>(s);
      }
  auto out = run("bhij,bhjk->bhik", F32({B, H, I, J}, a), F32({B, H, J, K}, b));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {B, H, I, K}, ref, 1e-5f, 1e-4f);
  // Same product with the output transposed: "bhij,bhjk->hkbi".
  std::vector<float> ref_t(ref.size());
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t k = 0; k < K; ++k)
          ref_t[((h * K + k) * B + bb) * I + i] = ref[((bb * H + h) * I + i) * K + k];
  out = run("bhij,bhjk->hkbi", F32({B, H, I, J}, a), F32({B, H, J, K}, b));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {H, K, B, I}, ref_t, 1e-5f, 1e-4f);
  // B given as [b, h, k, j] (transposed operand) and batch axes in another order in A.
  std::vector<float> bt(b.size()), at(a.size());
  for (int64_t p = 0; p < B * H; ++p)
    for (int64_t j = 0; j < J; ++j)
      for (int64_t k = 0; k < K; ++k) bt[(p * K + k) * J + j] = b[(p * J + j) * K + k];
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < I * J; ++i)
        at[(h * B + bb) * I * J + i] = a[(bb * H + h) * I * J + i];
  out = run("hbij,bhkj->bhik", F32({H, B, I, J}, at), F32({B, H, K, J}, bt));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {B, H, I, K}, ref, 1e-5f, 1e-4f);
  // A given as [b, h, j, i] (transposed, used with transA).
  std::vector<float> ajt(a.size());
  for (int64_t p = 0; p < B * H; ++p)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t j = 0; j < J; ++j) ajt[(p * J + j) * I + i] = a[(p * I + i) * J + j];
  out = run("bhji,bhjk->bhik", F32({B, H, J, I}, ajt), F32({B, H, J, K}, b));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {B, H, I, K}, ref, 1e-5f, 1e-4f);
  // Ellipsis with broadcasting batch axes (falls back to the plain loop): "...ij,...jk->...ik"
  // with A [1, H, I, J] shared over B's batch [B, H, J, K].
  std::vector<float> ref_b(B * H * I * K);
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t k = 0; k < K; ++k) {
          double s = 0;
          for (int64_t j = 0; j < J; ++j)
            s += static_cast<double>(a[(h * I + i) * J + j]) * b[((bb * H + h) * J + j) * K + k];
          ref_b[((bb * H + h) * I + i) * K + k] = static_cast<float>(s);
        }
  std::vector<float> a1(a.begin(), a.begin() + H * I * J);
  out = run("...ij,...jk->...ik", F32({1, H, I, J}, a1), F32({B, H, J, K}, b));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {B, H, I, K}, ref_b, 1e-5f, 1e-4f);
}

}  // namespace
}  // namespace edgefit
