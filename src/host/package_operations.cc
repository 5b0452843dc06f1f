#include "host/package_operations.h"

#include "core/tlv.h"
#include "format/gp_status.h"
#include "format/identifiers.h"
#include "format/status_words.h"
#include "host/app_record.h"

namespace tessera::host {
namespace {

Bytes Lv(ByteView v) {
  Bytes b{static_cast<uint8_t>(v.size())};
  Append(b, v);
  return b;
}

const std::vector<SwMeaning>& LoadMeanings() {
  static const std::vector<SwMeaning> k = {
      {sw::kWrongData,
       "the card refuses the package: not one it runs, bytecode, too big, a reserved AID, or "
       "its AID is not the one announced (the card's --trace tells which)"},
      {sw::kFileExists, "a package with this AID, or a module with one of its AIDs, is loaded"},
      {sw::kNotEnoughMemory, "not enough memory on the card"},
      {sw::kConditionsNotSatisfied, "no INSTALL [for load] before this LOAD"},
      {sw::kWrongP1P2, "a LOAD block out of sequence"}};
  return k;
}

}  // namespace

Status LoadPackage(CardSession& s, const format::AppletPackage& package,
                   const std::function<void(size_t, size_t)>& progress) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  Bytes install = Lv(package.aid);
  for (int i = 0; i < 4; ++i) install.push_back(0x00);  // SD (the ISD), hash, parameters, token
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                           s.Secure(CommandApdu{0x80, 0xE6, 0x02, 0x00, install, 0, false}));
  const std::string what = "INSTALL [for load] of package " + ToHex(package.aid);
  if (r.sw != sw::kOk) return Refused(what, r.sw, LoadMeanings());
  const Bytes load = EncodeTlv(0xC4, format::EncodeAppletPackage(package));
  const size_t blocks = (load.size() + kLoadBlock - 1) / kLoadBlock;
  if (blocks > 256) return InvalidArgument("the package needs more than 256 LOAD blocks");
  for (size_t i = 0; i < blocks; ++i) {
    const size_t off = i * kLoadBlock, len = std::min(kLoadBlock, load.size() - off);
    const bool last = i + 1 == blocks;
    CommandApdu c{0x80,
                  0xE8,
                  static_cast<uint8_t>(last ? 0x80 : 0x00),
                  static_cast<uint8_t>(i),
                  Bytes(load.begin() + static_cast<ptrdiff_t>(off),
                        load.begin() + static_cast<ptrdiff_t>(off + len)),
                  0,
                  false};
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu b, s.Secure(c));
    if (b.sw != sw::kOk) {
      return Refused("LOAD block " + std::to_string(i) + " of " + std::to_string(blocks), b.sw,
                     LoadMeanings());
    }
    if (progress) progress(i + 1, blocks);
  }
  return Status::Ok();
}

Status CreateInstance(CardSession& s, const InstanceRequest& r) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  Bytes params;
  AppendTlv(params, 0xC9, r.params);
  if (!r.system.empty()) AppendTlv(params, 0xEF, r.system);
  Bytes d = Lv(r.package);
  Append(d, Lv(r.module));
  Append(d, Lv(r.aid));
  Append(d, Lv(r.privileges));
  Append(d, Lv(params));
  d.push_back(0x00);  // no token
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu resp,
                           s.Secure(CommandApdu{0x80, 0xE6, 0x0C, 0x00, d, 0, false}));
  if (resp.sw == sw::kOk) return Status::Ok();
  return Refused("INSTALL [for install] of " + ToHex(r.aid), resp.sw,
                 {{sw::kReferencedDataNotFound, "no such package, or no such module in it"},
                  {sw::kFileExists, "an application with this AID exists"},
                  {sw::kWrongData,
                   "refused: a reserved AID, bad parameters or limits, or code that does not "
                   "load (the card's --trace tells which)"},
                  {sw::kNotEnoughMemory, "not enough memory, or the registry is full"},
                  {sw::kNoPreciseDiagnosis, "the applet's install() failed (see --trace)"}});
}

Status DeletePackage(CardSession& s, ByteView aid, bool with_instances) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  TESSERA_ASSIGN_OR_RETURN(
      ResponseApdu r,
      s.Secure(CommandApdu{0x80, 0xE4, 0x00, static_cast<uint8_t>(with_instances ? 0x80 : 0x00),
                           EncodeTlv(0x4F, aid), 0, false}));
  if (r.sw == sw::kOk) return Status::Ok();
  return Refused("DELETE of package " + ToHex(aid), r.sw,
                 {{sw::kConditionsNotSatisfied,
                   with_instances ? "built-in code, or the issuer security domain, stays"
                                  : "applications of its modules exist (--with-instances "
                                    "deletes them too), or it is built-in code"},
                  {sw::kReferencedDataNotFound, "no such package or application"}});
}

Result<std::vector<PackageEntry>> ReadPackages(CardSession& s) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  std::vector<PackageEntry> out;
  uint8_t p2 = 0x02;
  for (int round = 0; round < 64; ++round) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                             s.Secure(CommandApdu{0x80, 0xF2, 0x10, p2, {0x4F, 0x00}, 256, false}));
    if (r.sw == sw::kReferencedDataNotFound) break;
    if (r.sw != sw::kOk && r.sw != sw::kMoreData) return Refused("GET STATUS (load files)", r.sw);
    TESSERA_ASSIGN_OR_RETURN(auto entries, format::ParseGpRegistryEntries(r.data));
    for (auto& e : entries) {
      PackageEntry p{std::move(e.aid), std::move(e.modules), false};
      p.built_in =
          !ModuleNameByAid(p.aid).empty() || (p.modules.size() == 1 && p.modules[0] == p.aid);
      out.push_back(std::move(p));
    }
    if (r.sw == sw::kOk) break;
    p2 = 0x03;
  }
  return out;
}

}  // namespace tessera::host
