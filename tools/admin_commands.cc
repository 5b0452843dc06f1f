#include "admin_commands.h"

#include "host/app_client.h"
#include "host/app_operations.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "cli_args.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/put_key.h"
#include "crypto/scp03.h"
#include "format/administrator.h"
#include "format/status_words.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/install_file_builder.h"
#include "host/issuance_targets.h"
#include "host/pem_key.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

Result<int> ParseId(const std::string& text) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0' || v < 0 || v > 127) {
    return InvalidArgument("--id '" + text + "': give 0..127 (0 = the card issuer)");
  }
  return static_cast<int>(v);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// card set-date, card date

int SetDate(const LinkOptions& o, const Args& a, const std::string& command) {
  const Reporter rep(command, o.json);
  if (a.operands.size() != 1) return rep.Usage("give the date as YYMMDD");
  auto bcd = ParseYymmdd(a.operands[0]);
  if (!bcd.ok()) return rep.Usage("'" + a.operands[0] + "': " + bcd.status().message());
  if (*bcd == Bytes(3, 0)) return rep.Usage("000000 is no date");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage("setting the date needs the issuer's secure channel: give --scp03 KEYS");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = SetCardDate(s, *bcd); !st.ok()) return rep.Fail(st);
  if (o.json) {
    PrintJson(Json{{"ok", true}, {"date", YymmddText(*bcd)}});
  } else {
    std::printf("the card's date is now %s\n", DateDisplay(*bcd).c_str());
  }
  return 0;
}

int ShowDate(const LinkOptions& o, const Args& a) {
  const Reporter rep("card date", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto date = ReadCardDate(s);
  if (!date.ok()) return rep.Fail(date.status());
  if (o.json) {
    // No date set: "000000", as the records write "no limit".
    PrintJson(Json{{"ok", true}, {"date", *date ? YymmddText(**date) : "000000"}});
  } else {
    std::printf("%s\n", *date ? DateDisplay(**date).c_str() : "no date set");
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// admin add, admin list

int AdminAdd(const LinkOptions& o, const Args& a) {
  const Reporter rep("admin add", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  for (const char* need : {"--id", "--name", "--public-key"}) {
    if (!a.has(need)) return rep.Usage(std::string(need) + " is required");
  }
  auto id = ParseId(a.value("--id"));
  if (!id.ok()) return rep.Usage(id.status().message());
  const std::string name = a.value("--name");
  if (name.empty() || name.size() > 32 || !IsPrintableUtf8(name)) {
    return rep.Usage("--name: give 1..32 bytes of UTF-8 text");
  }
  if (a.has("--keys") != a.has("--key-kvn")) {
    return rep.Usage("--keys KEYFILE and --key-kvn XX go together");
  }
  std::optional<uint8_t> kvn;
  if (a.has("--key-kvn")) {
    auto b = ParseHexArg(a.value("--key-kvn"));
    if (!b.ok() || b->size() != 1 || (*b)[0] == 0 || (*b)[0] > 0x7F) {
      return rep.Usage("--key-kvn '" + a.value("--key-kvn") + "': give one hex byte 01..7F");
    }
    kvn = (*b)[0];
  }
  if (*id == 0 && kvn) {
    return rep.Usage(
        "administrator 0 is the card issuer: it uses the ISD's key sets, so it "
        "takes no --keys");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(
        "registering an administrator needs the issuer's secure channel: give "
        "--scp03 KEYS");
  }
  auto public_key = LoadP256PublicKeyPem(a.value("--public-key"));
  if (!public_key.ok()) return rep.FailFile(public_key.status());
  std::optional<crypto::scp03::StaticKeys> new_keys;
  if (kvn) {
    auto k = LoadKeyFile(a.value("--keys"));
    if (!k.ok()) return rep.FailFile(k.status());
    if (k->enc.size() != k->mac.size() || k->mac.size() != k->dek.size()) {
      return rep.Fail(a.value("--keys") + ": enc, mac and dek must have the same length");
    }
    if (crypto::scp03::IsTestKeys(*k)) {
      rep.Warn(a.value("--keys") +
               " holds the well-known test keys 404142..4F; anyone can open its sessions");
    }
    new_keys = std::move(*k);
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
  format::AdministratorUpload upload;
  upload.id = static_cast<uint8_t>(*id);
  upload.name = name;
  upload.public_key = *public_key;
  if (new_keys) {
    Bytes set{*kvn};
    for (const auto* key : {&new_keys->enc, &new_keys->mac, &new_keys->dek}) {
      auto wrapped = crypto::scp03::WrapKeyComponent(s.keys().dek, *key);
      if (!wrapped.ok()) return rep.Fail(wrapped.status());
      set.insert(set.end(), wrapped->begin(), wrapped->end());
    }
    upload.key_set = std::move(set);
  }
  const Bytes object = format::EncodeAdministratorUpload(upload);
  if (upload.key_set) Wipe(upload.key_set->data(), upload.key_set->size());
  auto up = s.StoreData(object);
  if (!up.ok()) return rep.Fail(up.status());
  if (up->sw != sw::kOk) {
    return rep.CardFail("registering administrator " + std::to_string(*id) + " (" + name + ")",
                        up->sw,
                        {{sw::kFileExists, "an administrator with this id exists"},
                         {sw::kConditionsNotSatisfied,
                          "the key version number is in use (by the issuer security "
                          "domain or another administrator)"},
                         {sw::kInvalidKeyCheckValue,
                          "bad key check value (was the session's DEK the one of "
                          "--scp03?)"},
                         {sw::kNotEnoughMemory, "no room: at most 8 administrators"},
                         {sw::kWrongData, "the card refused the administrator object as malformed"},
                         {sw::kWrongP1P2, "a STORE DATA block out of sequence"}});
  }
  if (o.json) {
    Json admin{{"id", *id}, {"name", name}, {"public_key", ToHex(*public_key)}};
    if (kvn) admin["kvn"] = HexByte(*kvn);
    PrintJson(Json{{"ok", true}, {"administrator", admin}});
  } else {
    std::printf("registered administrator %d (%s) with a signing key%s\n", *id,
                Printable(name).c_str(), kvn ? (" and key set " + HexByte(*kvn)).c_str() : "");
  }
  return 0;
}

int AdminList(const LinkOptions& o, const Args& a) {
  const Reporter rep("admin list", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  auto admins = ReadAdministrators(**session);
  if (!admins.ok()) return rep.Fail(admins.status());
  if (o.json) {
    Json list = Json::array();
    for (const auto& ad : *admins) {
      Json e{{"id", ad.id}, {"name", ad.name}};
      if (!ad.public_key.empty()) e["public_key"] = ToHex(ad.public_key);
      if (ad.kvn) e["kvn"] = HexByte(*ad.kvn);
      list.push_back(e);
    }
    PrintJson(Json{{"ok", true}, {"administrators", list}});
    return 0;
  }
  if (admins->empty()) {
    std::printf("no administrators\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& ad : *admins) {
    std::string key = "none";
    if (!ad.public_key.empty()) {
      key = ToHex(ByteView(ad.public_key).first(std::min<size_t>(9, ad.public_key.size())));
      if (ad.public_key.size() > 9) key += "...";
    }
    rows.push_back({HexByte(ad.id), Printable(ad.name), key, ad.kvn ? HexByte(*ad.kvn) : "none"});
  }
  PrintTable({"ID", "NAME", "SIGNING KEY", "KEY SET"}, rows);
  return 0;
}

}  // namespace tessera::tools
