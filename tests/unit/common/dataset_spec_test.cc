// ParseDatasetSpec / SerializeDatasetSpec / ConfigHash on the fixtures in
// tests/testdata/specs: good/ must parse (and match golden/ when present), bad/
// must fail with every "# error: ..." substring its header lists.
#include "common/dataset_spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/dataset_spec_validate.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

// Concatenation by append: gcc 12 at -O3 reports false -Wstringop-overflow /
// -Wrestrict on `"literal" + std::string`.
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

const fs::path kSpecDir = fs::path(FERRY_SOURCE_DIR) / "tests/testdata/specs";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> YamlFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ExpectedErrors(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view kTag = "# error: ";
    if (line.starts_with(kTag)) out.push_back(line.substr(kTag.size()));
  }
  return out;
}

TEST(DatasetSpecFixtures, GoodSpecsParseAndRoundTrip) {
  std::vector<fs::path> files = YamlFiles(kSpecDir / "good");
  ASSERT_GE(files.size(), 20u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(ReadFile(f));
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    std::string text = SerializeDatasetSpec(*spec);
    StatusOr<DatasetSpec> again = ParseDatasetSpec(text);
    ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
    EXPECT_EQ(*again, *spec) << text;
    EXPECT_EQ(SerializeDatasetSpec(*again), text);

    fs::path golden = kSpecDir / "golden" / f.filename();
    if (std::getenv("FERRY_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(golden, std::ios::binary) << text;
    }
    ASSERT_TRUE(fs::exists(golden)) << "missing " << golden << " (FERRY_UPDATE_GOLDEN=1 writes it)";
    EXPECT_EQ(text, ReadFile(golden));
  }
}

TEST(DatasetSpecFixtures, BadSpecsFailWithHelpfulMessages) {
  std::vector<fs::path> files = YamlFiles(kSpecDir / "bad");
  ASSERT_GE(files.size(), 40u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    std::string text = ReadFile(f);
    std::vector<std::string> expected = ExpectedErrors(text);
    ASSERT_FALSE(expected.empty()) << "a bad fixture needs a '# error: ' header line";
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(text);
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    for (const std::string& want : expected) {
      EXPECT_NE(spec.status().message().find(want), std::string_view::npos)
          << "want: " << want << "\ngot:  " << spec.status().message();
    }
  }
}

TEST(DatasetSpec, DesignExampleFields) {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(ReadFile(kSpecDir / "good/native-basic.yaml"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->mounts.size(), 1u);
  const MountSpec& m = spec->mounts[0];
  EXPECT_EQ(m.name, "imagenet");
  EXPECT_EQ(m.source, "s3://bucket/prefix/");
  EXPECT_EQ(m.scheme, "s3");
  EXPECT_EQ(m.options, (std::map<std::string, std::string>{
                           {"endpoint", "https://oss-cn-shanghai.aliyuncs.com"}}));
  EXPECT_EQ(m.credentials, "imagenet");
  EXPECT_EQ(m.cache.preload, std::vector<std::string>{"train/**"});
  EXPECT_TRUE(m.read_only);
}

TEST(DatasetSpec, DefaultsAndSchemes) {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(ReadFile(kSpecDir / "good/all-schemes.yaml"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  std::vector<std::string> schemes;
  for (const MountSpec& m : spec->mounts) schemes.push_back(m.scheme);
  EXPECT_EQ(schemes, (std::vector<std::string>{"s3", "oss", "http", "https", "local", "exec",
                                               "exec"}));
  EXPECT_TRUE(spec->mounts[1].read_only);   // default
  EXPECT_FALSE(spec->mounts[4].read_only);  // readOnly: false
  EXPECT_TRUE(spec->mounts[1].credentials.empty());
}

TEST(DatasetSpec, EmptyInputsAreValidEmptySpecs) {
  for (const char* text : {"", "\n", "# only a comment\n", "mounts: []\n", "mounts:\n", "---\n",
                           "mounts: []\n---\n"}) {
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(text);
    ASSERT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
    EXPECT_TRUE(spec->mounts.empty());
  }
  EXPECT_EQ(SerializeDatasetSpec(DatasetSpec{}), "mounts: []\n");
}

TEST(DatasetSpec, OptionScalarsAreCoercedToText) {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(ReadFile(kSpecDir / "good/options-coerced.yaml"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const auto& o = spec->mounts[0].options;
  EXPECT_EQ(o.at("retries"), "3");
  EXPECT_EQ(o.at("ratio"), "1.50");
  EXPECT_EQ(o.at("anonymous"), "true");
  EXPECT_EQ(o.at("octal"), "0755");
  EXPECT_EQ(o.at("empty"), "");
}

TEST(DatasetSpec, ErrorsNameIndexNameFieldAndLine) {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(
      "mounts:\n"
      "  - name: ok\n"
      "    source: local:///ok\n"
      "  - name: imagenet\n"
      "    source: ftp://x\n");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "mounts[1] \"imagenet\": source \"ftp://x\": unsupported scheme \"ftp\"; use s3://, "
            "oss://, http://, https://, local:// or exec:// (line 4)");
}

TEST(DatasetSpec, InvalidUtf8AndNulAreRefused) {
  // Fuzzer find: invalid UTF-8 inside a quoted source did not survive Serialize.
  StatusOr<DatasetSpec> raw = ParseDatasetSpec("mounts: [{name: a, source: \"local:///d\xf4\"}]\n");
  ASSERT_FALSE(raw.ok());
  EXPECT_NE(raw.status().message().find("not valid UTF-8 (byte 38)"), std::string_view::npos)
      << raw.status().message();
  StatusOr<DatasetSpec> surrogate =
      ParseDatasetSpec("mounts: [{name: a, source: \"local:///d\\ud800\"}]\n");
  ASSERT_FALSE(surrogate.ok());
  EXPECT_NE(surrogate.status().message().find("invalid unicode"), std::string_view::npos);
  StatusOr<DatasetSpec> nul =
      ParseDatasetSpec("mounts: [{name: a, source: local:///d, options: {k: \"a\\0b\"}}]\n");
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(),
            "mounts[0] \"a\": options \"k\": contains a NUL byte or invalid UTF-8 (from an escape "
            "sequence); write the text plainly (line 1)");
}

TEST(DatasetSpec, AliasesShareOptionsButCannotAmplify) {
  StatusOr<DatasetSpec> shared = ParseDatasetSpec(
      "x-common: &opts {endpoint: 'http://127.0.0.1:9000', style: path}\n");
  ASSERT_FALSE(shared.ok());  // unknown top-level field, even as an anchor holder
  StatusOr<DatasetSpec> ok = ParseDatasetSpec(
      "mounts:\n"
      "  - {name: a, source: 's3://bucket-a/', options: &opts {endpoint: 'http://h:9', style: path}}\n"
      "  - {name: b, source: 's3://bucket-b/', options: *opts}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->mounts[0].options, ok->mounts[1].options);

  // Many mounts, each aliasing one big preload list.
  std::string bomb = "mounts:\n  - {name: m0, source: 'local:///a', cache: {preload: &p [";
  for (int i = 0; i < 20000; ++i) bomb += (i ? ",f" : "f");
  bomb += "]}}\n";
  for (int i = 1; i < 2000; ++i) {
    bomb += Cat("  - {name: m", std::to_string(i), ", source: 'local:///a', cache: {preload: *p}}\n");
  }
  StatusOr<DatasetSpec> refused = ParseDatasetSpec(bomb);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("aliases (*name) expanded"), std::string_view::npos);
}

TEST(DatasetSpec, FluidSharedOptionsCannotAmplify) {
  std::string text =
      "apiVersion: data.fluid.io/v1alpha1\nkind: Dataset\nmetadata: {name: d}\nspec:\n"
      "  sharedOptions:\n";
  for (int i = 0; i < 2000; ++i) {
    text += Cat("    k", std::to_string(i), ": ", std::string(200, 'v'), "\n");
  }
  text += "  mounts:\n";
  for (int i = 0; i < 2000; ++i) {
    text += Cat("    - {name: m", std::to_string(i), ", mountPoint: 'local:///a'}\n");
  }
  ASSERT_LT(text.size(), spec_internal::kMaxSpecBytes);
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(text);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("sharedOptions: copied into 2000 mounts"),
            std::string_view::npos)
      << spec.status().message();
}

TEST(DatasetSpec, SizeLimitIsOneMebibyte) {
  std::string ok = "mounts: []\n";
  ok += std::string(spec_internal::kMaxSpecBytes - ok.size() - 1, '#') + "\n";
  ASSERT_EQ(ok.size(), 1u << 20);
  EXPECT_TRUE(ParseDatasetSpec(ok).ok());
  StatusOr<DatasetSpec> big = ParseDatasetSpec(ok + "\n");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("at most 1 MiB"), std::string_view::npos);
}

TEST(DatasetSpec, SerializeRoundTripsAwkwardStrings) {
  DatasetSpec spec;
  MountSpec m;
  m.name = "awkward";
  m.source = "https://example.com/a b/#frag?x=1";
  m.scheme = "https";
  int i = 0;
  for (const char* v : {"", "null", "~", "true", "no", " lead", "trail ", "a: b", "#x", "- x",
                        "x\ty", "line\nbreak", "123", "0x1F", "*alias", "&anchor", "!tag", "'q",
                        "\"dq", "{a}", "[a]", "%x", "@x", "`x", "ünï ✓", "|", ">", "?"}) {
    std::string key = "k";  // not "k" + to_string(): gcc 12 -O3 warns falsely on it
    key += std::to_string(i++);
    m.options[key] = v;
  }
  m.options["key with spaces: and colon"] = "v";
  m.options["cr"] = "AKIAEXAMPLE\r";  // fuzzer find: emitted plain, read back without \r
  m.options["del"] = "a\x7f\x01b";
  m.credentials = "cred.prefix_1";
  m.cache.preload = {"train/**", "*.jpg", "[ab]/c"};
  m.read_only = false;
  spec.mounts.push_back(m);
  std::string text = SerializeDatasetSpec(spec);
  StatusOr<DatasetSpec> again = ParseDatasetSpec(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(*again, spec) << text;
}

MountSpec HashBase() {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(
      "mounts:\n"
      "  - name: data\n"
      "    source: s3://bucket/prefix/\n"
      "    options: {endpoint: 'http://127.0.0.1:9000', region: us-east-1}\n"
      "    credentials: data\n"
      "    cache: {preload: [a/**]}\n");
  FERRY_CHECK(spec.ok());
  return spec->mounts.at(0);
}

TEST(DatasetSpecHash, SameSpecInAnotherKeyOrderHashesTheSame) {
  StatusOr<DatasetSpec> reordered = ParseDatasetSpec(
      "mounts:\n"
      "  - cache: {preload: [a/**]}\n"
      "    readOnly: true\n"
      "    credentials: data\n"
      "    options:\n"
      "      region: us-east-1\n"
      "      endpoint: http://127.0.0.1:9000\n"
      "    source: s3://bucket/prefix/\n"
      "    name: data\n");
  ASSERT_TRUE(reordered.ok()) << reordered.status().ToString();
  EXPECT_EQ(reordered->mounts[0].ConfigHash(), HashBase().ConfigHash());
}

TEST(DatasetSpecHash, RemountFieldsChangeTheHashPreloadAndNameDoNot) {
  const MountSpec base = HashBase();
  const std::string h = base.ConfigHash();
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);

  MountSpec m = base;
  m.options["region"] = "eu-west-1";
  EXPECT_NE(m.ConfigHash(), h);
  m = base;
  m.options["extra"] = "";
  EXPECT_NE(m.ConfigHash(), h);
  m = base;
  m.source = "s3://bucket/prefix2/";
  EXPECT_NE(m.ConfigHash(), h);
  m = base;
  m.credentials = "other";
  EXPECT_NE(m.ConfigHash(), h);
  m = base;
  m.read_only = false;
  EXPECT_NE(m.ConfigHash(), h);
  // Field boundaries are length-prefixed: moving bytes between fields changes it.
  m = base;
  m.options = {{"endpointhttp", "://127.0.0.1:9000"}, {"region", "us-east-1"}};
  EXPECT_NE(m.ConfigHash(), h);

  m = base;
  m.cache.preload = {"b/**", "c"};
  EXPECT_EQ(m.ConfigHash(), h);
  m = base;
  m.name = "renamed";
  EXPECT_EQ(m.ConfigHash(), h);
}

TEST(DatasetSpecHash, DigestIsStableAcrossBuilds) {
  // Pinned: a change here remounts every dataset of every pod on upgrade.
  MountSpec m;
  m.source = "local:///data";
  m.scheme = "local";
  EXPECT_EQ(m.ConfigHash(), spec_internal::Sha256Hex("ferry.mount.v113:local:///data1:00:2:ro")
                                .substr(0, 16));
  EXPECT_EQ(m.ConfigHash(), "01ba107e1bf82ae8");
}

TEST(DatasetSpecHash, Sha256KnownAnswers) {
  EXPECT_EQ(spec_internal::Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(spec_internal::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(spec_internal::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(spec_internal::Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(DatasetSpec, GarbageNeverCrashesOrThrows) {
  std::mt19937 rng(42);
  const std::string alphabet = "mounts:- name source{}[]&*!|>'\"\t\n#%@`,?0123456789abc\\/.\x01\xff";
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    size_t len = rng() % 200;
    for (size_t j = 0; j < len; ++j) text += alphabet[rng() % alphabet.size()];
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(text);
    if (spec.ok()) {
      StatusOr<DatasetSpec> again = ParseDatasetSpec(SerializeDatasetSpec(*spec));
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(*again, *spec);
    } else {
      EXPECT_FALSE(spec.status().message().empty());
    }
  }
}

TEST(DatasetSpec, ParsesConcurrently) {
  const std::string text = ReadFile(kSpecDir / "good/all-schemes.yaml");
  StatusOr<DatasetSpec> want = ParseDatasetSpec(text);
  ASSERT_TRUE(want.ok());
  std::vector<int> mismatches(4, 0);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          StatusOr<DatasetSpec> got = ParseDatasetSpec(text);
          if (!got.ok() || !(*got == *want)) ++mismatches[t];
        }
      });
    }
  }
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace ferry
