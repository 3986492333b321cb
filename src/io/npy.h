// NumPy .npy and .npz files <-> edgefit::Tensor.
//
// .npy: reads format 1.0, 2.0 and 3.0 headers; dtypes f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1,
// little-endian ('<', '|' or '='), C order. Writes format 1.0 (2.0 when the header needs it)
// with the header padded to 64 bytes, byte-identical to numpy.save. fortran_order=True,
// big-endian, object, string, complex and structured arrays are rejected. Input is treated as
// untrusted: a truncated file, a header that disagrees with the data size, a malformed header
// or a shape above NpyReadOptions::max_elements is an error, never a crash.
//
// .npz: a zip of .npy members ("<name>.npy"), as written by np.savez (stored) and
// np.savez_compressed (deflate); both are read. Written with stored members (like np.savez).
//
// Every write is atomic: a temporary file in the target's folder, then rename; on failure the
// target is left untouched and the temporary file removed.
//
// Status codes: kNotFound (file missing), kIoError (read/write failure), kInvalidArgument
// (malformed or inconsistent file), kUnsupported (valid NumPy data edgefit does not take:
// big-endian, fortran order, other dtypes), kResourceExhausted (above max_bytes). Every message
// names the file (and the .npz member).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/tensor.h"

namespace edgefit {

struct NpyReadOptions {
  // Refuse arrays declaring more elements than this (checked before allocating).
  int64_t max_elements = int64_t{1} << 40;
  // Refuse arrays whose data is larger than this many bytes (e.g. a --max-memory limit).
  size_t max_bytes = SIZE_MAX;
};

// The NumPy descr edgefit writes for `type` ("<f4", "|b1", ...), or nullptr when the dtype
// cannot be stored in .npy by edgefit (string, bfloat16, complex, undefined).
const char* NpyDescr(DataType type);

// Decodes a whole .npy file held in memory. `origin` names it in messages.
StatusOr<Tensor> ParseNpy(const void* data, size_t size, const std::string& origin,
                          const NpyReadOptions& options = {});
// Reads a .npy file.
StatusOr<Tensor> ReadNpy(const std::string& path, const NpyReadOptions& options = {});

// The bytes of `tensor` as a .npy file (what numpy.save writes for the same array).
StatusOr<std::string> EncodeNpy(const Tensor& tensor);
// Writes `tensor` to `path` atomically.
Status WriteNpy(const std::string& path, const Tensor& tensor);

// One array of an .npz file; `name` is the member name without ".npy".
struct NpzEntry {
  std::string name;
  Tensor tensor;
};

// Reads every member of an .npz file, in archive order. Members must be named "*.npy" and be
// stored or deflated; names must be unique. options apply to each member.
StatusOr<std::vector<NpzEntry>> ReadNpz(const std::string& path,
                                        const NpyReadOptions& options = {});
// Writes an .npz (stored members "<name>.npy", fixed timestamps) atomically. Names must be
// non-empty and unique.
Status WriteNpz(const std::string& path, const std::vector<NpzEntry>& entries);

// ---------------------------------------------------------------- headers and row slices
// For data sets that must not hold whole arrays in memory: read the header once, then only the
// rows (sub-arrays along axis 0) that are needed.

// What an .npy file (or .npz member) holds and where its data starts.
struct NpyHeader {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  uint64_t data_offset = 0;  // bytes from the start of the .npy to its first element
  uint64_t data_bytes() const {
    return static_cast<uint64_t>(NumElements(shape)) * DataTypeSize(dtype);
  }
};

// Reads and validates only the header of an .npy file (the file size must match the declared
// data exactly, as for ReadNpy); the data is not read.
StatusOr<NpyHeader> ReadNpyHeader(const std::string& path, const NpyReadOptions& options = {});
// Reads rows [first, first + count) along axis 0 of the .npy file at `path`: a tensor of shape
// {count, shape[1:]...}. The header is read again (so a file replaced since ReadNpyHeader is
// caught) and then only those rows' bytes, at their offset. The array must have rank >= 1.
// options.max_bytes applies to the rows read.
StatusOr<Tensor> ReadNpyRows(const std::string& path, int64_t first, int64_t count,
                             const NpyReadOptions& options = {});

// The header of one .npz member; `name` is the member name without ".npy".
struct NpzMemberHeader {
  std::string name;
  NpyHeader header;
};
// The headers of every member of an .npz file, in archive order, with the checks of ReadNpz
// (member names, compression, duplicates) but without reading the data.
StatusOr<std::vector<NpzMemberHeader>> ReadNpzHeaders(const std::string& path,
                                                      const NpyReadOptions& options = {});
// ReadNpyRows for the member `name` of an .npz file. Stored members are read at the rows'
// offset; deflated members are decompressed up to the rows and the bytes before are dropped
// (memory stays bounded by the rows read).
StatusOr<Tensor> ReadNpzRows(const std::string& path, const std::string& name, int64_t first,
                             int64_t count, const NpyReadOptions& options = {});

// Writes `bytes` to `path` atomically (temporary file in the same folder + rename).
Status WriteFileAtomic(const std::string& path, const std::string& bytes);

}  // namespace edgefit

// Shared by npy.cc and npz.cc; not part of the API.
namespace edgefit::npy_internal {

// A forward-only byte stream.
class Stream {
 public:
  virtual ~Stream() = default;
  // Reads up to n bytes; returns how many were read (0 only at the end) or an error.
  virtual StatusOr<size_t> Read(void* dst, size_t n) = 0;
};

// Reads the header of one .npy of `size` bytes from `in`, leaving `in` at the first data byte;
// checks that the data size matches the header exactly.
StatusOr<NpyHeader> ReadNpyStreamHeader(Stream& in, uint64_t size, const std::string& origin,
                                        const NpyReadOptions& options);

// Decodes one .npy of `size` bytes from `in` (which must hold exactly that many bytes).
StatusOr<Tensor> ReadNpyStream(Stream& in, uint64_t size, const std::string& origin,
                               const NpyReadOptions& options);

// Reads exactly n bytes ("truncated <what>" otherwise).
Status ReadBytes(Stream& in, void* dst, size_t n, const char* what);
// A tensor for rows [first, first + count) of an array with this header, and the bytes of data
// before them (`skip_bytes`).
StatusOr<Tensor> AllocateRowRange(const NpyHeader& header, int64_t first, int64_t count,
                                  const NpyReadOptions& options, uint64_t* skip_bytes);
// Bool values stored as any non-zero byte become 1.
void NormalizeBoolValues(Tensor* tensor);

}  // namespace edgefit::npy_internal
