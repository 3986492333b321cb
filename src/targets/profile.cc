// Loads target profiles (schema "edgefit-target/1") and checks them strictly: a profile is
// untrusted input, so every field is type-checked, unknown fields are errors, and each error
// names the file and the full path of the field ("ops.Conv.conditions[0].atr: unknown field").
#include "targets/profile.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "targets/builtin_targets.h"

namespace edgefit {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSchema = "edgefit-target/1";
constexpr std::size_t kMaxProfileBytes = 4 << 20;
constexpr int kMaxJsonDepth = 64;
constexpr int kMaxExtendsDepth = 8;
constexpr int kMaxAnyOfDepth = 4;
constexpr std::string_view kBuiltinPrefix = "builtin:";

// ---------------------------------------------------------------------------------------------
// Names of enum values as written in the JSON.

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<FactStatus> kFactStatusNames[] = {
    {"documented", FactStatus::kDocumented},
    {"user_reported", FactStatus::kUserReported},
    {"assumed", FactStatus::kAssumed},
};
constexpr EnumName<Placement> kPlacementNames[] = {
    {"npu", Placement::kNpu},
    {"cpu", Placement::kCpu},
    {"unsupported", Placement::kUnsupported},
};
// What a failed condition can lead to: never "npu".
constexpr EnumName<Placement> kFallbackNames[] = {
    {"cpu", Placement::kCpu},
    {"unsupported", Placement::kUnsupported},
};
constexpr EnumName<HandoffModel> kHandoffModelNames[] = {
    {"qdq_int8", HandoffModel::kQdqInt8},
    {"float", HandoffModel::kFloat},
};
constexpr EnumName<AxesForm> kAxesFormNames[] = {
    {"any", AxesForm::kAny},
    {"constant", AxesForm::kConstant},
    {"attribute", AxesForm::kAttribute},
};
constexpr EnumName<RuleLevel> kRuleLevelNames[] = {
    {"allow", RuleLevel::kAllow},
    {"warn", RuleLevel::kWarn},
    {"error", RuleLevel::kError},
};
constexpr EnumName<QuantFormat> kQuantFormatNames[] = {
    {"qdq", QuantFormat::kQdq},
    {"vendor", QuantFormat::kVendor},
};
constexpr EnumName<QuantGranularity> kGranularityNames[] = {
    {"per_tensor", QuantGranularity::kPerTensor},
    {"per_channel", QuantGranularity::kPerChannel},
};
constexpr EnumName<MemoryKind> kMemoryKindNames[] = {
    {"npu_ram", MemoryKind::kNpuRam},
    {"sram", MemoryKind::kSram},
    {"external_ram", MemoryKind::kExternalRam},
    {"flash", MemoryKind::kFlash},
};
constexpr EnumName<MemoryUse> kMemoryUseNames[] = {
    {"activations", MemoryUse::kActivations},
    {"weights", MemoryUse::kWeights},
    {"any", MemoryUse::kAny},
    {"reserved", MemoryUse::kReserved},
};
constexpr EnumName<StepKind> kStepKindNames[] = {
    {"shell", StepKind::kShell},
    {"python", StepKind::kPython},
};

// ONNX element types a profile may name (TensorProto names, lower case, with bit width).
constexpr std::string_view kDtypeNames[] = {
    "float32", "float16", "bfloat16", "float64", "int4",  "uint4",  "int8", "uint8",
    "int16",   "uint16",  "int32",    "uint32",  "int64", "uint64", "bool",
};
// Element types a quantized tensor may have.
constexpr std::string_view kQuantDtypeNames[] = {"int4", "uint4", "int8", "uint8", "int16"};
// Placeholders a hand-off command may contain.
constexpr std::string_view kPlaceholders[] = {"model", "out", "calib", "input", "platform"};
constexpr std::string_view kControlFlowOps[] = {"If", "Loop", "Scan"};

template <typename Range>
std::string JoinNames(const Range& names, std::string_view separator = ", ") {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += separator;
    out += name;
  }
  return out;
}

template <typename E, std::size_t N>
std::string EnumChoices(const EnumName<E> (&table)[N]) {
  std::vector<std::string_view> names;
  for (const auto& entry : table) names.push_back(entry.name);
  return JoinNames(names);
}

template <typename Range>
bool Contains(const Range& range, std::string_view value) {
  return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

bool IsProfileId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}

// ONNX op_type: an identifier starting with a letter.
bool IsOpType(std::string_view op) {
  if (op.empty() || op.size() > 128) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(op[0])) return false;
  for (char c : op) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '_') return false;
  }
  return true;
}

bool LooksLikePath(std::string_view name) {
  return name.find('/') != std::string_view::npos ||
         (name.size() >= 5 && name.substr(name.size() - 5) == ".json");
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Levenshtein distance, for "did you mean" hints on misspelled field names.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string Index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// ---------------------------------------------------------------------------------------------
// JSON text -> nlohmann::json, with line/column on syntax errors, duplicate keys rejected and a
// nesting limit (nlohmann keeps the last of duplicate keys silently).

class JsonScanner {
 public:
  bool OnEvent(int depth, Json::parse_event_t event, const Json& parsed) {
    if (!error_.empty()) return false;
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth > kMaxJsonDepth) {
          error_ = "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
          return false;
        }
        stack_.push_back(Level{event == Json::parse_event_t::array_start, "", 0, {}});
        return true;
      case Json::parse_event_t::key: {
        if (stack_.empty()) return true;
        std::string key = parsed.is_string() ? parsed.get<std::string>() : std::string();
        if (!stack_.back().keys.insert(key).second) {
          error_ = Join(ContainerPath(), key) + ": duplicate key";
          return false;
        }
        stack_.back().key = key;
        return true;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!stack_.empty()) stack_.pop_back();
        ElementDone();
        return true;
      case Json::parse_event_t::value: ElementDone(); return true;
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  struct Level {
    bool is_array;
    std::string key;    // current key, for objects
    std::size_t index;  // current element, for arrays
    std::set<std::string> keys;
  };

  void ElementDone() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
  }

  // Path of the innermost open container.
  std::string ContainerPath() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      path = stack_[i].is_array ? Index(path, stack_[i].index) : Join(path, stack_[i].key);
    }
    return path;
  }

  std::vector<Level> stack_;
  std::string error_;
};

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 2:
// syntax error ..."; keep the part after the position, we print the position ourselves.
std::string ParseErrorReason(const std::string& what) {
  std::size_t column = what.find("column ");
  if (column != std::string::npos) {
    std::size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  std::size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

StatusOr<Json> ParseJson(const std::string& text, const std::string& origin) {
  if (text.size() > kMaxProfileBytes) {
    return InvalidProfile(origin + ": larger than " + std::to_string(kMaxProfileBytes) +
                          " bytes; not a target profile");
  }
  JsonScanner scanner;
  Json::parser_callback_t callback = [&scanner](int depth, Json::parse_event_t event,
                                                Json& parsed) {
    return scanner.OnEvent(depth, event, parsed);
  };
  try {
    Json json = Json::parse(text, callback);
    if (!scanner.error().empty()) return InvalidProfile(origin + ": " + scanner.error());
    return json;
  } catch (const Json::parse_error& e) {
    // e.byte counts the characters read, so the offending one is at index e.byte - 1.
    std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    std::size_t line = 1;
    for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
    std::size_t line_start = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
    std::size_t column = line_start == std::string::npos ? at + 1 : at - line_start;
    return InvalidProfile(origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                          ": invalid JSON: " + ParseErrorReason(e.what()));
  } catch (const std::exception& e) {
    return InvalidProfile(origin + ": invalid JSON: " + ParseErrorReason(e.what()));
  }
}

// ---------------------------------------------------------------------------------------------
// JSON -> TargetProfile. Every Read* function checks one JSON value at `path`.

class ProfileReader {
 public:
  explicit ProfileReader(std::string origin) : origin_(std::move(origin)) {}

  Status Read(const Json& root, TargetProfile* out);

 private:
  Status Error(const std::string& path, const std::string& message) const {
    return InvalidProfile(origin_ + ": " + (path.empty() ? "" : path + ": ") + message);
  }

  Status TypeError(const Json& j, const std::string& path, std::string_view expected) const {
    return Error(path, "expected " + std::string(expected) + ", got " + j.type_name());
  }

  Status ExpectObject(const Json& j, const std::string& path) const {
    return j.is_object() ? Status::Ok() : TypeError(j, path, "an object");
  }

  Status ExpectArray(const Json& j, const std::string& path) const {
    return j.is_array() ? Status::Ok() : TypeError(j, path, "a list");
  }

  // Every key of `object` must be in `allowed`.
  Status CheckFields(const Json& object, const std::string& path,
                     std::initializer_list<std::string_view> allowed) const {
    for (const auto& item : object.items()) {
      if (Contains(allowed, item.key())) continue;
      // Suggest the closest allowed field if the key looks like a typo of it.
      std::size_t best = std::min<std::size_t>(2, std::max<std::size_t>(1, item.key().size() / 3));
      std::string_view suggestion;
      for (std::string_view field : allowed) {
        std::size_t distance = EditDistance(item.key(), field);
        if (distance <= best) {
          best = distance;
          suggestion = field;
        }
      }
      std::string message = "unknown field";
      if (!suggestion.empty()) message += " (did you mean " + Quoted(suggestion) + "?)";
      return Error(Join(path, item.key()), message);
    }
    return Status::Ok();
  }

  // The member `key` of `object`, or nullptr if it is absent and optional.
  StatusOr<const Json*> Field(const Json& object, const std::string& path, std::string_view key,
                              bool required) const {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) return Error(Join(path, key), "missing required field");
      return static_cast<const Json*>(nullptr);
    }
    return &*it;
  }

  Status ReadString(const Json& j, const std::string& path, std::string* out) const {
    if (!j.is_string()) return TypeError(j, path, "a string");
    *out = j.get<std::string>();
    if (out->empty()) return Error(path, "must not be empty");
    return Status::Ok();
  }

  Status ReadBool(const Json& j, const std::string& path, bool* out) const {
    if (!j.is_boolean()) return TypeError(j, path, "true or false");
    *out = j.get<bool>();
    return Status::Ok();
  }

  template <typename I>
  Status ReadInteger(const Json& j, const std::string& path, int64_t lo, int64_t hi, I* out) const {
    if (!j.is_number_integer()) return TypeError(j, path, "an integer");
    if (j.is_number_unsigned() &&
        j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Error(path, "integer too large");
    }
    int64_t value = j.get<int64_t>();
    if (value < lo || value > hi) {
      return Error(path, std::to_string(value) + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    }
    *out = static_cast<I>(value);
    return Status::Ok();
  }

  template <typename E, std::size_t N>
  Status ReadEnum(const Json& j, const std::string& path, const EnumName<E> (&table)[N],
                  E* out) const {
    if (!j.is_string()) return TypeError(j, path, "a string");
    const std::string& name = j.get_ref<const std::string&>();
    for (const auto& entry : table) {
      if (entry.name == name) {
        *out = entry.value;
        return Status::Ok();
      }
    }
    return Error(path,
                 "invalid value " + Quoted(name) + "; expected one of: " + EnumChoices(table));
  }

  Status ReadStringList(const Json& j, const std::string& path, std::vector<std::string>* out,
                        bool (*valid)(std::string_view), std::string_view what) const {
    RETURN_IF_ERROR(ExpectArray(j, path));
    out->clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string s;
      RETURN_IF_ERROR(ReadString(j[i], Index(path, i), &s));
      if (valid != nullptr && !valid(s)) {
        return Error(Index(path, i), Quoted(s) + " is not " + std::string(what));
      }
      out->push_back(std::move(s));
    }
    return Status::Ok();
  }

  Status ReadOpTypeList(const Json& j, const std::string& path,
                        std::vector<std::string>* out) const {
    return ReadStringList(j, path, out, &IsOpType, "an ONNX op type");
  }

  // "status", "source" (required unless `optional`) and "note" of an object.
  Status ReadProvenance(const Json& object, const std::string& path, Provenance* out,
                        bool optional = false) const {
    bool given = object.contains("status") || object.contains("source");
    if (optional && !given && !object.contains("note")) return Status::Ok();
    ASSIGN_OR_RETURN(const Json* status, Field(object, path, "status", true));
    RETURN_IF_ERROR(ReadEnum(*status, Join(path, "status"), kFactStatusNames, &out->status));
    ASSIGN_OR_RETURN(const Json* source, Field(object, path, "source", true));
    RETURN_IF_ERROR(ReadString(*source, Join(path, "source"), &out->source));
    ASSIGN_OR_RETURN(const Json* note, Field(object, path, "note", false));
    if (note != nullptr) RETURN_IF_ERROR(ReadString(*note, Join(path, "note"), &out->note));
    return Status::Ok();
  }

  // A fact {"value": ..., "status": ..., "source": ..., "note"?: ...} at parent[key];
  // `read_value(json, path, T*)` checks the value.
  template <typename T, typename ReadValue>
  Status ReadFact(const Json& parent, const std::string& parent_path, std::string_view key,
                  ReadValue read_value, Fact<T>* out) const {
    ASSIGN_OR_RETURN(const Json* j, Field(parent, parent_path, key, true));
    std::string path = Join(parent_path, key);
    RETURN_IF_ERROR(ExpectObject(*j, path));
    RETURN_IF_ERROR(CheckFields(*j, path, {"value", "status", "source", "note"}));
    ASSIGN_OR_RETURN(const Json* value, Field(*j, path, "value", true));
    RETURN_IF_ERROR(read_value(*value, Join(path, "value"), &out->value));
    return ReadProvenance(*j, path, out);
  }

  template <typename T, typename ReadValue>
  Status ReadOptionalFact(const Json& parent, const std::string& parent_path, std::string_view key,
                          ReadValue read_value, std::optional<Fact<T>>* out) const {
    out->reset();
    if (!parent.contains(key)) return Status::Ok();
    Fact<T> fact;
    RETURN_IF_ERROR(ReadFact(parent, parent_path, key, read_value, &fact));
    *out = std::move(fact);
    return Status::Ok();
  }

  // Value readers usable with ReadFact.
  auto IntIn(int64_t lo, int64_t hi) const {
    return [this, lo, hi](const Json& j, const std::string& path, auto* out) {
      return ReadInteger(j, path, lo, hi, out);
    };
  }
  auto Bool() const {
    return [this](const Json& j, const std::string& path, bool* out) {
      return ReadBool(j, path, out);
    };
  }
  template <typename E, std::size_t N>
  auto Enum(const EnumName<E> (&table)[N]) const {
    return [this, &table](const Json& j, const std::string& path, E* out) {
      return ReadEnum(j, path, table, out);
    };
  }

  Status ReadDtype(const Json& j, const std::string& path, std::string* out,
                   bool quantized_only) const {
    RETURN_IF_ERROR(ReadString(j, path, out));
    bool known = quantized_only ? Contains(kQuantDtypeNames, *out) : Contains(kDtypeNames, *out);
    if (!known) {
      return Error(path,
                   "unknown element type " + Quoted(*out) + "; expected one of: " +
                       (quantized_only ? JoinNames(kQuantDtypeNames) : JoinNames(kDtypeNames)));
    }
    return Status::Ok();
  }

  Status ReadToolchain(const Json& j, const std::string& path, Toolchain* out) const;
  Status ReadStep(const Json& j, const std::string& path, HandoffStep* out) const;
  Status ReadOpset(const Json& j, const std::string& path, OpsetWindow* out) const;
  Status ReadShapes(const Json& j, const std::string& path, ShapeRules* out) const;
  Status ReadAxes(const Json& j, const std::string& path, AxesRules* out) const;
  Status ReadOps(const Json& j, const std::string& path,
                 std::map<std::string, OpRule, std::less<>>* out) const;
  Status ReadOp(const Json& j, const std::string& path, OpRule* out) const;
  Status ReadCondition(const Json& j, const std::string& path, Placement default_on_fail,
                       const Provenance* enclosing, int depth, OpCondition* out) const;
  Status ReadConditionValue(const Json& j, const std::string& path, ConditionValue* out) const;
  Status ReadNumbers(const Json& j, const std::string& path, std::vector<double>* out) const;
  Status ReadQuantization(const Json& j, const std::string& path, QuantScheme* out) const;
  Status ReadTensorQuant(const Json& j, const std::string& path, TensorQuant* out) const;
  Status ReadMemory(const Json& j, const std::string& path, MemoryBudget* out) const;
  Status ReadPipeline(const Json& j, const std::string& path, std::vector<std::string>* out) const;

  std::string origin_;
};

Status ProfileReader::Read(const Json& root, TargetProfile* out) {
  RETURN_IF_ERROR(ExpectObject(root, ""));
  RETURN_IF_ERROR(CheckFields(
      root, "",
      {"schema", "id", "name", "version", "description", "extends", "toolchain", "opset", "shapes",
       "axes", "ops", "dtypes", "quantization", "control_flow", "memory", "pipeline"}));
  ASSIGN_OR_RETURN(const Json* schema, Field(root, "", "schema", true));
  std::string schema_name;
  RETURN_IF_ERROR(ReadString(*schema, "schema", &schema_name));
  if (schema_name != kSchema) {
    return Error("schema",
                 "unsupported schema " + Quoted(schema_name) + "; expected " + Quoted(kSchema));
  }

  ASSIGN_OR_RETURN(const Json* id, Field(root, "", "id", true));
  RETURN_IF_ERROR(ReadString(*id, "id", &out->id));
  if (!IsProfileId(out->id)) {
    return Error("id",
                 Quoted(out->id) + " is not a profile id (lower-case letters, digits, '-' or '_')");
  }
  ASSIGN_OR_RETURN(const Json* name, Field(root, "", "name", true));
  RETURN_IF_ERROR(ReadString(*name, "name", &out->name));
  ASSIGN_OR_RETURN(const Json* version, Field(root, "", "version", true));
  RETURN_IF_ERROR(ReadInteger(*version, "version", 1, 1000000, &out->version));
  ASSIGN_OR_RETURN(const Json* description, Field(root, "", "description", false));
  if (description != nullptr) {
    RETURN_IF_ERROR(ReadString(*description, "description", &out->description));
  }

  ASSIGN_OR_RETURN(const Json* toolchain, Field(root, "", "toolchain", true));
  RETURN_IF_ERROR(ReadToolchain(*toolchain, "toolchain", &out->toolchain));
  ASSIGN_OR_RETURN(const Json* opset, Field(root, "", "opset", true));
  RETURN_IF_ERROR(ReadOpset(*opset, "opset", &out->opset));
  ASSIGN_OR_RETURN(const Json* shapes, Field(root, "", "shapes", true));
  RETURN_IF_ERROR(ReadShapes(*shapes, "shapes", &out->shapes));
  ASSIGN_OR_RETURN(const Json* axes, Field(root, "", "axes", true));
  RETURN_IF_ERROR(ReadAxes(*axes, "axes", &out->axes));
  ASSIGN_OR_RETURN(const Json* ops, Field(root, "", "ops", true));
  RETURN_IF_ERROR(ReadOps(*ops, "ops", &out->ops));
  auto dtype_list = [this](const Json& j, const std::string& path, std::vector<std::string>* list) {
    RETURN_IF_ERROR(ExpectArray(j, path));
    list->assign(j.size(), "");
    for (std::size_t i = 0; i < j.size(); ++i) {
      RETURN_IF_ERROR(ReadDtype(j[i], Index(path, i), &(*list)[i], /*quantized_only=*/false));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(ReadFact(root, "", "dtypes", dtype_list, &out->dtypes));
  ASSIGN_OR_RETURN(const Json* quantization, Field(root, "", "quantization", true));
  RETURN_IF_ERROR(ReadQuantization(*quantization, "quantization", &out->quantization));
  RETURN_IF_ERROR(ReadFact(root, "", "control_flow", Bool(), &out->control_flow));
  ASSIGN_OR_RETURN(const Json* memory, Field(root, "", "memory", true));
  RETURN_IF_ERROR(ReadMemory(*memory, "memory", &out->memory));
  ASSIGN_OR_RETURN(const Json* pipeline, Field(root, "", "pipeline", true));
  RETURN_IF_ERROR(ReadPipeline(*pipeline, "pipeline", &out->pipeline));

  // Rules that span sections.
  int handoff = out->toolchain.handoff_opset.value;
  if (handoff < out->opset.min.value || handoff > out->opset.max.value) {
    return Error("toolchain.handoff_opset", std::to_string(handoff) +
                                                " is outside the opset window " +
                                                std::to_string(out->opset.min.value) + ".." +
                                                std::to_string(out->opset.max.value));
  }
  if (out->toolchain.input_model.value == HandoffModel::kQdqInt8 &&
      out->quantization.format.value != QuantFormat::kQdq) {
    return Error("quantization.format",
                 "must be \"qdq\" when toolchain.input_model is \"qdq_int8\"");
  }
  if (!out->control_flow.value) {
    for (std::string_view op : kControlFlowOps) {
      const OpRule* rule = out->FindOp(op);
      if (rule != nullptr && rule->runs_on != Placement::kUnsupported) {
        return Error(Join("ops", op), "control_flow is false, but the op runs on " +
                                          std::string(PlacementName(rule->runs_on)));
      }
    }
  }
  return Status::Ok();
}

Status ProfileReader::ReadToolchain(const Json& j, const std::string& path, Toolchain* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(
      j, path, {"name", "platform", "versions", "input_model", "handoff_opset", "steps"}));
  ASSIGN_OR_RETURN(const Json* name, Field(j, path, "name", true));
  RETURN_IF_ERROR(ReadString(*name, Join(path, "name"), &out->name));
  ASSIGN_OR_RETURN(const Json* platform, Field(j, path, "platform", false));
  if (platform != nullptr) {
    RETURN_IF_ERROR(ReadString(*platform, Join(path, "platform"), &out->platform));
  }
  RETURN_IF_ERROR(ReadFact(
      j, path, "versions",
      [this](const Json& v, const std::string& p, std::vector<std::string>* list) {
        return ReadStringList(v, p, list, nullptr, "");
      },
      &out->versions));
  RETURN_IF_ERROR(ReadFact(j, path, "input_model", Enum(kHandoffModelNames), &out->input_model));
  RETURN_IF_ERROR(ReadFact(j, path, "handoff_opset", IntIn(1, 1000), &out->handoff_opset));
  ASSIGN_OR_RETURN(const Json* steps, Field(j, path, "steps", true));
  std::string steps_path = Join(path, "steps");
  RETURN_IF_ERROR(ExpectArray(*steps, steps_path));
  out->steps.assign(steps->size(), HandoffStep{});
  for (std::size_t i = 0; i < steps->size(); ++i) {
    RETURN_IF_ERROR(ReadStep((*steps)[i], Index(steps_path, i), &out->steps[i]));
  }
  return Status::Ok();
}

Status ProfileReader::ReadStep(const Json& j, const std::string& path, HandoffStep* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"id", "kind", "command", "status", "source", "note"}));
  ASSIGN_OR_RETURN(const Json* id, Field(j, path, "id", true));
  RETURN_IF_ERROR(ReadString(*id, Join(path, "id"), &out->id));
  ASSIGN_OR_RETURN(const Json* kind, Field(j, path, "kind", true));
  RETURN_IF_ERROR(ReadEnum(*kind, Join(path, "kind"), kStepKindNames, &out->kind));
  ASSIGN_OR_RETURN(const Json* command, Field(j, path, "command", true));
  std::string command_path = Join(path, "command");
  RETURN_IF_ERROR(ReadString(*command, command_path, &out->command));
  // Placeholders are {lower_case_word}; anything else in braces (a Python dict) is left alone.
  const std::string& text = out->command;
  for (std::size_t open = text.find('{'); open != std::string::npos;
       open = text.find('{', open + 1)) {
    std::size_t end = open + 1;
    while (end < text.size() && ((text[end] >= 'a' && text[end] <= 'z') || text[end] == '_')) {
      ++end;
    }
    if (end == open + 1 || end >= text.size() || text[end] != '}') continue;
    std::string_view name(text.data() + open + 1, end - open - 1);
    if (!Contains(kPlaceholders, name)) {
      std::vector<std::string> known;
      for (std::string_view p : kPlaceholders) known.push_back("{" + std::string(p) + "}");
      return Error(command_path,
                   "unknown placeholder {" + std::string(name) + "}; known: " + JoinNames(known));
    }
  }
  return ReadProvenance(j, path, &out->provenance);
}

Status ProfileReader::ReadOpset(const Json& j, const std::string& path, OpsetWindow* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"min", "max", "recommended"}));
  RETURN_IF_ERROR(ReadFact(j, path, "min", IntIn(1, 1000), &out->min));
  RETURN_IF_ERROR(ReadFact(j, path, "max", IntIn(1, 1000), &out->max));
  RETURN_IF_ERROR(ReadFact(j, path, "recommended", IntIn(1, 1000), &out->recommended));
  if (out->min.value > out->max.value) {
    return Error(path, "min (" + std::to_string(out->min.value) + ") is greater than max (" +
                           std::to_string(out->max.value) + ")");
  }
  if (out->recommended.value < out->min.value || out->recommended.value > out->max.value) {
    return Error(Join(path, "recommended"),
                 std::to_string(out->recommended.value) + " is outside the window " +
                     std::to_string(out->min.value) + ".." + std::to_string(out->max.value));
  }
  return Status::Ok();
}

Status ProfileReader::ReadShapes(const Json& j, const std::string& path, ShapeRules* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(
      j, path,
      {"static", "max_rank", "preferred_rank", "batch_one_at_io", "batch_one_ops", "max_dim"}));
  RETURN_IF_ERROR(ReadFact(j, path, "static", Bool(), &out->static_shapes));
  RETURN_IF_ERROR(ReadFact(j, path, "max_rank", IntIn(0, 64), &out->max_rank));
  RETURN_IF_ERROR(ReadFact(j, path, "preferred_rank", IntIn(0, 64), &out->preferred_rank));
  if (out->preferred_rank.value > out->max_rank.value) {
    return Error(Join(path, "preferred_rank"), std::to_string(out->preferred_rank.value) +
                                                   " is greater than max_rank (" +
                                                   std::to_string(out->max_rank.value) + ")");
  }
  RETURN_IF_ERROR(ReadFact(j, path, "batch_one_at_io", Bool(), &out->batch_one_at_io));
  RETURN_IF_ERROR(ReadFact(
      j, path, "batch_one_ops",
      [this](const Json& v, const std::string& p, std::vector<std::string>* list) {
        return ReadOpTypeList(v, p, list);
      },
      &out->batch_one_ops));
  return ReadOptionalFact(j, path, "max_dim", IntIn(1, std::numeric_limits<int64_t>::max()),
                          &out->max_dim);
}

Status ProfileReader::ReadAxes(const Json& j, const std::string& path, AxesRules* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"rules", "reshape_wildcards"}));
  ASSIGN_OR_RETURN(const Json* rules, Field(j, path, "rules", true));
  std::string rules_path = Join(path, "rules");
  RETURN_IF_ERROR(ExpectArray(*rules, rules_path));
  out->rules.assign(rules->size(), AxesRule{});
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const Json& rule = (*rules)[i];
    std::string rule_path = Index(rules_path, i);
    AxesRule& axes_rule = out->rules[i];
    RETURN_IF_ERROR(ExpectObject(rule, rule_path));
    RETURN_IF_ERROR(CheckFields(rule, rule_path, {"ops", "must_be", "status", "source", "note"}));
    ASSIGN_OR_RETURN(const Json* ops, Field(rule, rule_path, "ops", true));
    RETURN_IF_ERROR(ReadOpTypeList(*ops, Join(rule_path, "ops"), &axes_rule.ops));
    ASSIGN_OR_RETURN(const Json* must_be, Field(rule, rule_path, "must_be", true));
    RETURN_IF_ERROR(
        ReadEnum(*must_be, Join(rule_path, "must_be"), kAxesFormNames, &axes_rule.must_be));
    RETURN_IF_ERROR(ReadProvenance(rule, rule_path, &axes_rule.provenance));
  }
  return ReadFact(j, path, "reshape_wildcards", Enum(kRuleLevelNames), &out->reshape_wildcards);
}

Status ProfileReader::ReadOps(const Json& j, const std::string& path,
                              std::map<std::string, OpRule, std::less<>>* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  out->clear();
  for (const auto& item : j.items()) {
    std::string op_path = Join(path, item.key());
    if (!IsOpType(item.key())) return Error(op_path, "not an ONNX op type");
    OpRule rule;
    rule.op_type = item.key();
    RETURN_IF_ERROR(ReadOp(item.value(), op_path, &rule));
    out->emplace(item.key(), std::move(rule));
  }
  return Status::Ok();
}

Status ProfileReader::ReadOp(const Json& j, const std::string& path, OpRule* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(
      CheckFields(j, path, {"runs_on", "on_fail", "conditions", "status", "source", "note"}));
  ASSIGN_OR_RETURN(const Json* runs_on, Field(j, path, "runs_on", true));
  RETURN_IF_ERROR(ReadEnum(*runs_on, Join(path, "runs_on"), kPlacementNames, &out->runs_on));
  RETURN_IF_ERROR(ReadProvenance(j, path, &out->provenance));
  Placement on_fail = Placement::kUnsupported;
  ASSIGN_OR_RETURN(const Json* on_fail_json, Field(j, path, "on_fail", false));
  if (on_fail_json != nullptr) {
    RETURN_IF_ERROR(ReadEnum(*on_fail_json, Join(path, "on_fail"), kFallbackNames, &on_fail));
  }
  ASSIGN_OR_RETURN(const Json* conditions, Field(j, path, "conditions", false));
  if (conditions == nullptr) return Status::Ok();
  std::string conditions_path = Join(path, "conditions");
  RETURN_IF_ERROR(ExpectArray(*conditions, conditions_path));
  if (out->runs_on == Placement::kUnsupported && !conditions->empty()) {
    return Error(conditions_path, "an unsupported op has no conditions");
  }
  out->conditions.assign(conditions->size(), OpCondition{});
  for (std::size_t i = 0; i < conditions->size(); ++i) {
    RETURN_IF_ERROR(ReadCondition((*conditions)[i], Index(conditions_path, i), on_fail,
                                  /*enclosing=*/nullptr, 0, &out->conditions[i]));
  }
  return Status::Ok();
}

Status ProfileReader::ReadNumbers(const Json& j, const std::string& path,
                                  std::vector<double>* out) const {
  out->clear();
  if (j.is_number()) {
    out->push_back(j.get<double>());
    return Status::Ok();
  }
  if (!j.is_array() || j.empty()) return TypeError(j, path, "a number or a list of numbers");
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number()) return TypeError(j[i], Index(path, i), "a number");
    out->push_back(j[i].get<double>());
  }
  return Status::Ok();
}

Status ProfileReader::ReadConditionValue(const Json& j, const std::string& path,
                                         ConditionValue* out) const {
  if (j.is_string()) {
    *out = j.get<std::string>();
    return Status::Ok();
  }
  if (j.is_number() || j.is_array()) {
    std::vector<double> numbers;
    if (!ReadNumbers(j, path, &numbers).ok()) {
      return TypeError(j, path, "a string, a number or a list of numbers");
    }
    *out = std::move(numbers);
    return Status::Ok();
  }
  return TypeError(j, path, "a string, a number or a list of numbers");
}

Status ProfileReader::ReadCondition(const Json& j, const std::string& path,
                                    Placement default_on_fail, const Provenance* enclosing,
                                    int depth, OpCondition* out) const {
  static constexpr std::string_view kSubjects[] = {
      "attr", "input", "touches_batch", "spatial_size_max", "any_of", "manual"};
  static constexpr std::string_view kValueTests[] = {"present", "equals", "in",
                                                     "not_in",  "min",    "max"};
  static constexpr std::string_view kTensorTests[] = {"constant", "rank_min", "rank_max",
                                                      "elements_max"};
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"attr",     "input",    "touches_batch", "spatial_size_max",
                                        "any_of",   "manual",   "present",       "equals",
                                        "in",       "not_in",   "min",           "max",
                                        "constant", "rank_min", "rank_max",      "elements_max",
                                        "on_fail",  "status",   "source",        "note"}));

  std::vector<std::string_view> subjects;
  for (std::string_view s : kSubjects) {
    if (j.contains(s)) subjects.push_back(s);
  }
  if (subjects.empty()) {
    return Error(path, "a condition needs one of: " + JoinNames(kSubjects));
  }
  if (subjects.size() > 1) {
    return Error(path, "a condition has one subject; found " + Quoted(subjects[0]) + " and " +
                           Quoted(subjects[1]));
  }
  std::string_view subject = subjects[0];
  bool is_attr = subject == "attr";
  bool is_input = subject == "input";

  // Which tests the subject allows.
  bool has_test = false;
  for (std::string_view test : kValueTests) {
    if (!j.contains(test)) continue;
    if (!is_attr && !is_input) {
      return Error(Join(path, test), "only allowed with \"attr\" or \"input\"");
    }
    has_test = true;
  }
  for (std::string_view test : kTensorTests) {
    if (!j.contains(test)) continue;
    if (!is_input) return Error(Join(path, test), "only allowed with \"input\"");
    has_test = true;
  }
  if ((is_attr || is_input) && !has_test) {
    std::vector<std::string_view> tests(std::begin(kValueTests), std::end(kValueTests));
    if (is_input) tests.insert(tests.end(), std::begin(kTensorTests), std::end(kTensorTests));
    return Error(path, "no test given; add one of: " + JoinNames(tests));
  }

  std::string subject_path = Join(path, subject);
  const Json& subject_value = j.at(subject);
  if (is_attr) {
    out->subject = OpCondition::Subject::kAttribute;
    RETURN_IF_ERROR(ReadString(subject_value, subject_path, &out->attr));
  } else if (is_input) {
    out->subject = OpCondition::Subject::kInput;
    RETURN_IF_ERROR(ReadInteger(subject_value, subject_path, 0, 1000, &out->input));
  } else if (subject == "touches_batch") {
    out->subject = OpCondition::Subject::kTouchesBatch;
    bool touches = true;
    RETURN_IF_ERROR(ReadBool(subject_value, subject_path, &touches));
    if (touches) return Error(subject_path, "only false is meaningful");
  } else if (subject == "spatial_size_max") {
    out->subject = OpCondition::Subject::kSpatialSizeMax;
    RETURN_IF_ERROR(ReadInteger(subject_value, subject_path, 1, std::numeric_limits<int64_t>::max(),
                                &out->spatial_size_max));
  } else if (subject == "manual") {
    out->subject = OpCondition::Subject::kManual;
    RETURN_IF_ERROR(ReadString(subject_value, subject_path, &out->manual));
  } else {
    out->subject = OpCondition::Subject::kAnyOf;
  }

  if (j.contains("present"))
    RETURN_IF_ERROR(ReadBool(j.at("present"), Join(path, "present"), &out->present.emplace()));
  if (j.contains("equals")) {
    RETURN_IF_ERROR(
        ReadConditionValue(j.at("equals"), Join(path, "equals"), &out->equals.emplace()));
  }
  for (std::string_view key : {std::string_view("in"), std::string_view("not_in")}) {
    if (!j.contains(key)) continue;
    std::string list_path = Join(path, key);
    const Json& list = j.at(key);
    if (!list.is_array() || list.empty()) return TypeError(list, list_path, "a non-empty list");
    std::vector<ConditionValue>& values = key == "in" ? out->in : out->not_in;
    values.assign(list.size(), ConditionValue{});
    for (std::size_t i = 0; i < list.size(); ++i) {
      RETURN_IF_ERROR(ReadConditionValue(list[i], Index(list_path, i), &values[i]));
    }
  }
  if (j.contains("min")) RETURN_IF_ERROR(ReadNumbers(j.at("min"), Join(path, "min"), &out->min));
  if (j.contains("max")) RETURN_IF_ERROR(ReadNumbers(j.at("max"), Join(path, "max"), &out->max));
  if (j.contains("constant")) {
    RETURN_IF_ERROR(ReadBool(j.at("constant"), Join(path, "constant"), &out->constant.emplace()));
  }
  if (j.contains("rank_min")) {
    RETURN_IF_ERROR(
        ReadInteger(j.at("rank_min"), Join(path, "rank_min"), 0, 64, &out->rank_min.emplace()));
  }
  if (j.contains("rank_max")) {
    RETURN_IF_ERROR(
        ReadInteger(j.at("rank_max"), Join(path, "rank_max"), 0, 64, &out->rank_max.emplace()));
  }
  if (out->rank_min && out->rank_max && *out->rank_min > *out->rank_max) {
    return Error(path, "rank_min is greater than rank_max");
  }
  if (j.contains("elements_max")) {
    RETURN_IF_ERROR(ReadInteger(j.at("elements_max"), Join(path, "elements_max"), 0,
                                std::numeric_limits<int64_t>::max(), &out->elements_max.emplace()));
  }

  // Provenance and consequence. Nested conditions share the enclosing any_of's.
  if (enclosing == nullptr) {
    RETURN_IF_ERROR(ReadProvenance(j, path, &out->provenance));
    out->on_fail = default_on_fail;
    if (j.contains("on_fail")) {
      RETURN_IF_ERROR(
          ReadEnum(j.at("on_fail"), Join(path, "on_fail"), kFallbackNames, &out->on_fail));
    }
  } else {
    if (j.contains("on_fail")) {
      return Error(Join(path, "on_fail"), "set on_fail on the enclosing any_of instead");
    }
    out->provenance = *enclosing;
    RETURN_IF_ERROR(ReadProvenance(j, path, &out->provenance, /*optional=*/true));
    out->on_fail = default_on_fail;
  }

  if (out->subject == OpCondition::Subject::kAnyOf) {
    if (depth >= kMaxAnyOfDepth) {
      return Error(subject_path, "any_of nested deeper than " + std::to_string(kMaxAnyOfDepth));
    }
    if (!subject_value.is_array() || subject_value.empty()) {
      return TypeError(subject_value, subject_path, "a non-empty list of condition lists");
    }
    out->any_of.assign(subject_value.size(), {});
    for (std::size_t g = 0; g < subject_value.size(); ++g) {
      const Json& group = subject_value[g];
      std::string group_path = Index(subject_path, g);
      if (!group.is_array() || group.empty()) {
        return TypeError(group, group_path, "a non-empty list of conditions");
      }
      out->any_of[g].assign(group.size(), OpCondition{});
      for (std::size_t c = 0; c < group.size(); ++c) {
        RETURN_IF_ERROR(ReadCondition(group[c], Index(group_path, c), out->on_fail,
                                      &out->provenance, depth + 1, &out->any_of[g][c]));
      }
    }
  }
  return Status::Ok();
}

Status ProfileReader::ReadTensorQuant(const Json& j, const std::string& path,
                                      TensorQuant* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"dtype", "symmetric", "granularity", "channel_axis"}));
  ASSIGN_OR_RETURN(const Json* dtype, Field(j, path, "dtype", true));
  RETURN_IF_ERROR(ReadDtype(*dtype, Join(path, "dtype"), &out->dtype, /*quantized_only=*/true));
  ASSIGN_OR_RETURN(const Json* symmetric, Field(j, path, "symmetric", true));
  RETURN_IF_ERROR(ReadBool(*symmetric, Join(path, "symmetric"), &out->symmetric));
  ASSIGN_OR_RETURN(const Json* granularity, Field(j, path, "granularity", true));
  RETURN_IF_ERROR(
      ReadEnum(*granularity, Join(path, "granularity"), kGranularityNames, &out->granularity));
  ASSIGN_OR_RETURN(const Json* axis, Field(j, path, "channel_axis", false));
  if (out->granularity == QuantGranularity::kPerChannel) {
    if (axis == nullptr) {
      return Error(Join(path, "channel_axis"), "missing required field (per_channel)");
    }
    RETURN_IF_ERROR(ReadString(*axis, Join(path, "channel_axis"), &out->channel_axis));
    if (out->channel_axis != "output_channel") {
      return Error(Join(path, "channel_axis"), "invalid value " + Quoted(out->channel_axis) +
                                                   "; expected one of: output_channel");
    }
  } else if (axis != nullptr) {
    return Error(Join(path, "channel_axis"), "only allowed with per_channel granularity");
  }
  return Status::Ok();
}

Status ProfileReader::ReadQuantization(const Json& j, const std::string& path,
                                       QuantScheme* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path,
                              {"format", "weights", "activations", "bias", "per_tensor_weights",
                               "float_ops_run_on", "calibration_samples_min"}));
  RETURN_IF_ERROR(ReadFact(j, path, "format", Enum(kQuantFormatNames), &out->format));
  auto tensor_quant = [this](const Json& v, const std::string& p, TensorQuant* q) {
    return ReadTensorQuant(v, p, q);
  };
  RETURN_IF_ERROR(ReadFact(j, path, "weights", tensor_quant, &out->weights));
  RETURN_IF_ERROR(ReadFact(j, path, "activations", tensor_quant, &out->activations));
  RETURN_IF_ERROR(ReadFact(
      j, path, "bias",
      [this](const Json& v, const std::string& p, std::string* dtype) {
        return ReadDtype(v, p, dtype, /*quantized_only=*/false);
      },
      &out->bias_dtype));
  RETURN_IF_ERROR(
      ReadFact(j, path, "per_tensor_weights", Bool(), &out->per_tensor_weights_allowed));
  RETURN_IF_ERROR(
      ReadFact(j, path, "float_ops_run_on", Enum(kPlacementNames), &out->float_ops_run_on));
  return ReadOptionalFact(j, path, "calibration_samples_min", IntIn(1, 1000000000),
                          &out->calibration_samples_min);
}

Status ProfileReader::ReadMemory(const Json& j, const std::string& path, MemoryBudget* out) const {
  RETURN_IF_ERROR(ExpectObject(j, path));
  RETURN_IF_ERROR(CheckFields(j, path, {"regions", "on_chip_total_bytes"}));
  ASSIGN_OR_RETURN(const Json* regions, Field(j, path, "regions", true));
  std::string regions_path = Join(path, "regions");
  RETURN_IF_ERROR(ExpectArray(*regions, regions_path));
  out->regions.assign(regions->size(), MemoryRegion{});
  for (std::size_t i = 0; i < regions->size(); ++i) {
    const Json& r = (*regions)[i];
    std::string p = Index(regions_path, i);
    MemoryRegion& region = out->regions[i];
    RETURN_IF_ERROR(ExpectObject(r, p));
    RETURN_IF_ERROR(
        CheckFields(r, p, {"name", "kind", "bytes", "address", "use", "status", "source", "note"}));
    ASSIGN_OR_RETURN(const Json* name, Field(r, p, "name", true));
    RETURN_IF_ERROR(ReadString(*name, Join(p, "name"), &region.name));
    ASSIGN_OR_RETURN(const Json* kind, Field(r, p, "kind", true));
    RETURN_IF_ERROR(ReadEnum(*kind, Join(p, "kind"), kMemoryKindNames, &region.kind));
    ASSIGN_OR_RETURN(const Json* bytes, Field(r, p, "bytes", true));
    RETURN_IF_ERROR(ReadInteger(*bytes, Join(p, "bytes"), 0, std::numeric_limits<int64_t>::max(),
                                &region.bytes));
    ASSIGN_OR_RETURN(const Json* address, Field(r, p, "address", false));
    if (address != nullptr)
      RETURN_IF_ERROR(ReadString(*address, Join(p, "address"), &region.address));
    ASSIGN_OR_RETURN(const Json* use, Field(r, p, "use", true));
    RETURN_IF_ERROR(ReadEnum(*use, Join(p, "use"), kMemoryUseNames, &region.use));
    RETURN_IF_ERROR(ReadProvenance(r, p, &region.provenance));
  }
  return ReadOptionalFact(j, path, "on_chip_total_bytes",
                          IntIn(1, std::numeric_limits<int64_t>::max()), &out->on_chip_total_bytes);
}

Status ProfileReader::ReadPipeline(const Json& j, const std::string& path,
                                   std::vector<std::string>* out) const {
  RETURN_IF_ERROR(ReadStringList(j, path, out, nullptr, ""));
  for (std::size_t i = 0; i < out->size(); ++i) {
    if (!Contains(KnownFixPassIds(), (*out)[i])) {
      return Error(Index(path, i), "unknown pass " + Quoted((*out)[i]) +
                                       "; known passes: " + JoinNames(KnownFixPassIds()));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// "extends": the child's JSON is laid over its parent's before validation.

// Objects merge key by key, except facts (objects with a "value" or "status") and entries of
// "ops", which are replaced whole so a child never mixes its value with the parent's source.
// Lists and scalars are replaced; null removes the key. `path` is the path of `base` ("" for the
// root).
void MergeObject(Json* base, const Json& patch, const std::string& path) {
  for (const auto& item : patch.items()) {
    const Json& value = item.value();
    if (value.is_null()) {
      base->erase(item.key());
      continue;
    }
    auto it = base->find(item.key());
    bool is_fact = value.contains("value") || value.contains("status");
    bool merge =
        value.is_object() && !is_fact && path != "ops" && it != base->end() && it->is_object();
    if (merge) {
      MergeObject(&*it, value, Join(path, item.key()));
    } else {
      (*base)[item.key()] = value;
    }
  }
}

struct Resolved {
  Json json;            // merged, without "extends"
  std::string extends;  // as written, or ""
};

std::string_view FindBuiltinText(std::string_view id) {
  BuiltinTargetTable table = BuiltinTargetTexts();
  for (std::size_t i = 0; i < table.size; ++i) {
    if (table.entries[i].id == id) return table.entries[i].json;
  }
  return {};
}

std::string UnknownTargetMessage(std::string_view id) {
  return "unknown target " + Quoted(id) + "; built-in targets: " + JoinNames(BuiltinTargetIds()) +
         " (or give a profile file, e.g. path/to/my_npu.json)";
}

// A key identifying a profile source, for cycle detection.
std::string SourceKey(const std::string& origin) {
  if (origin.rfind(kBuiltinPrefix, 0) == 0) return origin;
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(origin, ec);
  return "file:" + (ec ? origin : canonical.string());
}

StatusOr<std::string> ReadProfileFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return NotFound("target profile file not found: " + path);
  }
  if (!std::filesystem::is_regular_file(status)) {
    return IoError("target profile is not a regular file: " + path);
  }
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return IoError("cannot read target profile " + path + ": " + ec.message());
  if (size > kMaxProfileBytes) {
    return InvalidProfile(path + ": larger than " + std::to_string(kMaxProfileBytes) +
                          " bytes; not a target profile");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open target profile " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("error while reading target profile " + path);
  return text.str();
}

class Resolver {
 public:
  // Parses `text` and lays it over its parent, if any. `chain` holds the sources being
  // resolved, outermost first.
  StatusOr<Resolved> Resolve(const std::string& text, const std::string& origin) {
    if (chain_.size() > static_cast<std::size_t>(kMaxExtendsDepth)) {
      return InvalidProfile(origin + ": extends: more than " + std::to_string(kMaxExtendsDepth) +
                            " levels of extends");
    }
    chain_.push_back({SourceKey(origin), origin});
    StatusOr<Resolved> result = ResolveInner(text, origin);
    chain_.pop_back();
    return result;
  }

 private:
  struct Link {
    std::string key;
    std::string origin;
  };

  StatusOr<Resolved> ResolveInner(const std::string& text, const std::string& origin) {
    ASSIGN_OR_RETURN(Json json, ParseJson(text, origin));
    if (!json.is_object()) {
      return InvalidProfile(origin + ": a target profile is a JSON object, got " +
                            json.type_name());
    }
    Resolved resolved;
    auto extends_it = json.find("extends");
    if (extends_it == json.end()) {
      resolved.json = std::move(json);
      return resolved;
    }
    if (!extends_it->is_string()) {
      return InvalidProfile(origin + ": extends: expected a string, got " +
                            extends_it->type_name());
    }
    resolved.extends = extends_it->get<std::string>();
    json.erase("extends");
    if (resolved.extends.empty()) {
      return InvalidProfile(origin + ": extends: must name a profile id or path");
    }

    // Find the parent's text.
    std::string parent_origin;
    std::string parent_text;
    bool from_builtin = origin.rfind(kBuiltinPrefix, 0) == 0;
    if (LooksLikePath(resolved.extends)) {
      if (from_builtin) {
        return InvalidProfile(origin +
                              ": extends: a built-in profile may only extend built-in "
                              "ids, not " +
                              Quoted(resolved.extends));
      }
      std::filesystem::path parent_path(resolved.extends);
      if (parent_path.is_relative()) {
        parent_path = std::filesystem::path(origin).parent_path() / parent_path;
      }
      parent_origin = parent_path.lexically_normal().string();
      StatusOr<std::string> read = ReadProfileFile(parent_origin);
      if (!read.ok()) return read.status().WithContext(origin + ": extends");
      parent_text = std::move(read).value();
    } else {
      std::string_view builtin = FindBuiltinText(resolved.extends);
      if (builtin.empty()) {
        return InvalidProfile(origin + ": extends: " + UnknownTargetMessage(resolved.extends));
      }
      parent_origin = std::string(kBuiltinPrefix) + resolved.extends;
      parent_text = std::string(builtin);
    }
    std::string parent_key = SourceKey(parent_origin);
    for (const Link& link : chain_) {
      if (link.key != parent_key) continue;
      std::vector<std::string> cycle;
      for (const Link& l : chain_) cycle.push_back(l.origin);
      cycle.push_back(parent_origin);
      return InvalidProfile(origin + ": extends: cycle: " + JoinNames(cycle, " -> "));
    }

    ASSIGN_OR_RETURN(Resolved parent, Resolve(parent_text, parent_origin));
    // The parent must be a valid profile on its own, so its errors name its own file.
    TargetProfile unused;
    RETURN_IF_ERROR(ProfileReader(parent_origin).Read(parent.json, &unused));

    // Identity fields never come from the parent.
    for (const char* key : {"id", "name", "version", "description"}) parent.json.erase(key);
    MergeObject(&parent.json, json, "");
    resolved.json = std::move(parent.json);
    return resolved;
  }

  std::vector<Link> chain_;
};

}  // namespace

const char* FactStatusName(FactStatus status) {
  for (const auto& entry : kFactStatusNames) {
    if (entry.value == status) return entry.name.data();
  }
  return "unknown";
}

const char* PlacementName(Placement placement) {
  for (const auto& entry : kPlacementNames) {
    if (entry.value == placement) return entry.name.data();
  }
  return "unknown";
}

const OpRule* TargetProfile::FindOp(std::string_view op_type) const {
  auto it = ops.find(op_type);
  return it == ops.end() ? nullptr : &it->second;
}

const std::vector<std::string>& KnownFixPassIds() {
  static const std::vector<std::string> kIds = {
      "fix-dynamic-dims",   "fold-constants", "fix-reshape-shape", "squeeze-to-reshape",
      "axes-to-attribute",  "reduce-rank",    "unbatch",           "fold-batchnorm",
      "eliminate-identity", "fuse-reshapes",  "fuse-transposes",   "eliminate-dead",
      "topo-sort",          "convert-opset",
  };
  return kIds;
}

StatusOr<TargetProfile> ParseTargetProfile(const std::string& json_text,
                                           const std::string& origin) {
  // nlohmann may throw beyond parse errors (e.g. allocation); nothing escapes this function.
  try {
    Resolver resolver;
    ASSIGN_OR_RETURN(Resolved resolved, resolver.Resolve(json_text, origin));
    TargetProfile profile;
    RETURN_IF_ERROR(ProfileReader(origin).Read(resolved.json, &profile));
    profile.extends = resolved.extends;
    profile.origin = origin;
    return profile;
  } catch (const std::exception& e) {
    return InvalidProfile(origin + ": " + e.what());
  }
}

StatusOr<TargetProfile> LoadTargetProfile(const std::string& name_or_path) {
  if (LooksLikePath(name_or_path)) {
    ASSIGN_OR_RETURN(std::string text, ReadProfileFile(name_or_path));
    return ParseTargetProfile(text, name_or_path);
  }
  std::string_view text = FindBuiltinText(name_or_path);
  if (text.empty()) return NotFound(UnknownTargetMessage(name_or_path));
  ASSIGN_OR_RETURN(
      TargetProfile profile,
      ParseTargetProfile(std::string(text), std::string(kBuiltinPrefix) + name_or_path));
  if (profile.id != name_or_path) {
    return Internal("built-in profile " + name_or_path + " has id " + Quoted(profile.id));
  }
  return profile;
}

std::vector<std::string> BuiltinTargetIds() {
  BuiltinTargetTable table = BuiltinTargetTexts();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < table.size; ++i) ids.emplace_back(table.entries[i].id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace edgefit
