// Record-driven application management under power cuts (docs/applications.md): installation
// from an installation file, every record transition, record deletion with its wipe, and the
// GlobalPlatform SET STATUS and DELETE, with power cut at every program operation (and, for
// installation and record deletion, at every pair of cut points: a cut, then another during
// the retry). After every cut the card must hold the state before or after the APDU the cut
// fell into, and the views must agree: every record's status is its application's state as
// GET STATUS and SELECT show it, no record without its application or application without its
// record, and the PSE lists exactly the selectable applications. After a deletion no byte of
// the application's data or PIN is left anywhere in the raw image. Applets (docs/applets.md)
// too: installed from a file with code and by GP LOAD, a Lua command writing three files
// after its PIN, and a package deleted with its applications, after which no byte of its
// source is left either.
#include <gtest/gtest.h>

#include <optional>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "card/check/card_inspector.h"
#include "card/gp/key_store.h"
#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "card/registry/admin_registry.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "nvm/image_inspector.h"
#include "nvm/nvm_store.h"
#include "support/integrity_oracle.h"
#include "support/tear_harness.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;
using testing::RunAtEveryCutPoint;
using testing::SpendCounter;
using testing::TearOptions;
using testing::TearScenario;

const std::string kMgmt = "F05445535345524101";
const std::string kDemo = "F05445535345524110";
const std::string kApp = "F05445535345524120";
const std::string kStoreModule = "F0544553534552414D01";
const Bytes kSecret = ToBytes("TEAR-SECRET-0123456789-abcdefghij");
const Bytes kPin = ToBytes("8642");
const Bytes kHostChallenge = HexOrDie("0011223344556677");
// The example purse applet (profiles/applets/purse.lua), as an installation file's code and as
// a package GP LOAD brings; a phrase of its source finds its bytes in the raw image.
const std::string kLuaPurse = "F0000000AB10";
const std::string kLuaPackage = "F0000000AB";
const std::string kLuaModule = "F0000000AB01";
const Bytes kSourceMarker = ToBytes("byte for byte, so that one transcript");

nvm::Geometry Geometry() {
  nvm::Geometry g;
  g.nvm_size = 96 * 1024;
  g.journal_capacity = 8 * 1024;
  return g;
}

Platform& TestPlatform() {
  static auto p = DrbgPlatform::FromSeed(Bytes(48, 5), 1700000000);
  return *p;
}

std::string Lc(size_t n) {
  char b[8];
  std::snprintf(b, sizeof b, "%02X", static_cast<unsigned>(n));
  return b;
}

scp03::StaticKeys AdminKeys() {
  scp03::StaticKeys k;
  k.enc = crypto::MakeSecure(HexOrDie("A1A2A3A4A5A6A7A8A9AAABACADAEAFA0"));
  k.mac = crypto::MakeSecure(HexOrDie("B1B2B3B4B5B6B7B8B9BABBBCBDBEBFB0"));
  k.dek = crypto::MakeSecure(HexOrDie("C1C2C3C4C5C6C7C8C9CACBCCCDCECFC0"));
  return k;
}

const crypto::P256KeyPair& SigningKey() {
  static auto* key = new crypto::P256KeyPair(*crypto::GenerateP256KeyPair());
  return *key;
}

// The record of kApp with `status`, signed once (ECDSA signatures are randomised: every run
// must send the same bytes).
const Bytes& Record(uint8_t status) {
  static auto* records = [] {
    auto* out = new std::vector<Bytes>();
    TlvBuilder s;
    s.Add(0x4F, HexOrDie(kApp)).Add(0x50, ToBytes("TORN STORE")).Add(0xC0, ToBytes("ACME"));
    s.AddByte(0xC1, 1).Add(0x5F25, Bytes(3, 0)).Add(0x5F24, Bytes(3, 0));
    const Bytes signed_part = s.Take();
    const Bytes sig = *crypto::EcdsaP256Sign(SigningKey().private_key, signed_part);
    for (uint8_t st = 0; st < 4; ++st) {
      Bytes inner = signed_part;
      Append(inner, Bytes{0xC2, 0x01, st});
      Append(inner, EncodeTlv(0x9E, sig));
      out->push_back(EncodeTlv(0xE1, inner));
    }
    return out;
  }();
  return (*records)[status];
}

// The installation file, its file signature (over everything before it) made once too.
Bytes InstallFile() {
  static const Bytes* file = [] {
    Bytes inner = Record(0);
    Append(inner, EncodeTlv(0xC4, HexOrDie(kStoreModule)));
    TlvBuilder p;
    p.Add(0x80, kSecret).Add(0x81, kPin);
    Append(inner, EncodeTlv(0xC9, p.Take()));
    Append(inner, EncodeTlv(0x9E, *crypto::EcdsaP256Sign(SigningKey().private_key, inner)));
    return new Bytes(EncodeTlv(0xBF70, inner));
  }();
  return *file;
}

// A card on `device` whose commands report every completed APDU as a step.
struct Session {
  std::unique_ptr<Card> owned;
  Card& card;
  std::function<void()> step_done;
  std::set<size_t>* ea_steps = nullptr;
  std::set<size_t>* verify_steps = nullptr;
  size_t steps = 0;
  Session(nvm::NvmDevice& device, std::function<void()> done)
      : owned(device::MakeCard(device, Geometry(), TestPlatform())),
        card(*owned),
        step_done(std::move(done)) {}
  Result<Bytes> Transmit(ByteView c) {
    Bytes r = card.Transmit(c);
    if (!card.powered()) return PowerLost("cut");
    if (c.size() >= 2 && c[1] == 0x82 && ea_steps != nullptr) ea_steps->insert(steps);
    if (c.size() >= 2 && c[1] == 0x20 && verify_steps != nullptr) verify_steps->insert(steps);
    ++steps;
    step_done();
    return r;
  }
  Result<std::unique_ptr<crypto::scp03::SecureChannel>> Open(const std::string& domain, uint8_t kvn,
                                                             scp03::StaticKeys keys) {
    crypto::scp03::ChannelOptions o;
    o.keys = std::move(keys);
    o.kvn = kvn;
    o.level = scp03::kCMac;
    o.host_challenge = kHostChallenge;
    o.security_domain = HexOrDie(domain);
    return crypto::scp03::SecureChannel::Open([this](ByteView c) { return Transmit(c); }, o);
  }
};

// What a scenario does once the card is on: its commands, through Session.
using Script = std::function<Status(Session&)>;

Status Expect(Result<Bytes> r, const std::string& sw, const std::string& what) {
  if (!r.ok()) return r.status();
  const std::string got = ToHex(ByteView(*r).last(2));
  if (got != sw) return FailedPrecondition(what + " answered " + got + ", expected " + sw);
  return Status::Ok();
}

Status Upload(crypto::scp03::SecureChannel& isd, const Bytes& data,
              const std::string& sw = "9000") {
  const size_t block = 200;
  for (size_t off = 0, n = 0; off < data.size(); off += block, ++n) {
    const size_t len = std::min(block, data.size() - off);
    const bool last = off + len == data.size();
    char head[16];
    std::snprintf(head, sizeof head, "80E2%02X%02X", last ? 0x90 : 0x10, static_cast<unsigned>(n));
    TESSERA_RETURN_IF_ERROR(
        Expect(isd.Transmit(HexOrDie(head + Lc(len) + ToHex(ByteView(data).subspan(off, len)))),
               last ? sw : "9000", "STORE DATA"));
  }
  return Status::Ok();
}

Status UpdateRecord(Session& s, uint8_t status) {
  TESSERA_ASSIGN_OR_RETURN(auto sc, s.Open(kMgmt, 0x21, AdminKeys()));
  const Bytes& r = Record(status);
  // The demo's record is 1, the data store's 2.
  return Expect(sc->Transmit(HexOrDie("84DC020C" + Lc(r.size()) + ToHex(r))), "9000",
                "UPDATE RECORD");
}

// --- the views, read with APDUs from a copy of the card (the oracle is what a terminal and a
// GlobalPlatform host see, not what the card says it stored) ---
struct View {
  std::vector<std::pair<std::string, int>> records;  // AID, status
  std::map<std::string, int> gp;                     // AID -> 9F70
  std::set<std::string> packages;                    // load files LOAD brought
  std::vector<std::string> pse;
  std::map<std::string, std::string> select;  // AID -> SW
  std::string data;                           // kApp's data as the OS or module reads it
  std::string Describe() const {
    std::string s = "records:";
    for (auto& [a, st] : records) s += " " + a + "=" + std::to_string(st);
    s += "; gp:";
    for (auto& [a, lc] : gp) s += " " + a + "=" + std::to_string(lc);
    s += "; pse:";
    for (auto& a : pse) s += " " + a;
    s += "; select:";
    for (auto& [a, sw] : select) s += " " + a + "=" + sw;
    return s + "; data: " + data;
  }
};

std::string Sw(const Bytes& r) {
  return ToHex(ByteView(r).last(2));
}

Result<View> ReadView(const nvm::NvmDevice& image) {
  auto copy = nvm::RamNvm::CopyOf(image);
  Session s(copy->device(), [] {});
  TESSERA_RETURN_IF_ERROR(s.card.PowerOn().status());
  View v;
  auto tx = [&](const std::string& hex) { return s.card.Transmit(HexOrDie(hex)); };
  if (Sw(tx("00A4040C09" + kMgmt)) == "9000") {
    for (int n = 1; n <= 16; ++n) {
      char cmd[16];
      std::snprintf(cmd, sizeof cmd, "00B2%02X0C00", n);
      Bytes r = tx(cmd);
      if (Sw(r) != "9000") break;
      r.resize(r.size() - 2);
      auto aid = FindTlv(r, 0x4F);
      auto st = FindTlv(r, 0xC2);
      if (!aid.ok() || !*aid || !st.ok() || !*st) return Corruption("a malformed record");
      v.records.emplace_back(ToHex((*aid)->value), (*st)->value[0]);
    }
  }
  {
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.kvn = 0x30;
    o.level = scp03::kCMac;
    auto isd = crypto::scp03::SecureChannel::Open(
        [&](ByteView c) -> Result<Bytes> { return s.card.Transmit(c); }, o);
    if (!isd.ok()) return isd.status();
    std::string p2 = "02";
    for (int i = 0; i < 8; ++i) {
      TESSERA_ASSIGN_OR_RETURN(Bytes r, (*isd)->Transmit(HexOrDie("80F240" + p2 + "024F0000")));
      const std::string sw = Sw(r);
      if (sw == "6A88") break;
      if (sw != "9000" && sw != "6310") return Corruption("GET STATUS answered " + sw);
      r.resize(r.size() - 2);
      auto entries = ParseTlvSequence(r);
      if (!entries.ok()) return Corruption("GET STATUS: malformed entries");
      for (const TlvView& e : *entries) {
        auto aid = FindTlv(e.value, 0x4F);
        auto lc = FindTlv(e.value, 0x9F70);
        v.gp[ToHex((*aid)->value)] = (*lc)->value[0];
      }
      if (sw == "9000") break;
      p2 = "03";
    }
  }
  {
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.kvn = 0x30;
    o.level = scp03::kCMac;
    auto isd = crypto::scp03::SecureChannel::Open(
        [&](ByteView c) -> Result<Bytes> { return s.card.Transmit(c); }, o);
    if (!isd.ok()) return isd.status();
    TESSERA_ASSIGN_OR_RETURN(Bytes r, (*isd)->Transmit(HexOrDie("80F22002024F0000")));
    if (Sw(r) != "9000") return Corruption("GET STATUS of load files answered " + Sw(r));
    r.resize(r.size() - 2);
    auto entries = ParseTlvSequence(r);
    if (!entries.ok()) return Corruption("GET STATUS: malformed load files");
    for (const TlvView& e : *entries) {
      auto aid = FindTlv(e.value, 0x4F);
      const std::string a = ToHex((*aid)->value);
      if (a.rfind("F0544553534552414D", 0) != 0) v.packages.insert(a);  // not built-in
    }
  }
  if (Sw(tx("00A404000E315041592E5359532E444446303100")) == "9000") {
    for (int n = 1; n <= 16; ++n) {
      char cmd[16];
      std::snprintf(cmd, sizeof cmd, "00B2%02X0C00", n);
      Bytes r = tx(cmd);
      if (Sw(r) != "9000") break;
      r.resize(r.size() - 2);
      auto aid = FindTlv(r, 0x4F);
      if (aid.ok() && *aid) v.pse.push_back(ToHex((*aid)->value));
    }
  }
  for (const std::string& a : {kDemo, kApp})
    v.select[a] = Sw(tx("00A4040C" + Lc(a.size() / 2) + a));
  if (v.select[kApp] == "9000") {
    tx("0020008004" + ToHex(kPin));
    v.data = ToHex(tx("00B0000010"));
  } else if (v.select[kApp] == "6285") {
    v.data = ToHex(tx("00B0810010"));
  }
  return v;
}

// The invariants of docs/applications.md between the views.
Status CheckInvariants(const View& v) {
  static const std::map<int, int> kGp = {{0, 0x07}, {1, 0x83}, {2, 0x0F}};
  static const std::map<int, std::string> kSelect = {
      {0, "9000"}, {1, "6283"}, {2, "6285"}, {3, "6A82"}};
  std::set<std::string> listed;
  std::vector<std::string> selectable;
  for (auto& [aid, st] : v.records) {
    listed.insert(aid);
    if (st == 3) {
      if (v.gp.count(aid))
        return Corruption("erased " + aid + " is in GET STATUS: " + v.Describe());
    } else if (!v.gp.count(aid) || v.gp.at(aid) != kGp.at(st)) {
      return Corruption("record and GP view disagree on " + aid + ": " + v.Describe());
    }
    if (st == 0) selectable.push_back(aid);
    if (v.select.count(aid) && v.select.at(aid) != kSelect.at(st)) {
      return Corruption("record and SELECT disagree on " + aid + ": " + v.Describe());
    }
  }
  for (auto& [aid, lc] : v.gp) {
    if (aid != kMgmt && !listed.count(aid)) {
      return Corruption("application without a record: " + aid + ": " + v.Describe());
    }
  }
  for (auto& [aid, sw] : v.select) {
    if (!listed.count(aid) && sw != "6A82") {
      return Corruption("a deleted application still answers SELECT: " + v.Describe());
    }
  }
  if (v.pse != selectable) return Corruption("the PSE is not the selectable list: " + v.Describe());
  return Status::Ok();
}

size_t Count(ByteView haystack, ByteView needle) {
  size_t n = 0;
  for (auto it = haystack.begin();
       (it = std::search(it, haystack.end(), needle.begin(), needle.end())) != haystack.end();
       ++it) {
    ++n;
  }
  return n;
}

// The raw data area after power-on, once the invariants and the card inspector agree.
Result<Bytes> Observe(nvm::NvmDevice& device) {
  {
    auto card_owned = device::MakeCard(device, Geometry(), TestPlatform());
    card::Card& card = *card_owned;
    TESSERA_RETURN_IF_ERROR(card.PowerOn().status());
    nvm::ImageReport report = nvm::InspectImage(device, card.store().layout());
    if (!report.ok()) return Corruption("NVM invariant broken: " + report.errors.front());
    CardReport cr = InspectCard(card.store());
    if (!cr.ok()) return Corruption("card invariant broken: " + cr.damage.front().message);
  }
  TESSERA_ASSIGN_OR_RETURN(View v, ReadView(device));
  TESSERA_RETURN_IF_ERROR(CheckInvariants(v));
  // The data store's secret and PIN: at their one home each while it exists, nowhere after.
  const size_t secret = Count(device.cells(), kSecret);
  Bytes pin{static_cast<uint8_t>(kPin.size())};
  Append(pin, kPin);
  const size_t pins = Count(device.cells(), pin);
  const bool exists = std::any_of(v.records.begin(), v.records.end(),
                                  [](const auto& r) { return r.first == kApp; });
  if (exists ? (secret != 1 || pins != 1) : (secret != 0 || pins != 0)) {
    return Corruption("secret/PIN found " + std::to_string(secret) + "/" + std::to_string(pins) +
                      " times in the raw image (" + (exists ? "expected once" : "deleted") +
                      "): " + v.Describe());
  }
  // The Lua purse's source: somewhere while an application or a package holds it, nowhere
  // after (its code is wiped like data).
  const bool code_held =
      !v.packages.empty() || std::any_of(v.records.begin(), v.records.end(),
                                         [](const auto& r) { return r.first == kLuaPurse; });
  const size_t code = Count(device.cells(), kSourceMarker);
  if (code_held != (code > 0)) {
    return Corruption("the applet's source found " + std::to_string(code) +
                      " times in the raw image: " + v.Describe());
  }
  auto card = std::make_unique<Card>(device, Geometry(), TestPlatform());
  TESSERA_RETURN_IF_ERROR(card->PowerOn().status());
  const nvm::Layout& l = card->store().layout();
  Bytes state(l.end() - l.table_offset);
  TESSERA_RETURN_IF_ERROR(card->store().Read(l.table_offset, state));
  return state;
}

// The images scenarios start from: the default profile with administrator 01 (ACME, KVN 21),
// and that plus the data store installed.
std::unique_ptr<nvm::RamNvm> MakeBase(bool with_app) {
  auto ram = std::make_unique<nvm::RamNvm>(Geometry().nvm_size, Geometry().page_size);
  if (!InstallDefaultProfile(ram->device(), Geometry()).ok()) std::abort();
  Session s(ram->device(), [] {});
  if (!s.card.PowerOn().ok()) std::abort();
  auto isd = s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
  if (!isd.ok()) std::abort();
  TlvBuilder b;
  b.Open(0xBF71).AddByte(0xC1, 1).Add(0xC0, ToBytes("ACME")).Add(0x86, SigningKey().public_key);
  Bytes d{0x21};
  const scp03::StaticKeys keys = AdminKeys();
  for (const crypto::SecureBuffer* k : {&keys.enc, &keys.mac, &keys.dek}) {
    auto wrapped =
        crypto::AesCbcEncrypt(HexOrDie("404142434445464748494A4B4C4D4E4F"), Bytes(16, 0), *k);
    Append(d, Bytes{0x88, 0x11, 0x10});
    Append(d, *wrapped);
    d.push_back(0x03);
    Append(d, *scp03::KeyCheckValue(*k));
  }
  b.Add(0xD8, d).Close();
  if (!Upload(**isd, b.Take()).ok()) std::abort();
  if (with_app && !Upload(**isd, InstallFile()).ok()) std::abort();
  return ram;
}

const nvm::NvmDevice& Base(bool with_app) {
  static auto* without = MakeBase(false).release();
  static auto* with = MakeBase(true).release();
  return (with_app ? with : without)->device();
}

// The failure counters an EXTERNAL AUTHENTICATE commits early: the issuer's and ACME's.
std::vector<uint32_t> FailureCounters(const nvm::NvmDevice& image) {
  auto ram = nvm::RamNvm::CopyOf(image);
  auto store = nvm::NvmStore::Mount(ram->device(), Geometry());
  auto root = LoadRoot(**store);
  std::vector<uint32_t> out;
  const uint32_t base = (*store)->layout().table_offset;
  auto issuer = FindKeySet(**store, *root, 0x30);
  out.push_back(FailuresLeftOffset(**store, *issuer) - base);
  auto admins = LoadAdministrators(**store, *root);
  for (const Administrator& a : *admins) {
    auto set = LoadKeySet(**store, a.key_set);
    out.push_back(FailuresLeftOffset(**store, *set) - base);
  }
  return out;
}

// Where a module PIN's tries-left byte lives in the observed state: found from the states at
// APDU boundaries alone, by running `prepare` (e.g. installing the application), selecting
// `aid`, spending one try with a wrong VERIFY, and finding the one byte that dropped by one.
std::optional<uint32_t> TriesOffset(const nvm::NvmDevice& base, const Script& prepare,
                                    const std::string& aid) {
  auto ram = nvm::RamNvm::CopyOf(base);
  {
    Session s(ram->device(), [] {});
    if (!s.card.PowerOn().ok() || !prepare(s).ok()) return std::nullopt;
  }
  auto before = Observe(ram->device());
  {
    Session s(ram->device(), [] {});
    if (!s.card.PowerOn().ok()) return std::nullopt;
    if (Sw(s.card.Transmit(HexOrDie("00A4040C" + Lc(aid.size() / 2) + aid))) != "9000" ||
        Sw(s.card.Transmit(HexOrDie("0020008004FFFFFFFF"))).substr(0, 3) != "63C") {
      return std::nullopt;
    }
  }
  auto after = Observe(ram->device());
  if (!before.ok() || !after.ok() || before->size() != after->size()) return std::nullopt;
  // The byte that changed, besides its check entry (which SpendCounter recomputes).
  const nvm::Layout layout = *nvm::ComputeLayout(Geometry());
  const uint32_t checks_from = layout.check_offset - layout.table_offset;
  const uint32_t checks_to = layout.root_offset - layout.table_offset;
  std::optional<uint32_t> at;
  for (uint32_t i = 0; i < before->size(); ++i) {
    if ((*before)[i] == (*after)[i] || (i >= checks_from && i < checks_to)) continue;
    if (at || (*after)[i] + 1 != (*before)[i]) return std::nullopt;
    at = i;
  }
  return at;
}

// `pins`: the tries-left offsets of module PINs a VERIFY of the scenario may spend and restore.
TearScenario MakeScenario(const std::string& name, bool with_app, Script script,
                          std::vector<uint32_t> pins = {}) {
  auto ea_steps = std::make_shared<std::set<size_t>>();
  auto verify_steps = std::make_shared<std::set<size_t>>();
  TearScenario sc;
  sc.name = name;
  sc.initial = &Base(with_app);
  sc.run = [script, ea_steps, verify_steps](nvm::NvmDevice& device,
                                            const std::function<void()>& done) {
    Session s(device, done);
    s.ea_steps = ea_steps.get();
    s.verify_steps = verify_steps.get();
    TESSERA_RETURN_IF_ERROR(s.card.PowerOn().status());
    return script(s);
  };
  sc.observe = Observe;
  std::vector<uint32_t> counters = FailureCounters(*sc.initial);
  sc.also_allowed = [ea_steps, verify_steps, counters, pins](size_t step, const Bytes& before) {
    std::vector<Bytes> out;
    // EXTERNAL AUTHENTICATE commits its failure counter early; VERIFY its try.
    const std::vector<uint32_t>* spent_at = ea_steps->count(step)       ? &counters
                                            : verify_steps->count(step) ? &pins
                                                                        : nullptr;
    if (spent_at == nullptr) return out;
    for (uint32_t at : *spent_at) {
      Bytes spent = before;
      SpendCounter(spent, *nvm::ComputeLayout(Geometry()), at);
      out.push_back(std::move(spent));
    }
    return out;
  };
  return sc;
}

struct Case {
  const char* name;
  bool with_app;
  Script script;
  bool pairs = false;
  // Applications with a module PIN a VERIFY of the script may spend a try of: what makes each
  // exist (from the base image) and its AID.
  std::vector<std::pair<Script, std::string>> pin_holders = {};
};

const std::string kPurse = "F05445535345524150";
const std::string kPurseModule = "F0544553534552414D02";
const std::string kIssuance = "F05445535345524102";
const std::string kIssuanceModule = "F0544553534552414D04";

// GP INSTALL [for install and make selectable] of the purse (balance 0, PIN 1234), in an
// issuer session.
Status InstallPurse(Session& s) {
  TESSERA_ASSIGN_OR_RETURN(auto isd, s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys()));
  const std::string params =
      "C912"
      "800400000000"
      "810431323334"
      "8304000F4240";
  const std::string data =
      "0A" + kPurseModule + "0A" + kPurseModule + "09" + kPurse + "0100" + "14" + params + "00";
  return Expect(isd->Transmit(HexOrDie("80E60C00" + Lc(data.size() / 2) + data)), "9000",
                "INSTALL purse");
}

// The Lua purse's package: A0 { 4F, C2, A1 { 4F, 50, C6 source } } (docs/applets.md §1).
const Bytes& PursePackage() {
  static const Bytes* package = [] {
    std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/profiles/applets/purse.lua");
    const std::string src((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (src.empty()) std::abort();
    TlvBuilder b;
    b.Open(0xA0).Add(0x4F, HexOrDie(kLuaPackage)).Add(0xC2, HexOrDie("0100"));
    b.Open(0xA1).Add(0x4F, HexOrDie(kLuaModule)).Add(0x50, ToBytes("PURSE"));
    b.Add(0xC6, ToBytes(src)).Close().Close();
    return new Bytes(b.Take());
  }();
  return *package;
}

const std::string kLuaPurseParams = "800400000064810439393939";  // balance 100, PIN 9999

// Its installation file: ACME's record of kLuaPurse, C7 { 02, package }, C9; signed once.
const Bytes& LuaPurseFile() {
  static const Bytes* file = [] {
    TlvBuilder s;
    s.Add(0x4F, HexOrDie(kLuaPurse)).Add(0x50, ToBytes("LUA PURSE")).Add(0xC0, ToBytes("ACME"));
    s.AddByte(0xC1, 1).Add(0x5F25, Bytes(3, 0)).Add(0x5F24, Bytes(3, 0));
    const Bytes signed_part = s.Take();
    Bytes record = signed_part;
    Append(record, Bytes{0xC2, 0x01, 0x00});
    Append(record, EncodeTlv(0x9E, *crypto::EcdsaP256Sign(SigningKey().private_key, signed_part)));
    Bytes inner = EncodeTlv(0xE1, record);
    Bytes code{0x02};
    Append(code, PursePackage());
    Append(inner, EncodeTlv(0xC7, code));
    Append(inner, EncodeTlv(0xC9, HexOrDie(kLuaPurseParams)));
    Append(inner, EncodeTlv(0x9E, *crypto::EcdsaP256Sign(SigningKey().private_key, inner)));
    return new Bytes(EncodeTlv(0xBF70, inner));
  }();
  return *file;
}

Status InstallLuaPurse(Session& s) {
  TESSERA_ASSIGN_OR_RETURN(auto isd, s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys()));
  return Upload(*isd, LuaPurseFile());
}

// GP INSTALL [for load], LOAD blocks of C4 { package }, INSTALL [for install] of kLuaPurse.
Status LoadLuaPurse(Session& s) {
  TESSERA_ASSIGN_OR_RETURN(auto isd, s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys()));
  const std::string for_load = "05" + kLuaPackage + "00000000";
  TESSERA_RETURN_IF_ERROR(
      Expect(isd->Transmit(HexOrDie("80E60200" + Lc(for_load.size() / 2) + for_load)), "9000",
             "INSTALL [for load]"));
  const Bytes load = EncodeTlv(0xC4, PursePackage());
  const size_t block = 200;
  for (size_t off = 0, n = 0; off < load.size(); off += block, ++n) {
    const size_t len = std::min(block, load.size() - off);
    char head[16];
    std::snprintf(head, sizeof head, "80E8%02X%02X", off + len == load.size() ? 0x80 : 0x00,
                  static_cast<unsigned>(n));
    TESSERA_RETURN_IF_ERROR(
        Expect(isd->Transmit(HexOrDie(head + Lc(len) + ToHex(ByteView(load).subspan(off, len)))),
               "9000", "LOAD"));
  }
  const std::string params = "C9" + Lc(kLuaPurseParams.size() / 2) + kLuaPurseParams;
  const std::string data = "05" + kLuaPackage + "06" + kLuaModule + "06" + kLuaPurse + "0100" +
                           Lc(params.size() / 2) + params + "00";
  return Expect(isd->Transmit(HexOrDie("80E60C00" + Lc(data.size() / 2) + data)), "9000",
                "INSTALL [for install]");
}

std::vector<Case> Cases() {
  auto issuer = [](Session& s) {
    return s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
  };
  return {
      {"install from an installation file", false,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         return Upload(*isd, InstallFile());
       },
       true},
      {"record transitions: lock, unlock, erase, restore, terminate", true,
       [](Session& s) {
         for (uint8_t st : {uint8_t{1}, uint8_t{0}, uint8_t{3}, uint8_t{0}, uint8_t{2}}) {
           TESSERA_RETURN_IF_ERROR(UpdateRecord(s, st));
         }
         return Status::Ok();
       }},
      {"record deletion (ERASE RECORD) with its wipe", true,
       [](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto sc, s.Open(kMgmt, 0x21, AdminKeys()));
         return Expect(sc->Transmit(HexOrDie("840C020C")), "9000", "ERASE RECORD");
       },
       true},
      {"GlobalPlatform SET STATUS: lock, unlock", true,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         TESSERA_RETURN_IF_ERROR(
             Expect(isd->Transmit(HexOrDie("80F04080" + Lc(9) + kApp)), "9000", "lock"));
         return Expect(isd->Transmit(HexOrDie("80F04000" + Lc(9) + kApp)), "9000", "unlock");
       }},
      {"GlobalPlatform DELETE", true,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         return Expect(isd->Transmit(HexOrDie("80E40000" + Lc(11) + "4F09" + kApp)), "9000",
                       "DELETE");
       }},
      {"administrator and trusted date (STORE DATA BF71, DF72)", false,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         TlvBuilder b;
         b.Open(0xBF71).AddByte(0xC1, 2).Add(0xC0, ToBytes("BETA"));
         b.Add(0x86, SigningKey().public_key).Close();
         TESSERA_RETURN_IF_ERROR(Upload(*isd, b.Take()));
         TESSERA_RETURN_IF_ERROR(Upload(*isd, HexOrDie("DF7203270615")));
         return Upload(*isd, HexOrDie("DF7203280101"));
       }},
      {"personalization (INSTALL [for personalization], STORE DATA)", true,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         TESSERA_RETURN_IF_ERROR(
             Expect(isd->Transmit(HexOrDie("80E62000" + Lc(15) + "000009" + kApp + "000000")),
                    "9000", "INSTALL [for personalization]"));
         Bytes data = kSecret;
         Append(data, ToBytes(" personalised"));
         return Upload(*isd, EncodeTlv(0x80, data));
       }},
      {"data store: VERIFY and UPDATE BINARY",
       true,
       [=](Session& s) {
         TESSERA_RETURN_IF_ERROR(
             Expect(s.Transmit(HexOrDie("00A4040C09" + kApp)), "9000", "SELECT"));
         TESSERA_RETURN_IF_ERROR(
             Expect(s.Transmit(HexOrDie("0020008004" + ToHex(kPin))), "9000", "VERIFY"));
         return Expect(s.Transmit(HexOrDie("00D6010008"
                                           "0102030405060708")),
                       "9000", "UPDATE BINARY");
       },
       false,
       {{[](Session&) { return Status::Ok(); }, kApp}}},
      {"purse: install, credit in its session, VERIFY and debit",
       false,
       [=](Session& s) {
         TESSERA_RETURN_IF_ERROR(InstallPurse(s));
         {
           TESSERA_ASSIGN_OR_RETURN(auto ps, s.Open(kPurse, 0x30, crypto::scp03::TestKeys()));
           TESSERA_RETURN_IF_ERROR(
               Expect(ps->Transmit(HexOrDie("8052000004000003E8")), "9000", "CREDIT"));
         }
         TESSERA_RETURN_IF_ERROR(
             Expect(s.Transmit(HexOrDie("00A4040C09" + kPurse)), "9000", "SELECT"));
         TESSERA_RETURN_IF_ERROR(
             Expect(s.Transmit(HexOrDie("002000800431323334")), "9000", "VERIFY"));
         return Expect(s.Transmit(HexOrDie("8054000004000000FA")), "9000", "DEBIT");
       },
       false,
       {{InstallPurse, kPurse}}},
      {"self-issuance: install the issuance application, load a group (STORE DATA BF73)", false,
       [=](Session& s) {
         TESSERA_ASSIGN_OR_RETURN(auto isd, issuer(s));
         const std::string data = "0A" + kIssuanceModule + "0A" + kIssuanceModule + "09" +
                                  kIssuance + "03800000" + "02C900" + "00";
         TESSERA_RETURN_IF_ERROR(
             Expect(isd->Transmit(HexOrDie("80E60C00" + Lc(data.size() / 2) + data)), "9000",
                    "INSTALL issuance"));
         TESSERA_ASSIGN_OR_RETURN(auto iss, s.Open(kIssuance, 0x30, crypto::scp03::TestKeys()));
         const std::string group =
             "47010002"
             "0000000D"
             "00A4040008A000000151000000"
             "00000004"
             "80CA0066";
         TlvBuilder b;
         b.Open(0xBF73).AddByte(0xC1, 1).AddByte(0xC3, 1).AddByte(0xC5, 1);
         b.Add(0xC6, HexOrDie(group)).Close();
         TESSERA_RETURN_IF_ERROR(Upload(*iss, b.Take()));
         // Replacing it is one step too.
         TlvBuilder r;
         r.Open(0xBF73).AddByte(0xC1, 1).AddByte(0xC3, 2).AddByte(0xC5, 1);
         r.Add(0xC6, HexOrDie(group)).Close();
         return Upload(*iss, r.Take());
       }},
      {"applet: install from an installation file with code", false, InstallLuaPurse},
      {"applet: GP LOAD and INSTALL [for install]", false, LoadLuaPurse},
      {"applet: VERIFY and DEBITs that write three files each",
       false,
       [](Session& s) {
         TESSERA_RETURN_IF_ERROR(InstallLuaPurse(s));
         auto tx = [&](const std::string& hex, const std::string& sw) {
           return Expect(s.Transmit(HexOrDie(hex)), sw, hex);
         };
         TESSERA_RETURN_IF_ERROR(tx("00A4040C06" + kLuaPurse, "9000"));
         TESSERA_RETURN_IF_ERROR(tx("002000800431313131", "63C2"));
         TESSERA_RETURN_IF_ERROR(tx("002000800439393939", "9000"));
         TESSERA_RETURN_IF_ERROR(tx("80540000040000000A", "9000"));
         return tx("805400000400000005", "9000");
       },
       false,
       {{InstallLuaPurse, kLuaPurse}}},
      {"applet: package deletion with its applications and the wipe", false,
       [](Session& s) {
         TESSERA_RETURN_IF_ERROR(LoadLuaPurse(s));
         TESSERA_ASSIGN_OR_RETURN(auto isd,
                                  s.Open("A000000151000000", 0x30, crypto::scp03::TestKeys()));
         return Expect(isd->Transmit(HexOrDie("80E40080074F05" + kLuaPackage)), "9000",
                       "DELETE package");
       }},
  };
}

TEST(AppTearTest, EveryCutLeavesOldOrNewAndTheViewsAgree) {
  uint64_t cuts = 0, recovery_cuts = 0;
  for (const Case& c : Cases()) {
    for (auto mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
      TearOptions o;
      o.mode = mode;
      std::vector<uint32_t> pins;
      for (const auto& [prepare, aid] : c.pin_holders) {
        const auto at = TriesOffset(Base(c.with_app), prepare, aid);
        ASSERT_TRUE(at.has_value()) << c.name << ": no PIN tries byte found";
        pins.push_back(*at);
      }
      auto stats = RunAtEveryCutPoint(MakeScenario(c.name, c.with_app, c.script, pins), o);
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      cuts += stats->cut_points;
      recovery_cuts += stats->recovery_cut_points;
    }
  }
  std::printf("app tear: %llu cut points over %zu scenarios, plus %llu cuts during recovery\n",
              static_cast<unsigned long long>(cuts), Cases().size(),
              static_cast<unsigned long long>(recovery_cuts));
}

// A cut, then the host's retry cut again: at every pair of cut points the card ends in the state
// before or after the operation, by what it shows (the raw bytes differ: each attempt opens a
// session and moves counters).
TEST(AppTearTest, EveryPairOfCutsDuringARetryLeavesOldOrNew) {
  uint64_t pairs = 0;
  for (const Case& c : Cases()) {
    if (!c.pairs) continue;
    TearScenario sc = MakeScenario(c.name, c.with_app, c.script);
    // The views before and after, and how many programs one uncut run takes.
    auto before = ReadView(*sc.initial);
    ASSERT_TRUE(before.ok());
    auto ref = nvm::RamNvm::CopyOf(*sc.initial);
    ASSERT_TRUE(sc.run(ref->device(), [] {}).ok());
    auto after = ReadView(ref->device());
    ASSERT_TRUE(after.ok());
    const uint64_t n = ref->device().programs();
    for (uint64_t k1 = 0; k1 < n; ++k1) {
      auto first = nvm::RamNvm::CopyOf(*sc.initial);
      first->device().ScheduleCut(k1, nvm::TearMode::kNormal, k1);
      (void)sc.run(first->device(), [] {});
      first->device().CancelCut();
      first->device().PowerOn();
      // The retry: the same operation again (an install that already happened answers 6A89,
      // a deletion that already happened finds no record: both leave "after").
      auto probe = nvm::RamNvm::CopyOf(first->device());
      const uint64_t start = probe->device().programs();
      (void)sc.run(probe->device(), [] {});
      const uint64_t m = probe->device().programs() - start;
      for (uint64_t k2 = 0; k2 < m; k2 += 1) {
        auto second = nvm::RamNvm::CopyOf(first->device());
        second->device().ScheduleCut(k2, nvm::TearMode::kNormal, k1 * 1000 + k2);
        (void)sc.run(second->device(), [] {});
        second->device().CancelCut();
        second->device().PowerOn();
        auto v = ReadView(second->device());
        ASSERT_TRUE(v.ok()) << c.name << ": cuts " << k1 << ", " << k2 << ": "
                            << v.status().ToString();
        ASSERT_TRUE(CheckInvariants(*v).ok())
            << c.name << ": cuts " << k1 << ", " << k2 << ": " << CheckInvariants(*v).ToString();
        const std::string got = v->Describe();
        ASSERT_TRUE(got == before->Describe() || got == after->Describe())
            << c.name << ": cuts " << k1 << ", " << k2 << " left " << got
            << "\nbefore: " << before->Describe() << "\nafter:  " << after->Describe();
        ++pairs;
      }
    }
  }
  std::printf("app tear: %llu pairs of cut points\n", static_cast<unsigned long long>(pairs));
}

// The view check is the oracle of both tests: it must reject each kind of disagreement.
TEST(AppTearTest, TheViewCheckRejectsEveryDisagreement) {
  View good;
  good.records = {{kDemo, 0}, {kApp, 1}};
  good.gp = {{kMgmt, 7}, {kDemo, 7}, {kApp, 0x83}};
  good.pse = {kDemo};
  good.select = {{kDemo, "9000"}, {kApp, "6283"}};
  ASSERT_TRUE(CheckInvariants(good).ok()) << CheckInvariants(good).ToString();
  View v = good;
  v.gp[kApp] = 7;  // GP says active, the record locked
  EXPECT_FALSE(CheckInvariants(v).ok());
  v = good;
  v.records.pop_back();  // an application without its record
  v.select.erase(kApp);
  EXPECT_FALSE(CheckInvariants(v).ok());
  v = good;
  v.pse.push_back(kApp);  // a locked application in the PSE
  EXPECT_FALSE(CheckInvariants(v).ok());
  v = good;
  v.select[kApp] = "9000";  // selectable though locked
  EXPECT_FALSE(CheckInvariants(v).ok());
  v = good;
  v.records = {{kDemo, 0}};  // deleted, yet it answers SELECT
  v.gp.erase(kApp);
  EXPECT_FALSE(CheckInvariants(v).ok());
  v = good;
  v.records.back().second = 3;  // erased, yet GET STATUS lists it
  v.select[kApp] = "6A82";
  EXPECT_FALSE(CheckInvariants(v).ok());
}

}  // namespace
}  // namespace tessera::card
