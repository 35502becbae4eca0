// Engine building blocks that need no policy: SHA-256, unit parsing and formatting, string order.
#include <gtest/gtest.h>

#include <string>

#include "engine/sha256.hpp"
#include "engine/request.hpp"
#include "engine/units.hpp"
#include "engine/value.hpp"

namespace {

using namespace agentos::engine;

TEST(sha256, known_vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256, chunking_does_not_matter) {
  const std::string text(1000, 'x');
  for (std::size_t step : {1u, 7u, 63u, 64u, 65u, 999u}) {
    sha256 h;
    for (std::size_t i = 0; i < text.size(); i += step) h.update(std::string_view(text).substr(i, step));
    EXPECT_EQ(to_hex(h.finish()), sha256_hex(text)) << "step " << step;
  }
}

TEST(units, durations) {
  EXPECT_EQ(parse_duration("500ms"), 500);
  EXPECT_EQ(parse_duration("15s"), 15'000);
  EXPECT_EQ(parse_duration("1h30m"), 5'400'000);
  EXPECT_EQ(parse_duration("7d"), 7 * 86'400'000LL);
  EXPECT_EQ(parse_duration("2d12h"), 60 * 3'600'000LL);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_FALSE(parse_duration("-5m"));
  EXPECT_FALSE(parse_duration("99999999999999999999d"));
  EXPECT_EQ(format_duration(5'400'000), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(1'500), "1s500ms");
  EXPECT_EQ(format_duration(86'400'000), "1d");
  for (std::int64_t ms : {1LL, 999LL, 60'000LL, 90'061'001LL}) EXPECT_EQ(parse_duration(format_duration(ms)), ms);
}

TEST(units, timestamps) {
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_timestamp("2025-01-31T09:30:00Z"), 1'738'315'800'000LL);
  EXPECT_EQ(parse_timestamp("2025-01-31T10:30:00+01:00"), 1'738'315'800'000LL);
  EXPECT_EQ(parse_timestamp("2025-01-31T09:30:00.250Z"), 1'738'315'800'250LL);
  EXPECT_EQ(parse_timestamp("2024-02-29T00:00:00Z"), 1'709'164'800'000LL);
  EXPECT_FALSE(parse_timestamp("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2025-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2025-01-31 09:30"));
  EXPECT_FALSE(parse_timestamp("2025-01-31T09:30:00"));
  EXPECT_EQ(format_timestamp(1'738'315'800'000LL), "2025-01-31T09:30:00Z");
  EXPECT_EQ(format_timestamp(1'738'315'800'250LL), "2025-01-31T09:30:00.250Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
  for (std::int64_t ms : {0LL, -86'400'000LL, 951'782'400'000LL, 4'102'444'800'123LL}) {
    EXPECT_EQ(parse_timestamp(format_timestamp(ms)), ms);
  }
}

TEST(units, decimals) {
  EXPECT_EQ(parse_decimal("12.50"), 12'500'000);
  EXPECT_EQ(parse_decimal("-0.5"), -500'000);
  EXPECT_EQ(parse_decimal("7"), 7'000'000);
  EXPECT_EQ(parse_decimal("0.000001"), 1);
  EXPECT_FALSE(parse_decimal("0.0000001"));
  EXPECT_FALSE(parse_decimal(".5"));
  EXPECT_FALSE(parse_decimal("5."));
  EXPECT_FALSE(parse_decimal("1e3"));
  EXPECT_EQ(format_decimal(12'500'000), "12.50");
  EXPECT_EQ(format_decimal(-500'000), "-0.50");
  EXPECT_EQ(format_decimal(1), "0.000001");
  EXPECT_EQ(format_decimal(0), "0.00");
}

TEST(text, canonical_order_is_consistent_with_equality) {
  std::vector<text> items{{"b", -1}, {"a", 3}, {"a", -1}, {"z", 0}, {"b", -1}, {"a", 3}};
  sort_unique(items);
  ASSERT_EQ(items.size(), 4u);
  // Unknown strings first, by content; then interned strings by id.
  EXPECT_EQ(items[0].view, "a");
  EXPECT_EQ(items[0].id, -1);
  EXPECT_EQ(items[1].view, "b");
  EXPECT_EQ(items[2].id, 0);
  EXPECT_EQ(items[3].id, 3);
  EXPECT_TRUE(text_equal({"x", 2}, {"x", 2}));
  EXPECT_FALSE(text_equal({"x", 2}, {"x", -1}));  // one interned, one not: never equal within a graph
  EXPECT_TRUE(text_equal({"x", -1}, {"x", -1}));
  EXPECT_FALSE(text_equal({"x", -1}, {"y", -1}));
}

TEST(value, truthiness) {
  EXPECT_TRUE(value::of_bool(true).truthy());
  EXPECT_FALSE(value::of_bool(false).truthy());
  EXPECT_FALSE(value::absent().truthy());
  EXPECT_FALSE(value::of_text({"true", -1}).truthy());
  EXPECT_EQ(sizeof(value), 24u);
}

}  // namespace
