// The host's parsers of what the issuance application answers (tools/issuance_protocol.h):
// the E5 response template of EXECUTE ISSUANCE and the file management table record.
//
// A template that parses holds every mandatory field; written again from its fields (in the
// order docs/self-issuance.md §5 lists them) it parses to the same report. A table record that
// parses lies inside its input, and its target has at most 16 bytes.
#include <cstdint>
#include <cstdlib>

#include "core/tlv.h"
#include "host/issuance_protocol.h"

using namespace tessera;
using namespace tessera::host;

namespace {

Bytes U16(uint16_t v) {
  return Bytes{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

Bytes Template(const RunReport& r) {
  Bytes body;
  AppendTlv(body, 0xC1, Bytes{r.function});
  AppendTlv(body, 0x80, Bytes{r.state});
  AppendTlv(body, 0x81, U16(r.count));
  AppendTlv(body, 0x82, U16(r.succeeded));
  AppendTlv(body, 0x83, Bytes(r.bitmap.begin(), r.bitmap.end()));
  AppendTlv(body, 0x84, U16(r.first_pending));
  AppendTlv(body, 0x85, U16(r.failed_sw));
  AppendTlv(body, 0xC8, Bytes(r.run_id.begin(), r.run_id.end()));
  AppendTlv(body, 0x86, Bytes{static_cast<uint8_t>(r.acknowledged ? 1 : 0)});
  if (!r.target.empty()) AppendTlv(body, 0x4F, r.target);
  return EncodeTlv(0xE5, body);
}

bool Same(const RunReport& a, const RunReport& b) {
  return a.function == b.function && a.state == b.state && a.count == b.count &&
         a.succeeded == b.succeeded && a.bitmap == b.bitmap && a.first_pending == b.first_pending &&
         a.failed_sw == b.failed_sw && a.run_id == b.run_id && a.acknowledged == b.acknowledged &&
         a.target == b.target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  auto report = ParseRunReport(in);
  if (report.ok()) {
    if (report->target.size() > 16) std::abort();
    (void)RunStateName(report->state);
    size_t done = 0;
    for (size_t i = 0; i < 256; ++i) done += report->done(i) ? 1 : 0;
    (void)done;
    auto again = ParseRunReport(Template(*report));
    if (!again.ok() || !Same(*report, *again)) std::abort();
  }
  if (size > 0) {
    auto t = ParseTableRecord(in, data[0], 0);
    if (t) {
      if (t->target.size() > 16 || t->digest.size() != 32) std::abort();
      if (t->function != data[0]) std::abort();
    }
  }
  return 0;
}
