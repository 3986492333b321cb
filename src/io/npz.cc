// .npz: a zip archive of .npy members, read and written with libzip.
#include <sys/stat.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "io/npy.h"

namespace edgefit {

namespace {

// 1980-01-01 12:00 UTC: any fixed time inside the DOS date range, so that writing the same
// arrays twice gives the same bytes.
constexpr time_t kFixedMtime = 315576000;

std::string ZipErrorString(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

struct ZipArchiveCloser {
  void operator()(zip_t* z) const {
    if (z) zip_discard(z);
  }
};
struct ZipMemberCloser {
  void operator()(zip_file_t* f) const {
    if (f) zip_fclose(f);
  }
};
using ZipArchive = std::unique_ptr<zip_t, ZipArchiveCloser>;
using ZipMember = std::unique_ptr<zip_file_t, ZipMemberCloser>;

class ZipMemberStream final : public npy_internal::Stream {
 public:
  explicit ZipMemberStream(zip_file_t* f) : f_(f) {}
  StatusOr<size_t> Read(void* dst, size_t n) override {
    zip_int64_t got = zip_fread(f_, dst, n);
    if (got < 0)
      return InvalidArgument(std::string("cannot read member: ") + zip_file_strerror(f_));
    return static_cast<size_t>(got);
  }

 private:
  zip_file_t* f_;
};

// Same checks and messages as ReadNpz.
StatusOr<ZipArchive> OpenNpz(const std::string& path) {
  struct stat file;
  if (::stat(path.c_str(), &file) != 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(errno));
  }
  if (!S_ISREG(file.st_mode)) return IoError(path + ": not a regular file");
  if (file.st_size == 0) return InvalidArgument(path + ": not an .npz file (empty file)");
  int err = 0;
  ZipArchive za(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (za) return za;
  if (err == ZIP_ER_NOENT) return NotFound(path + ": no such file");
  if (err == ZIP_ER_OPEN || err == ZIP_ER_READ)
    return IoError(path + ": cannot read: " + ZipErrorString(err));
  if (err == ZIP_ER_EXISTS)
    return InvalidArgument(path +
                           ": not a valid .npz: the archive has two members with the same name");
  if (err == ZIP_ER_NOZIP) return InvalidArgument(path + ": not an .npz file (not a zip archive)");
  return InvalidArgument(path + ": not a valid .npz (zip) file: " + ZipErrorString(err));
}

struct NpzMemberInfo {
  zip_uint64_t index;
  std::string name;    // without ".npy"
  std::string origin;  // "path (member 'x.npy')"
  uint64_t size;
  bool stored;
};

StatusOr<std::vector<NpzMemberInfo>> ListNpzMembers(zip_t* za, const std::string& path) {
  zip_int64_t n = zip_get_num_entries(za, 0);
  if (n < 0) return InvalidArgument(path + ": cannot list the archive");
  std::vector<NpzMemberInfo> members;
  std::set<std::string> names;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      return InvalidArgument(path + ": member " + std::to_string(i) + ": " + zip_strerror(za));
    std::string member = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "";
    std::string origin = path + " (member '" + member + "')";
    if (member.size() < 5 || member.compare(member.size() - 4, 4, ".npy") != 0)
      return InvalidArgument(origin + ": not an .npy member (the name must end in .npy)");
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      return InvalidArgument(origin + ": size or compression method unknown");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      return Unsupported(origin + ": encrypted members are not supported");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      return Unsupported(origin + ": compression method " + std::to_string(st.comp_method) +
                         " is not supported (supported: stored, deflate)");
    std::string name = member.substr(0, member.size() - 4);
    if (!names.insert(name).second)
      return InvalidArgument(origin + ": the archive has two members named '" + member + "'");
    members.push_back({static_cast<zip_uint64_t>(i), std::move(name), std::move(origin), st.size,
                       st.comp_method == ZIP_CM_STORE});
  }
  return members;
}

}  // namespace

StatusOr<std::vector<NpzEntry>> ReadNpz(const std::string& path, const NpyReadOptions& options) {
  ASSIGN_OR_RETURN(ZipArchive za, OpenNpz(path));
  ASSIGN_OR_RETURN(std::vector<NpzMemberInfo> members, ListNpzMembers(za.get(), path));
  std::vector<NpzEntry> entries;
  for (const NpzMemberInfo& m : members) {
    ZipMember f(zip_fopen_index(za.get(), m.index, 0));
    if (!f) return InvalidArgument(m.origin + ": cannot open: " + zip_strerror(za.get()));
    ZipMemberStream in(f.get());
    ASSIGN_OR_RETURN(Tensor tensor, npy_internal::ReadNpyStream(in, m.size, m.origin, options));
    entries.push_back({m.name, std::move(tensor)});
  }
  return entries;
}

StatusOr<std::vector<NpzMemberHeader>> ReadNpzHeaders(const std::string& path,
                                                      const NpyReadOptions& options) {
  ASSIGN_OR_RETURN(ZipArchive za, OpenNpz(path));
  ASSIGN_OR_RETURN(std::vector<NpzMemberInfo> members, ListNpzMembers(za.get(), path));
  std::vector<NpzMemberHeader> headers;
  headers.reserve(members.size());
  for (const NpzMemberInfo& m : members) {
    ZipMember f(zip_fopen_index(za.get(), m.index, 0));
    if (!f) return InvalidArgument(m.origin + ": cannot open: " + zip_strerror(za.get()));
    ZipMemberStream in(f.get());
    ASSIGN_OR_RETURN(NpyHeader h, npy_internal::ReadNpyStreamHeader(in, m.size, m.origin, options));
    headers.push_back({m.name, std::move(h)});
  }
  return headers;
}

StatusOr<Tensor> ReadNpzRows(const std::string& path, const std::string& name, int64_t first,
                             int64_t count, const NpyReadOptions& options) {
  ASSIGN_OR_RETURN(ZipArchive za, OpenNpz(path));
  ASSIGN_OR_RETURN(std::vector<NpzMemberInfo> members, ListNpzMembers(za.get(), path));
  const NpzMemberInfo* m = nullptr;
  for (const NpzMemberInfo& candidate : members)
    if (candidate.name == name) m = &candidate;
  if (!m) return NotFound(path + ": no member named '" + name + ".npy'");
  ZipMember f(zip_fopen_index(za.get(), m->index, 0));
  if (!f) return InvalidArgument(m->origin + ": cannot open: " + zip_strerror(za.get()));
  ZipMemberStream in(f.get());
  ASSIGN_OR_RETURN(NpyHeader h, npy_internal::ReadNpyStreamHeader(in, m->size, m->origin, options));
  uint64_t skip = 0;
  auto rows = npy_internal::AllocateRowRange(h, first, count, options, &skip);
  if (!rows.ok()) return rows.status().WithContext(m->origin);
  // Stored members can seek; deflated ones (or a failed seek) decompress and drop the bytes.
  bool seeked = skip == 0 ||
                (m->stored &&
                 zip_fseek(f.get(), static_cast<zip_int64_t>(h.data_offset + skip), SEEK_SET) == 0);
  if (!seeked) {
    std::vector<uint8_t> scratch(std::min<uint64_t>(skip, uint64_t{1} << 16));
    for (uint64_t left = skip; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, scratch.size()));
      Status st = npy_internal::ReadBytes(in, scratch.data(), n, "data");
      if (!st.ok()) return st.WithContext(m->origin);
      left -= n;
    }
  }
  if (rows->nbytes()) {
    Status st = npy_internal::ReadBytes(in, rows->raw(), rows->nbytes(), "data");
    if (!st.ok()) return st.WithContext(m->origin);
  }
  npy_internal::NormalizeBoolValues(&*rows);
  return rows;
}

Status WriteNpz(const std::string& path, const std::vector<NpzEntry>& entries) {
  std::set<std::string> names;
  std::vector<std::string> members;
  members.reserve(entries.size());
  for (const NpzEntry& e : entries) {
    if (e.name.empty()) return InvalidArgument(path + ": an array has an empty name");
    if (!names.insert(e.name).second)
      return InvalidArgument(path + ": two arrays are named '" + e.name + "'");
    auto bytes = EncodeNpy(e.tensor);
    if (!bytes.ok()) return bytes.status().WithContext(path + " (array '" + e.name + "')");
    members.push_back(std::move(bytes).value());
  }
  if (entries.empty()) {
    // libzip drops archives without members; np.savez() writes just the end record.
    std::string eocd = {'P', 'K', 5, 6};
    eocd.append(18, '\0');
    return WriteFileAtomic(path, eocd);
  }

  // Build the archive in memory, then write it like any other file.
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) {
    Status st = Internal(path + ": libzip: " + zip_error_strerror(&error));
    zip_error_fini(&error);
    return st;
  }
  zip_source_keep(buffer);
  std::unique_ptr<zip_source_t, void (*)(zip_source_t*)> keep(buffer, zip_source_free);
  ZipArchive za(zip_open_from_source(buffer, ZIP_TRUNCATE, &error));
  if (!za) {
    zip_source_free(buffer);  // the reference zip_open_from_source did not take
    Status st = Internal(path + ": libzip: " + zip_error_strerror(&error));
    zip_error_fini(&error);
    return st;
  }
  zip_error_fini(&error);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string member = entries[i].name + ".npy";
    zip_source_t* src = zip_source_buffer(za.get(), members[i].data(), members[i].size(), 0);
    if (!src) return Internal(path + ": libzip: " + zip_strerror(za.get()));
    zip_int64_t idx = zip_file_add(za.get(), member.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      return InvalidArgument(path + " (array '" + entries[i].name +
                             "'): " + zip_strerror(za.get()));
    }
    auto u = static_cast<zip_uint64_t>(idx);
    if (zip_set_file_compression(za.get(), u, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_mtime(za.get(), u, kFixedMtime, 0) != 0)
      return Internal(path + ": libzip: " + zip_strerror(za.get()));
  }
  if (zip_close(za.get()) != 0) return Internal(path + ": libzip: " + zip_strerror(za.get()));
  za.release();  // closed

  if (zip_source_open(buffer) != 0 || zip_source_seek(buffer, 0, SEEK_END) != 0)
    return Internal(path + ": libzip: cannot read the archive back");
  zip_int64_t size = zip_source_tell(buffer);
  if (size < 0 || zip_source_seek(buffer, 0, SEEK_SET) != 0) {
    zip_source_close(buffer);
    return Internal(path + ": libzip: cannot read the archive back");
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  zip_int64_t got = zip_source_read(buffer, bytes.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(buffer);
  if (got != size) return Internal(path + ": libzip: cannot read the archive back");
  return WriteFileAtomic(path, bytes);
}

}  // namespace edgefit
