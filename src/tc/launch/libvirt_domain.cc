#include "tc/launch/libvirt_domain.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace tc::launch {
namespace {

// libvirt's namespace for QEMU passthrough (formatdomain.html, "QEMU
// command-line passthrough").
constexpr std::string_view kQemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0";

// No network, no libxml2 messages on stderr (errors are read from the
// context), and line numbers above 65535 kept. Deliberately absent:
// XML_PARSE_NOENT and XML_PARSE_DTDLOAD (no entity substitution, no
// external DTD), XML_PARSE_HUGE (libxml2's default depth and size limits
// stay), XML_PARSE_RECOVER.
constexpr int kParseOptions =
    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;

// Longest attribute or text value quoted in an error message.
constexpr std::size_t kMaxQuoted = 200;

struct XmlDocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct XmlParserCtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct XmlCharDeleter {
  void operator()(xmlChar* s) const { xmlFree(s); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;
using XmlParserCtxtPtr = std::unique_ptr<xmlParserCtxt, XmlParserCtxtDeleter>;
using XmlCharPtr = std::unique_ptr<xmlChar, XmlCharDeleter>;

// What the SAX hooks saw during one parse (in xmlParserCtxt::_private).
struct ParseState {
  bool saw_doctype = false;
  long doctype_line = 0;
  bool has_error = false;
  long error_line = 0;
  int error_column = 0;
  std::string error_message;
};

// SAX internalSubset: called at "<!DOCTYPE name ...", before the internal
// subset's declarations are read. Stopping here means no entity is ever
// declared, so no expansion bomb can go off.
void RefuseDoctype(void* ctx, const xmlChar* /*name*/, const xmlChar* /*external_id*/,
                   const xmlChar* /*system_id*/) {
  auto* ctxt = static_cast<xmlParserCtxt*>(ctx);
  if (auto* state = static_cast<ParseState*>(ctxt->_private)) {
    state->saw_doctype = true;
    state->doctype_line = ctxt->input != nullptr ? ctxt->input->line : 0;
  }
  xmlStopParser(ctxt);
}

// Structured error handler of this context only (no global handler is
// touched): keeps the first error, which names the cause; later ones tend
// to be its consequences.
void RecordError(void* ctx, xmlError* error) {
  auto* ctxt = static_cast<xmlParserCtxt*>(ctx);
  auto* state = static_cast<ParseState*>(ctxt->_private);
  if (state == nullptr || error == nullptr || state->has_error ||
      error->level < XML_ERR_ERROR) {
    return;
  }
  state->has_error = true;
  state->error_line = error->line;
  state->error_column = error->int2;
  std::string_view message = error->message != nullptr ? error->message : "parse error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  state->error_message = std::string(message);
}

void InitLibxmlOnce() {
  // xmlInitParser is not safe to race on its first call.
  static const bool initialized = [] {
    xmlInitParser();
    return true;
  }();
  (void)initialized;
}

std::string_view Str(const xmlChar* s) {
  return s != nullptr ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

// 'value' for a message: control bytes escaped, long values cut.
std::string Quote(std::string_view value) {
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMaxQuoted) out += "...";
  return out + "'";
}

std::size_t Line(const xmlNode* n) {
  const long line = xmlGetLineNo(n);
  return line > 0 ? static_cast<std::size_t>(line) : 0;
}

Error At(ErrorCode code, const xmlNode* n, std::string_view what) {
  return Error(code, fmt::format("line {}: {}", Line(n), what));
}

// An element of libvirt's domain schema, which has no namespace.
bool IsDomainElement(const xmlNode* n) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns == nullptr;
}

bool IsDomainElement(const xmlNode* n, std::string_view name) {
  return IsDomainElement(n) && Str(n->name) == name;
}

bool HasChildElements(const xmlNode* n) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return true;
  }
  return false;
}

// The single child element `name` of `parent`: nullptr when there is none,
// an error when there are two (libvirt reads the first; refusing avoids
// measuring a different file from the one QEMU opens).
Result<const xmlNode*> OnlyChild(const xmlNode* parent, std::string_view name) {
  const xmlNode* found = nullptr;
  if (parent == nullptr) return found;
  for (const xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (!IsDomainElement(c, name)) continue;
    if (found != nullptr) {
      return tl::make_unexpected(At(ErrorCode::kInvalidArgument, c,
                                    fmt::format("<{}> has a second <{}> (the first is on line "
                                                "{}); libvirt would ignore one of them",
                                                Str(parent->name), name, Line(found))));
    }
    found = c;
  }
  return found;
}

// The attribute `name` of `n`, matched on its local name whatever its
// namespace (as libvirt's virXMLPropString, i.e. xmlGetProp, does); an
// error if two attributes match. A present but empty attribute is "".
Result<std::optional<std::string>> Attr(const xmlNode* n, std::string_view name) {
  std::optional<std::string> value;
  if (n == nullptr) return value;
  for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
    if (Str(a->name) != name) continue;
    if (value.has_value()) {
      return tl::make_unexpected(At(ErrorCode::kInvalidArgument, n,
                                    fmt::format("<{}> has attribute '{}' twice", Str(n->name),
                                                name)));
    }
    const XmlCharPtr text(xmlNodeListGetString(n->doc, a->children, 1));
    value = std::string(Str(text.get()));
  }
  return value;
}

// The text of an element and its descendants (libvirt reads paths and the
// command line with virXMLNodeContentString, i.e. xmlNodeGetContent).
std::string Text(const xmlNode* n) {
  const XmlCharPtr text(xmlNodeGetContent(n));
  return std::string(Str(text.get()));
}

// A path QEMU will open: non-empty, absolute, no NUL.
Result<void> CheckPath(const xmlNode* n, std::string_view what, std::string_view path) {
  if (path.empty()) {
    return tl::make_unexpected(
        At(ErrorCode::kInvalidArgument, n, fmt::format("{} has an empty path", what)));
  }
  if (path.find('\0') != std::string_view::npos) {
    return tl::make_unexpected(At(ErrorCode::kInvalidArgument, n,
                                  fmt::format("{} path {} holds a NUL", what, Quote(path))));
  }
  if (path.front() != '/') {
    return tl::make_unexpected(At(ErrorCode::kInvalidArgument, n,
                                  fmt::format("{} path {} is not absolute", what, Quote(path))));
  }
  return {};
}

// "yes" / "no" / absent.
Result<std::optional<bool>> YesNo(const xmlNode* n, std::string_view name) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> v, Attr(n, name));
  if (!v) return std::optional<bool>();
  if (*v == "yes") return std::optional<bool>(true);
  if (*v == "no") return std::optional<bool>(false);
  return tl::make_unexpected(At(ErrorCode::kInvalidArgument, n,
                                fmt::format("<{} {}={}>: expected 'yes' or 'no'", Str(n->name),
                                            name, Quote(*v))));
}

class DomainReader {
 public:
  explicit DomainReader(LibvirtDomain& out) : out_(out) {}

  Result<void> Read(const xmlNode* root);

 private:
  void Add(InputKind kind, std::string value, const xmlNode* n, bool read_only) {
    out_.inputs.push_back(LaunchInput{kind, std::move(value), Line(n), read_only});
  }
  Result<void> AddPath(InputKind kind, const xmlNode* n, std::string_view what,
                       std::string path, bool read_only) {
    TC_RETURN_IF_ERROR(CheckPath(n, what, path));
    Add(kind, std::move(path), n, read_only);
    return {};
  }

  Result<void> ReadOs(const xmlNode* os);
  Result<void> ReadLoader(const xmlNode* loader, bool& has_path);
  Result<void> ReadNvram(const xmlNode* nvram);
  Result<void> ReadDevices(const xmlNode* devices);
  Result<void> ReadDisk(const xmlNode* disk);
  Result<void> ReadBackingChain(const xmlNode* disk, std::string_view label,
                                const std::optional<std::string>& format);
  Result<void> ReadSysinfo(const xmlNode* sysinfo);

  LibvirtDomain& out_;
};

Result<void> DomainReader::Read(const xmlNode* root) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> type, Attr(root, "type"));
  if (!type) {
    return tl::make_unexpected(
        At(ErrorCode::kInvalidArgument, root, "<domain> has no type attribute"));
  }
  if (*type != "kvm" && *type != "qemu") {
    return tl::make_unexpected(
        At(ErrorCode::kUnsupported, root,
           fmt::format("domain type {} is not run by QEMU; only 'kvm' and 'qemu' domains are "
                       "checked",
                       Quote(*type))));
  }
  out_.type = *type;

  TC_ASSIGN_OR_RETURN(const xmlNode* name, OnlyChild(root, "name"));
  TC_ASSIGN_OR_RETURN(const xmlNode* uuid, OnlyChild(root, "uuid"));
  TC_ASSIGN_OR_RETURN(const xmlNode* os, OnlyChild(root, "os"));
  TC_RETURN_IF_ERROR(OnlyChild(root, "devices"));  // refuse a second one
  if (name == nullptr || Text(name).empty()) {
    return tl::make_unexpected(At(ErrorCode::kInvalidArgument, name != nullptr ? name : root,
                                  "the domain has no <name>"));
  }
  out_.name = Text(name);
  if (uuid != nullptr) out_.uuid = Text(uuid);
  if (os == nullptr) {
    out_.notes.push_back(
        "no <os>: QEMU boots its default firmware (SeaBIOS), which is not measured");
  }

  // Document order: <os> normally precedes <devices>, but follow the file.
  for (const xmlNode* c = root->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (c->ns != nullptr) {
      if (Str(c->ns->href) != kQemuNamespace) continue;
      if (Str(c->name) == "commandline") {
        return tl::make_unexpected(
            At(ErrorCode::kUnsupported, c,
               "<qemu:commandline>: extra QEMU arguments could load files this check does "
               "not see"));
      }
      if (Str(c->name) == "override") {
        return tl::make_unexpected(
            At(ErrorCode::kUnsupported, c,
               "<qemu:override>: overridden device properties could load files this check "
               "does not see"));
      }
      continue;
    }
    const std::string_view element = Str(c->name);
    if (element == "os") {
      TC_RETURN_IF_ERROR(ReadOs(c));
    } else if (element == "devices") {
      TC_RETURN_IF_ERROR(ReadDevices(c));
    } else if (element == "sysinfo") {
      TC_RETURN_IF_ERROR(ReadSysinfo(c));
    }
  }
  return {};
}

// formatdomain.html, "Operating system booting": "BIOS bootloader" (loader,
// nvram, firmware autoselection) and "Direct kernel boot" (kernel, initrd,
// cmdline, dtb, acpi tables).
Result<void> DomainReader::ReadOs(const xmlNode* os) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> firmware, Attr(os, "firmware"));
  if (firmware && *firmware != "efi" && *firmware != "bios") {
    return tl::make_unexpected(
        At(ErrorCode::kInvalidArgument, os,
           fmt::format("<os firmware={}>: expected 'efi' or 'bios'", Quote(*firmware))));
  }
  for (const char* single : {"loader", "nvram", "kernel", "initrd", "cmdline", "dtb", "acpi"}) {
    TC_RETURN_IF_ERROR(OnlyChild(os, single));
  }

  const xmlNode* loader = nullptr;
  bool loader_has_path = false;
  for (const xmlNode* c = os->children; c != nullptr; c = c->next) {
    if (!IsDomainElement(c)) continue;
    const std::string_view element = Str(c->name);
    if (element == "loader") {
      loader = c;
      TC_RETURN_IF_ERROR(ReadLoader(c, loader_has_path));
    } else if (element == "nvram") {
      TC_RETURN_IF_ERROR(ReadNvram(c));
    } else if (element == "kernel") {
      TC_RETURN_IF_ERROR(AddPath(InputKind::kKernel, c, "<kernel>", Text(c), true));
    } else if (element == "initrd") {
      TC_RETURN_IF_ERROR(AddPath(InputKind::kInitrd, c, "<initrd>", Text(c), true));
    } else if (element == "cmdline") {
      Add(InputKind::kCmdline, Text(c), c, true);
    } else if (element == "dtb") {
      // A device tree handed to the guest: a file QEMU loads, measured as
      // ParseQemuCommand measures -dtb.
      TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, c, "<dtb>", Text(c), true));
    } else if (element == "acpi") {
      for (const xmlNode* t = c->children; t != nullptr; t = t->next) {
        if (!IsDomainElement(t, "table")) continue;
        TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, t, "<acpi><table>", Text(t), true));
      }
    }
  }

  if (!loader_has_path) {
    if ((firmware && *firmware == "efi") || loader != nullptr) {
      return tl::make_unexpected(At(
          ErrorCode::kInvalidArgument, loader != nullptr ? loader : os,
          "firmware autoselection (<os firmware='efi'> or a <loader> without a path): libvirt "
          "picks the firmware file only when the guest starts, so it cannot be known or "
          "measured beforehand; name the loader explicitly, e.g. <loader readonly='yes' "
          "type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"));
    }
    out_.notes.push_back(
        "no <loader>: QEMU boots its default firmware (SeaBIOS), which is not measured");
  }
  return {};
}

Result<void> DomainReader::ReadLoader(const xmlNode* loader, bool& has_path) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> type, Attr(loader, "type"));
  if (type && *type != "rom" && *type != "pflash") {
    return tl::make_unexpected(
        At(ErrorCode::kInvalidArgument, loader,
           fmt::format("<loader type={}>: expected 'rom' or 'pflash'", Quote(*type))));
  }
  TC_ASSIGN_OR_RETURN(const std::optional<bool> readonly, YesNo(loader, "readonly"));
  std::string path = Text(loader);
  has_path = !path.empty();
  if (!has_path) return {};  // autoselection: ReadOs refuses it
  // A rom (the default type) is mapped read-only; a pflash is writable
  // unless readonly='yes'.
  const bool pflash = type && *type == "pflash";
  const bool read_only = !pflash || readonly.value_or(false);
  if (!read_only) {
    out_.notes.push_back(fmt::format(
        "firmware code {} is a writable pflash (no readonly='yes'): the guest can change it",
        Quote(path)));
  }
  return AddPath(InputKind::kFirmwareCode, loader, "<loader>", std::move(path), read_only);
}

Result<void> DomainReader::ReadNvram(const xmlNode* nvram) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> tmpl, Attr(nvram, "template"));
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> type, Attr(nvram, "type"));
  // The per-VM store: the element's text, or (libvirt 8.5+) a <source>.
  std::string path;
  const xmlNode* path_node = nvram;
  if (type) {
    const bool file = *type == "file";
    if (!file && *type != "block") {
      return tl::make_unexpected(
          At(ErrorCode::kUnsupported, nvram,
             fmt::format("<nvram type={}>: the variable store is not a local file and cannot "
                         "be measured before the guest runs",
                         Quote(*type))));
    }
    TC_ASSIGN_OR_RETURN(const xmlNode* source, OnlyChild(nvram, "source"));
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> p, Attr(source, file ? "file" : "dev"));
    if (source != nullptr) path_node = source;
    path = p.value_or("");
  } else {
    path = Text(nvram);
  }
  if (!path.empty()) TC_RETURN_IF_ERROR(CheckPath(path_node, "<nvram>", path));
  if (tmpl) {
    TC_RETURN_IF_ERROR(CheckPath(nvram, "<nvram template>", *tmpl));
    out_.notes.push_back(fmt::format(
        "firmware variables: the template {} is measured; the per-VM store {} is created from it "
        "on first start and then written by the guest",
        Quote(*tmpl), path.empty() ? std::string("(libvirt's default path)") : Quote(path)));
    Add(InputKind::kFirmwareVars, *tmpl, nvram, false);
    return {};
  }
  if (path.empty()) {
    return tl::make_unexpected(At(ErrorCode::kInvalidArgument, nvram,
                                  "<nvram> names neither a file nor a template"));
  }
  out_.notes.push_back(fmt::format(
      "firmware variable store {} is written by the guest: its digest changes as the guest runs",
      Quote(path)));
  Add(InputKind::kFirmwareVars, std::move(path), path_node, false);
  return {};
}

Result<void> DomainReader::ReadDevices(const xmlNode* devices) {
  for (const xmlNode* c = devices->children; c != nullptr; c = c->next) {
    if (!IsDomainElement(c)) continue;
    if (Str(c->name) == "disk") TC_RETURN_IF_ERROR(ReadDisk(c));
    // An option ROM the guest firmware runs (formatdomain.html, "Network
    // interfaces" / "Host device assignment": <rom file=...>), measured as
    // ParseQemuCommand measures -option-rom.
    TC_ASSIGN_OR_RETURN(const xmlNode* rom, OnlyChild(c, "rom"));
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> rom_file, Attr(rom, "file"));
    if (rom_file) {
      TC_RETURN_IF_ERROR(AddPath(InputKind::kFirmwareCode, rom, "<rom file>", *rom_file, true));
    }
  }
  return {};
}

// formatdomain.html, "Hard drives, floppy disks, CDROMs".
Result<void> DomainReader::ReadDisk(const xmlNode* disk) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> type_attr, Attr(disk, "type"));
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> device_attr, Attr(disk, "device"));
  TC_ASSIGN_OR_RETURN(const xmlNode* target, OnlyChild(disk, "target"));
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> target_dev, Attr(target, "dev"));
  TC_ASSIGN_OR_RETURN(const xmlNode* source, OnlyChild(disk, "source"));
  TC_ASSIGN_OR_RETURN(const xmlNode* driver, OnlyChild(disk, "driver"));
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> format, Attr(driver, "type"));
  TC_ASSIGN_OR_RETURN(const xmlNode* readonly, OnlyChild(disk, "readonly"));
  TC_ASSIGN_OR_RETURN(const xmlNode* transient, OnlyChild(disk, "transient"));

  const std::string type = type_attr.value_or("file");  // libvirt's default
  const std::string device = device_attr.value_or("disk");
  const std::string label = target_dev && !target_dev->empty()
                                ? Quote(*target_dev)
                                : fmt::format("on line {}", Line(disk));
  if (type != "file" && type != "block") {
    return tl::make_unexpected(
        At(ErrorCode::kUnsupported, disk,
           fmt::format("disk {} is type={}: its data is not a local file or block device and "
                       "cannot be measured before the guest runs",
                       label, Quote(type))));
  }
  const char* path_attr = type == "file" ? "file" : "dev";
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> path, Attr(source, path_attr));
  if (!path || path->empty()) {
    // An empty drive (a CD-ROM or floppy without media): nothing to load.
    if (device != "cdrom" && device != "floppy") {
      out_.notes.push_back(fmt::format("disk {} has no source: nothing to measure", label));
    }
    return {};
  }
  // QEMU gives CD-ROMs read-only media; a transient disk's writes go to an
  // overlay that is thrown away.
  const bool read_only = readonly != nullptr || transient != nullptr || device == "cdrom";
  TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, source, "disk " + label, *path, read_only));

  // A qcow2 image's raw data file (<source><dataStore>): as writable as the
  // disk itself.
  TC_ASSIGN_OR_RETURN(const xmlNode* data_store, OnlyChild(source, "dataStore"));
  if (data_store != nullptr) {
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> ds_type, Attr(data_store, "type"));
    if (ds_type != "file" && ds_type != "block") {
      return tl::make_unexpected(
          At(ErrorCode::kUnsupported, data_store,
             fmt::format("disk {}: a dataStore of type={} cannot be measured before the guest "
                         "runs",
                         label, Quote(ds_type.value_or("")))));
    }
    TC_ASSIGN_OR_RETURN(const xmlNode* ds_source, OnlyChild(data_store, "source"));
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> ds_path,
                        Attr(ds_source, *ds_type == "file" ? "file" : "dev"));
    TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, ds_source != nullptr ? ds_source : data_store,
                               "disk " + label + " dataStore", ds_path.value_or(""),
                               read_only));
  }
  if (!read_only) {
    out_.notes.push_back(
        fmt::format("disk {} is writable: its digest changes as the guest runs", label));
  }
  return ReadBackingChain(disk, label, format);
}

// <backingStore type='file'|'block'><format type=.../><source .../>
// <backingStore .../></backingStore>; an empty <backingStore/> ends the
// chain. Backing images are opened read-only.
Result<void> DomainReader::ReadBackingChain(const xmlNode* disk, std::string_view label,
                                            const std::optional<std::string>& format) {
  std::optional<std::string> last_format = format;
  TC_ASSIGN_OR_RETURN(const xmlNode* bs, OnlyChild(disk, "backingStore"));
  const bool chain_given = bs != nullptr;
  for (std::size_t depth = 0; bs != nullptr; ++depth) {
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> type, Attr(bs, "type"));
    if (!type && !HasChildElements(bs)) return {};  // <backingStore/>: no backing file
    if (depth >= kMaxBackingChainDepth) {
      return tl::make_unexpected(
          At(ErrorCode::kUnsupported, bs,
             fmt::format("disk {}: backing chain deeper than {}", label, kMaxBackingChainDepth)));
    }
    if (type != "file" && type != "block") {
      return tl::make_unexpected(
          At(ErrorCode::kUnsupported, bs,
             fmt::format("disk {}: a backingStore of type={} cannot be measured before the "
                         "guest runs",
                         label, Quote(type.value_or("")))));
    }
    TC_ASSIGN_OR_RETURN(const xmlNode* source, OnlyChild(bs, "source"));
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> path,
                        Attr(source, *type == "file" ? "file" : "dev"));
    TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, source != nullptr ? source : bs,
                               fmt::format("disk {} backingStore", label), path.value_or(""),
                               true));
    TC_ASSIGN_OR_RETURN(const xmlNode* fmt_node, OnlyChild(bs, "format"));
    TC_ASSIGN_OR_RETURN(last_format, Attr(fmt_node, "type"));
    TC_ASSIGN_OR_RETURN(bs, OnlyChild(bs, "backingStore"));
  }
  // Where the XML does not end the chain (with <backingStore/>), QEMU
  // follows the backing file named in the image header, which this check
  // does not read.
  if (last_format && *last_format != "raw") {
    out_.notes.push_back(fmt::format(
        "disk {}: the XML does not end its backing chain after the {} image {}; a backing file "
        "named in that image's header is opened by QEMU but not measured",
        label, Quote(*last_format), chain_given ? "at the end of the chain" : "of the disk"));
  }
  return {};
}

// formatdomain.html, "SMBIOS System Information": <sysinfo type='fwcfg'>
// entries with a file are blobs for the guest firmware, measured as
// ParseQemuCommand measures -fw_cfg file=.
Result<void> DomainReader::ReadSysinfo(const xmlNode* sysinfo) {
  TC_ASSIGN_OR_RETURN(const std::optional<std::string> type, Attr(sysinfo, "type"));
  if (type != "fwcfg") return {};
  for (const xmlNode* e = sysinfo->children; e != nullptr; e = e->next) {
    if (!IsDomainElement(e, "entry")) continue;
    TC_ASSIGN_OR_RETURN(const std::optional<std::string> file, Attr(e, "file"));
    if (file) TC_RETURN_IF_ERROR(AddPath(InputKind::kDisk, e, "<sysinfo><entry file>", *file, true));
  }
  return {};
}

}  // namespace

Result<LibvirtDomain> ParseLibvirtDomain(std::span<const std::uint8_t> xml) {
  if (xml.size() > kMaxDomainXmlSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("domain XML of {} bytes is larger than the {} byte limit", xml.size(),
                            kMaxDomainXmlSize));
  }
  if (xml.empty()) return Fail(ErrorCode::kMalformed, "empty domain XML");
  InitLibxmlOnce();

  const XmlParserCtxtPtr ctxt(xmlNewParserCtxt());
  if (ctxt == nullptr || ctxt->sax == nullptr) {
    return Fail(ErrorCode::kInternal, "libxml2 could not allocate a parser context");
  }
  ParseState state;
  ctxt->_private = &state;
  ctxt->sax->internalSubset = &RefuseDoctype;
  ctxt->sax->serror = &RecordError;
  // kMaxDomainXmlSize fits an int.
  const XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), reinterpret_cast<const char*>(xml.data()),
                                        static_cast<int>(xml.size()), nullptr, nullptr,
                                        kParseOptions));
  // Only RefuseDoctype stops the parser; check errNo too, in case libxml2
  // ever resets _private.
  if (state.saw_doctype || ctxt->errNo == XML_ERR_USER_STOP ||
      (doc != nullptr && (doc->intSubset != nullptr || doc->extSubset != nullptr))) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("line {}: DTDs are not accepted (<!DOCTYPE> in a domain XML)",
                            state.doctype_line));
  }
  if (doc == nullptr || !ctxt->wellFormed) {
    if (!state.has_error) {
      if (xmlError* e = xmlCtxtGetLastError(ctxt.get()); e != nullptr && e->code != 0) {
        RecordError(ctxt.get(), e);
      }
    }
    if (!state.has_error) return Fail(ErrorCode::kMalformed, "domain XML is not well-formed");
    return Fail(ErrorCode::kMalformed,
                fmt::format("line {}, column {}: {}", state.error_line, state.error_column,
                            state.error_message));
  }

  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) return Fail(ErrorCode::kMalformed, "domain XML has no root element");
  if (root->type == XML_ELEMENT_NODE && Str(root->name) == "domain" && root->ns != nullptr) {
    return Fail(At(ErrorCode::kInvalidArgument, root,
                   fmt::format("the root <domain> is in namespace {}; libvirt's has none",
                               Quote(Str(root->ns->href)))));
  }
  if (!IsDomainElement(root, "domain")) {
    return Fail(At(ErrorCode::kInvalidArgument, root,
                   fmt::format("the root element is {}, not libvirt's <domain>",
                               Quote(Str(root->name)))));
  }
  LibvirtDomain out;
  DomainReader reader(out);
  TC_RETURN_IF_ERROR(reader.Read(root));
  return out;
}

}  // namespace tc::launch
