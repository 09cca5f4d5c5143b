# rulake: PGXS build of the extension, plus the core's unit tests and microbenchmarks.
#
#   make                build the extension library and the extension script
#   make install        install into the server found by PG_CONFIG (DESTDIR works)
#   make unit           build and run the core's GoogleTest suite
#   make unit SANITIZE=1  the same under AddressSanitizer + UBSan
#   make kernel-bench   build the Google Benchmark kernel microbenchmark
#
# New source files are picked up by wildcard: add a .cpp under src/<area>/ and it is built.

EXTENSION  = rulake
EXTVERSION = 0.1.0
MODULE_big = rulake
PG_CONFIG ?= pg_config

# Core: pure C++17, no Postgres headers. Files named *_avx2.cpp / *_avx512.cpp hold one ISA each.
CORE_SRCS   := $(sort $(wildcard src/core/*.cpp))
CORE_AVX2   := $(filter %_avx2.cpp,$(CORE_SRCS))
CORE_AVX512 := $(filter %_avx512.cpp,$(CORE_SRCS))
# Glue: C++ that knows Postgres.
GLUE_SRCS   := $(sort $(wildcard src/pg/*.cpp src/type/*.cpp src/am/*.cpp src/lake/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The extension script is assembled from the pieces in src/sql (one per area, in name order).
SQL_PIECES := $(sort $(wildcard src/sql/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql

# Every sql/*.sql other than the extension script is a regression test.
REGRESS = $(sort $(basename $(notdir $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

SHLIB_LINK += -lstdc++ -lm -lcrypto -lpthread

PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)
PG_CPPFLAGS = -Iinclude -isystem /usr/include/eigen3 -isystem $(PG_INCLUDE_SERVER)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-missing-field-initializers -pthread
override with_llvm = no
override autodepend = yes

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Per-ISA flags (target-specific; PG_CPPFLAGS cannot be set per target).
ISA_AVX2_FLAGS   = -mavx2 -mfma -mpopcnt -mbmi2
ISA_AVX512_FLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vpopcntdq -mfma -mpopcnt -mbmi2
$(CORE_AVX2:.cpp=.o): override CXXFLAGS += $(ISA_AVX2_FLAGS)
$(CORE_AVX512:.cpp=.o): override CXXFLAGS += $(ISA_AVX512_FLAGS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PIECES)
	cat $^ > $@

# ---------------------------------------------------------------------------
# Core unit tests (GoogleTest) and microbenchmarks (Google Benchmark).
UNIT_DIR   := build/unit$(if $(SANITIZE),-san)
# (kept in a variable: the comma in -fsanitize=a,b would end the then-branch of $(if ...))
SANITIZER_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_FLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -Wno-missing-field-initializers -pthread -Iinclude -isystem /usr/include/eigen3 \
              $(if $(SANITIZE),$(SANITIZER_FLAGS))
UNIT_SRCS  := $(sort $(wildcard test/unit/*.cpp))
UNIT_CORE_OBJS := $(patsubst src/core/%.cpp,$(UNIT_DIR)/core/%.o,$(CORE_SRCS))
UNIT_TEST_OBJS := $(patsubst test/unit/%.cpp,$(UNIT_DIR)/test/%.o,$(UNIT_SRCS))

$(UNIT_DIR)/core/%_avx2.o: src/core/%_avx2.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_FLAGS) $(ISA_AVX2_FLAGS) -MMD -c $< -o $@
$(UNIT_DIR)/core/%_avx512.o: src/core/%_avx512.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_FLAGS) $(ISA_AVX512_FLAGS) -MMD -c $< -o $@
$(UNIT_DIR)/core/%.o: src/core/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_FLAGS) -MMD -c $< -o $@
$(UNIT_DIR)/test/%.o: test/unit/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_FLAGS) -MMD -c $< -o $@
# The list of linked objects, rewritten only when it changes: removing a test file relinks.
$(UNIT_DIR)/objects.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(UNIT_CORE_OBJS) $(UNIT_TEST_OBJS)' | cmp -s - $@ || echo '$(UNIT_CORE_OBJS) $(UNIT_TEST_OBJS)' >$@
$(UNIT_DIR)/rulake_unit: $(UNIT_CORE_OBJS) $(UNIT_TEST_OBJS) $(UNIT_DIR)/objects.txt
	$(CXX) $(UNIT_FLAGS) $(filter %.o,$^) -o $@ -lgtest_main -lgtest -lcrypto -lpthread

-include $(wildcard $(UNIT_DIR)/*/*.d)

.PHONY: unit unit-build kernel-bench FORCE
unit-build: $(UNIT_DIR)/rulake_unit
unit: $(UNIT_DIR)/rulake_unit
	$(UNIT_DIR)/rulake_unit $(GTEST_ARGS)

BENCH_SRCS := $(sort $(wildcard bench/kernels/*.cpp))
build/bench/kernel_bench: $(patsubst src/core/%.cpp,build/unit/core/%.o,$(CORE_SRCS)) $(BENCH_SRCS)
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -g -pthread -Iinclude $^ -o $@ -lbenchmark -lcrypto -lpthread
kernel-bench: build/bench/kernel_bench

clean: clean-rulake
.PHONY: clean-rulake
clean-rulake:
	rm -rf build sql/$(EXTENSION)--$(EXTVERSION).sql src/*/*.d
