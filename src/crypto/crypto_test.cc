// Known-answer tests from published vectors: FIPS 197, SP 800-38A, RFC 4493, FIPS 180-2,
// RFC 6979 (P-256, SHA-256), and the GlobalPlatform AES key check value.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstring>
#include <optional>

#include "core/secure_bytes.h"
#include "crypto/aes.h"
#include "crypto/drbg.h"
#include "crypto/ecdsa.h"
#include "crypto/secure_buffer.h"
#include "crypto/sha256.h"

namespace tessera::crypto {
namespace {

std::string Hex(const Result<Bytes>& r) {
  return r.ok() ? ToHex(*r) : r.status().ToString();
}

TEST(Aes, Fips197AppendixC) {
  Bytes pt = HexOrDie("00112233445566778899aabbccddeeff");
  EXPECT_EQ(Hex(AesEcbEncrypt(HexOrDie("000102030405060708090a0b0c0d0e0f"), pt)),
            "69C4E0D86A7B0430D8CDB78070B4C55A");
  EXPECT_EQ(Hex(AesEcbEncrypt(HexOrDie("000102030405060708090a0b0c0d0e0f1011121314151617"), pt)),
            "DDA97CA4864CDFE06EAF70A0EC0D7191");
  Bytes k256 = HexOrDie("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(Hex(AesEcbEncrypt(k256, pt)), "8EA2B7CA516745BFEAFC49904B496089");
  EXPECT_EQ(Hex(AesEcbDecrypt(k256, HexOrDie("8EA2B7CA516745BFEAFC49904B496089"))), ToHex(pt));
}

TEST(Aes, Sp800_38aCbc) {
  Bytes key = HexOrDie("2b7e151628aed2a6abf7158809cf4f3c");
  Bytes iv = HexOrDie("000102030405060708090a0b0c0d0e0f");
  Bytes pt = HexOrDie("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  EXPECT_EQ(Hex(AesCbcEncrypt(key, iv, pt)),
            "7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B2");
  auto ct = AesCbcEncrypt(key, iv, pt);
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(Hex(AesCbcDecrypt(key, iv, *ct)), ToHex(pt));
}

TEST(Aes, RefusesBadLengths) {
  EXPECT_EQ(AesEcbEncrypt(Bytes(15), Bytes(16)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AesEcbEncrypt(Bytes(16), Bytes(15)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AesCbcEncrypt(Bytes(16), Bytes(8), Bytes(16)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AesCmac(Bytes(20), Bytes(1)).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Aes, GlobalPlatformKeyCheckValue) {
  // KCV = first 3 bytes of AES-ECB(key, 01 x 16) (GP Amendment D, PUT KEY).
  auto enc = AesEcbEncrypt(HexOrDie("000102030405060708090a0b0c0d0e0f"), Bytes(16, 0x01));
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(ToHex(ByteView(*enc).first(3)), "C35280");
}

TEST(Cmac, Rfc4493) {
  Bytes key = HexOrDie("2b7e151628aed2a6abf7158809cf4f3c");
  Bytes m = HexOrDie(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  EXPECT_EQ(Hex(AesCmac(key, {})), "BB1D6929E95937287FA37D129B756746");
  EXPECT_EQ(Hex(AesCmac(key, ByteView(m).first(16))), "070A16B46B4D4144F79BDD9DD04A287C");
  EXPECT_EQ(Hex(AesCmac(key, ByteView(m).first(40))), "DFA66747DE9AE63030CA32611497C827");
  EXPECT_EQ(Hex(AesCmac(key, m)), "51F0BEBF7E3B9D92FC49741779363CFE");
  // The prepared key (CMAC computed over an ECB context with its own subkeys) on the same
  // vectors, including the subkey cases: empty (K2), whole blocks (K1), partial (K2).
  auto prepared = AesCmacKey::Create(key);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(Hex(prepared->Mac({})), "BB1D6929E95937287FA37D129B756746");
  EXPECT_EQ(Hex(prepared->Mac(ByteView(m).first(16))), "070A16B46B4D4144F79BDD9DD04A287C");
  EXPECT_EQ(Hex(prepared->Mac(ByteView(m).first(40))), "DFA66747DE9AE63030CA32611497C827");
  EXPECT_EQ(Hex(prepared->Mac(m)), "51F0BEBF7E3B9D92FC49741779363CFE");
}

// RFC 4231 test cases 1 and 2.
TEST(Sha256Test, HmacRfc4231Vectors) {
  EXPECT_EQ(ToHex(HmacSha256(Bytes(20, 0x0B), ToBytes("Hi There"))),
            "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
  EXPECT_EQ(ToHex(HmacSha256(ToBytes("Jefe"), ToBytes("what do ya want for nothing?"))),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
}

TEST(Sha256Test, Fips180Vectors) {
  EXPECT_EQ(ToHex(Sha256(ToBytes("abc"))),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(ToHex(Sha256({})), "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  EXPECT_EQ(ToHex(Sha256(ToBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1");
}

// RFC 6979 appendix A.2.5: P-256 key, SHA-256, message "sample".
constexpr const char* kRfc6979Private =
    "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
constexpr const char* kRfc6979Public =
    "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
constexpr const char* kRfc6979SampleSig =
    "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

TEST(Ecdsa, PublicKeyFromPrivateMatchesRfc6979) {
  EXPECT_EQ(Hex(P256PublicKeyFromPrivate(HexOrDie(kRfc6979Private))), kRfc6979Public);
}

TEST(Ecdsa, VerifiesRfc6979Vector) {
  Bytes pub = HexOrDie(kRfc6979Public);
  Bytes sig = HexOrDie(kRfc6979SampleSig);
  EXPECT_TRUE(EcdsaP256Verify(pub, ToBytes("sample"), sig).ok());
  EXPECT_FALSE(EcdsaP256Verify(pub, ToBytes("samplf"), sig).ok());
  sig[63] ^= 0x01;
  EXPECT_EQ(EcdsaP256Verify(pub, ToBytes("sample"), sig).code(), ErrorCode::kFailedPrecondition);
}

TEST(Ecdsa, SignVerifyRoundTrip) {
  auto pair = GenerateP256KeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  auto sig = EcdsaP256Sign(pair->private_key, ToBytes("record"));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(EcdsaP256Verify(pair->public_key, ToBytes("record"), *sig).ok());
  EXPECT_FALSE(EcdsaP256Verify(HexOrDie(kRfc6979Public), ToBytes("record"), *sig).ok());
}

TEST(Ecdsa, RefusesMalformedKeysAndSignatures) {
  Bytes sig = HexOrDie(kRfc6979SampleSig);
  Bytes off_curve = HexOrDie(kRfc6979Public);
  off_curve[64] ^= 0x01;
  EXPECT_EQ(EcdsaP256Verify(off_curve, ToBytes("sample"), sig).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(EcdsaP256Verify(Bytes(65, 0), ToBytes("sample"), sig).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(EcdsaP256Verify(HexOrDie(kRfc6979Public), ToBytes("sample"), Bytes(63)).code(),
            ErrorCode::kInvalidArgument);
  // r = s = 0 is well-formed in length but never valid.
  EXPECT_FALSE(EcdsaP256Verify(HexOrDie(kRfc6979Public), ToBytes("sample"), Bytes(64)).ok());
  EXPECT_EQ(P256PublicKeyFromPrivate(Bytes(32, 0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(P256PublicKeyFromPrivate(Bytes(32, 0xFF)).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Ecdsa, ChecksPublicPoints) {
  EXPECT_TRUE(CheckP256PublicKey(HexOrDie(kRfc6979Public)).ok());
  Bytes off_curve = HexOrDie(kRfc6979Public);
  off_curve[64] ^= 0x01;
  EXPECT_EQ(CheckP256PublicKey(off_curve).code(), ErrorCode::kInvalidArgument);
  Bytes beyond_p = HexOrDie(kRfc6979Public);
  std::fill(beyond_p.begin() + 1, beyond_p.begin() + 33, 0xFF);
  EXPECT_EQ(CheckP256PublicKey(beyond_p).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckP256PublicKey(Bytes(65, 0)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckP256PublicKey(ByteView(HexOrDie(kRfc6979Public)).first(64)).code(),
            ErrorCode::kInvalidArgument);
}

// Cross-checks our CTR_DRBG against OpenSSL's independent implementation, fed the same entropy
// through its TEST-RAND source.
Bytes OpenSslCtrDrbg(ByteView entropy, ByteView personalization, ByteView adin, size_t n,
                     int generates) {
  EVP_RAND* test_rand = EVP_RAND_fetch(nullptr, "TEST-RAND", nullptr);
  EVP_RAND* ctr = EVP_RAND_fetch(nullptr, "CTR-DRBG", nullptr);
  EXPECT_NE(test_rand, nullptr);
  EXPECT_NE(ctr, nullptr);
  EVP_RAND_CTX* parent = EVP_RAND_CTX_new(test_rand, nullptr);
  unsigned int strength = 256;
  OSSL_PARAM pp[] = {
      OSSL_PARAM_construct_uint(OSSL_RAND_PARAM_STRENGTH, &strength),
      OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_ENTROPY,
                                        const_cast<uint8_t*>(entropy.data()), entropy.size()),
      OSSL_PARAM_construct_end()};
  EXPECT_EQ(EVP_RAND_instantiate(parent, strength, 0, nullptr, 0, pp), 1);
  EVP_RAND_CTX* drbg = EVP_RAND_CTX_new(ctr, parent);
  int use_df = 0;
  OSSL_PARAM dp[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, const_cast<char*>("AES-256-CTR"), 0),
      OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df), OSSL_PARAM_construct_end()};
  EXPECT_EQ(
      EVP_RAND_instantiate(drbg, strength, 0, personalization.data(), personalization.size(), dp),
      1);
  Bytes out(n);
  for (int i = 0; i < generates; ++i) {
    EXPECT_EQ(EVP_RAND_generate(drbg, out.data(), n, strength, 0, adin.data(), adin.size()), 1);
  }
  EVP_RAND_CTX_free(drbg);
  EVP_RAND_CTX_free(parent);
  EVP_RAND_free(ctr);
  EVP_RAND_free(test_rand);
  return out;
}

TEST(Drbg, MatchesOpenSslCtrDrbgWithoutDf) {
  Bytes entropy(48);
  for (size_t i = 0; i < entropy.size(); ++i) entropy[i] = static_cast<uint8_t>(i * 7 + 3);
  Bytes pers = HexOrDie("5445535345524120706572736F6E616C");
  Bytes adin = HexOrDie("000102030405060708090A0B0C0D0E0F1011");
  for (size_t n : {16u, 20u, 64u}) {
    auto d = CtrDrbg::Instantiate(entropy, pers);
    ASSERT_TRUE(d.ok());
    Bytes ours(n);
    ASSERT_TRUE(d->Generate(ours, adin).ok());
    ASSERT_TRUE(d->Generate(ours, adin).ok());
    EXPECT_EQ(ToHex(ours), ToHex(OpenSslCtrDrbg(entropy, pers, adin, n, 2))) << n;
  }
}

TEST(Drbg, DeterministicPerSeedAndAdvances) {
  Bytes seed(48, 0x42);
  auto a = CtrDrbg::Instantiate(seed);
  auto b = CtrDrbg::Instantiate(seed);
  ASSERT_TRUE(a.ok() && b.ok());
  Bytes x(32), y(32), z(32);
  ASSERT_TRUE(a->Generate(x).ok());
  ASSERT_TRUE(b->Generate(y).ok());
  EXPECT_EQ(x, y);
  ASSERT_TRUE(a->Generate(z).ok());
  EXPECT_NE(x, z);
  ASSERT_TRUE(b->Reseed(Bytes(48, 0x43)).ok());
  ASSERT_TRUE(b->Generate(y).ok());
  EXPECT_NE(y, z);
  EXPECT_EQ(CtrDrbg::Instantiate(Bytes(47)).status().code(), ErrorCode::kInvalidArgument);
  auto sys = CtrDrbg::FromSystemEntropy();
  ASSERT_TRUE(sys.ok());
  Bytes big(CtrDrbg::kMaxRequest + 1);
  EXPECT_EQ(sys->Generate(big).code(), ErrorCode::kInvalidArgument);
}

// What the zeroising allocator hands back to the heap, as seen through its test hook
// (SetZeroedBlockObserver). The observer copies each block into static storage (no allocation
// inside the hook) and records whether every byte of it was zero at that moment.
struct ObservedBlock {
  const void* address;
  size_t size;
  bool all_zero;
};
constexpr size_t kMaxObservedBlocks = 8;
constexpr size_t kMaxObservedBytes = 4096;
ObservedBlock g_observed[kMaxObservedBlocks];
size_t g_observed_count = 0;
bool g_observed_overflow = false;
uint8_t g_observed_copy[kMaxObservedBytes];

void RecordZeroedBlock(const void* p, size_t n) {
  if (g_observed_count == kMaxObservedBlocks || n > kMaxObservedBytes) {
    g_observed_overflow = true;
    return;
  }
  std::memcpy(g_observed_copy, p, n);
  bool all_zero = true;
  for (size_t i = 0; i < n; ++i) all_zero = all_zero && g_observed_copy[i] == 0;
  g_observed[g_observed_count++] = {p, n, all_zero};
}

class ZeroedBlockRecorder {
 public:
  ZeroedBlockRecorder() {
    g_observed_count = 0;
    g_observed_overflow = false;
    SetZeroedBlockObserver(&RecordZeroedBlock);
  }
  ~ZeroedBlockRecorder() { SetZeroedBlockObserver(nullptr); }
  ZeroedBlockRecorder(const ZeroedBlockRecorder&) = delete;
  ZeroedBlockRecorder& operator=(const ZeroedBlockRecorder&) = delete;
};

TEST(SecureBufferTest, ZeroisesOnDeallocate) {
  const Bytes key_bytes = HexOrDie("404142434445464748494A4B4C4D4E4F");
  {
    ZeroedBlockRecorder recorder;

    // Negative control: a block that still holds key bytes is flagged by the check.
    uint8_t not_wiped[16];
    std::memcpy(not_wiped, key_bytes.data(), sizeof not_wiped);
    NotifyZeroedBlock(not_wiped, sizeof not_wiped);
    ASSERT_EQ(g_observed_count, 1u);
    EXPECT_EQ(g_observed[0].address, static_cast<const void*>(not_wiped));
    EXPECT_EQ(g_observed[0].size, sizeof not_wiped);
    EXPECT_FALSE(g_observed[0].all_zero);
    g_observed_count = 0;

    // The allocator on its own: a block filled with 0xA5 reaches the heap as zeros.
    ZeroizingAllocator<uint8_t> alloc;
    uint8_t* raw = alloc.allocate(32);
    std::memset(raw, 0xA5, 32);
    const void* raw_address = raw;  // compared after the free, never dereferenced
    alloc.deallocate(raw, 32);
    ASSERT_EQ(g_observed_count, 1u);
    EXPECT_EQ(g_observed[0].address, raw_address);
    EXPECT_EQ(g_observed[0].size, 32u);
    EXPECT_TRUE(g_observed[0].all_zero);
    g_observed_count = 0;

    {
      std::optional<SecureBuffer> holder(std::in_place, key_bytes.begin(), key_bytes.end());
      SecureBuffer& key = *holder;
      ASSERT_EQ(key.size(), 16u);
      EXPECT_EQ(key[0], 0x40);
      EXPECT_EQ(g_observed_count, 0u);

      // Fill the buffer to capacity with key bytes, then grow it past capacity: the old block
      // must be reported, exactly as allocated, and zeroed.
      while (key.size() < key.capacity()) key.push_back(key_bytes[key.size() % key_bytes.size()]);
      const void* old_data = key.data();
      const size_t old_capacity = key.capacity();
      key.push_back(0x99);
      ASSERT_NE(static_cast<const void*>(key.data()), old_data);
      ASSERT_EQ(g_observed_count, 1u);
      EXPECT_EQ(g_observed[0].address, old_data);
      EXPECT_EQ(g_observed[0].size, old_capacity);
      EXPECT_TRUE(g_observed[0].all_zero);
      // The contents moved to the new block intact.
      EXPECT_EQ(key[0], 0x40);
      EXPECT_EQ(key[15], 0x4F);
      EXPECT_EQ(key.back(), 0x99);

      // Destroying the buffer hands its current block back, zeroed.
      const void* data = key.data();
      const size_t capacity = key.capacity();
      holder.reset();
      ASSERT_EQ(g_observed_count, 2u);
      EXPECT_EQ(g_observed[1].address, data);
      EXPECT_EQ(g_observed[1].size, capacity);
      EXPECT_TRUE(g_observed[1].all_zero);
    }
    EXPECT_EQ(g_observed_count, 2u);
    EXPECT_FALSE(g_observed_overflow);
  }
  // The recorder removed the observer: later deallocations are not seen.
  g_observed_count = 0;
  { SecureBuffer other = MakeSecure(key_bytes); }
  EXPECT_EQ(g_observed_count, 0u);
}

}  // namespace
}  // namespace tessera::crypto
