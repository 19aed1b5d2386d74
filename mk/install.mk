# SPDX-License-Identifier: MIT
# make install PREFIX=... [DESTDIR=...]: virtq.h, the shims, a CMake package
# (find_package(virtq) -> virtq::virtq) and a pkg-config file (virtq.pc).
#   $(PREFIX)/include/virtq.h
#   $(PREFIX)/include/virtq/shims/<platform>/...   (VIRTQ_CONFIG_FILE headers, C files)
#   $(PREFIX)/lib/cmake/virtq/virtqConfig.cmake, virtqConfigVersion.cmake
#   $(PREFIX)/share/pkgconfig/virtq.pc              (header-only: arch-independent)
# test-install installs into the build tree and builds tests/install/consumer.c
# through pkg-config, find_package and FetchContent (the top-level
# CMakeLists.txt), each checking it got this tree's VIRTQ_VERSION.
PREFIX ?= /usr/local
DESTDIR ?=
DEPS_PKGS += cmake pkg-config

VIRTQ_V = $(shell sed -n 's/^\#define VIRTQ_VERSION_$(1) \([0-9]*\).*/\1/p' virtq.h)
VIRTQ_VER = $(call VIRTQ_V,MAJOR).$(call VIRTQ_V,MINOR).$(call VIRTQ_V,PATCH)
VIRTQ_VERNUM = $(shell echo $$(( $(call VIRTQ_V,MAJOR) * 10000 + $(call VIRTQ_V,MINOR) * 100 + $(call VIRTQ_V,PATCH) )))
INST := $(DESTDIR)$(PREFIX)
INSTALL_SHIMS := $(shell git ls-files shims 2>/dev/null || find shims -type f)

# $(call virtq_install,ROOT,PREFIX): copy into ROOT; virtq.pc records PREFIX.
define virtq_install
	install -d $(1)/include $(1)/lib/cmake/virtq $(1)/share/pkgconfig
	install -m 644 virtq.h $(1)/include/virtq.h
	for f in $(INSTALL_SHIMS); do \
	  install -D -m 644 $$f $(1)/include/virtq/$$f || exit 1; done
	install -m 644 cmake/virtqConfig.cmake $(1)/lib/cmake/virtq/virtqConfig.cmake
	sed -e 's/@VERSION@/$(VIRTQ_VER)/g' -e 's/@MAJOR@/$(call VIRTQ_V,MAJOR)/g' \
	    -e 's/@MINOR@/$(call VIRTQ_V,MINOR)/g' cmake/virtqConfigVersion.cmake.in \
	    > $(1)/lib/cmake/virtq/virtqConfigVersion.cmake
	sed -e 's|@PREFIX@|$(2)|g' -e 's/@VERSION@/$(VIRTQ_VER)/g' cmake/virtq.pc.in \
	    > $(1)/share/pkgconfig/virtq.pc
endef

.PHONY: install test-install
install: virtq.h cmake/virtqConfig.cmake cmake/virtqConfigVersion.cmake.in cmake/virtq.pc.in
	$(call virtq_install,$(INST),$(PREFIX))

IT := $(BUILD)/install-test
TEST_TARGETS += test-install
test-install: virtq.h cmake/virtqConfig.cmake cmake/virtqConfigVersion.cmake.in cmake/virtq.pc.in
	rm -rf $(IT)
	$(call virtq_install,$(abspath $(IT))/prefix,$(abspath $(IT))/prefix)
	test -f $(IT)/prefix/include/virtq.h && test -f $(IT)/prefix/include/virtq/shims/PORTING.md
	cmp virtq.h $(IT)/prefix/include/virtq.h
	@echo "test-install: pkg-config"
	mkdir -p $(IT)/pc
	cd $(IT)/pc && cp $(abspath tests/install/consumer.c) . && \
	  PKG_CONFIG_PATH=$(abspath $(IT))/prefix/share/pkgconfig \
	  cc -std=c99 -Wall -Wextra -Werror -DWANT_VERSION=$(VIRTQ_VERNUM) \
	     $$(PKG_CONFIG_PATH=$(abspath $(IT))/prefix/share/pkgconfig pkg-config --cflags virtq) \
	     consumer.c -o consumer && ./consumer
	test "$$(PKG_CONFIG_PATH=$(abspath $(IT))/prefix/share/pkgconfig pkg-config --modversion virtq)" = "$(VIRTQ_VER)"
	@echo "test-install: find_package(virtq $(VIRTQ_VER))"
	cmake -S tests/install/find -B $(IT)/find -DCMAKE_PREFIX_PATH=$(abspath $(IT))/prefix \
	  -DWANT_VERSION=$(VIRTQ_VERNUM) -DWANT_PACKAGE_VERSION=$(VIRTQ_VER) >/dev/null
	cmake --build $(IT)/find >/dev/null && $(IT)/find/consumer
	@echo "test-install: find_package refuses a newer version than installed"
	! cmake -S tests/install/find -B $(IT)/find-newer -DCMAKE_PREFIX_PATH=$(abspath $(IT))/prefix \
	  -DWANT_VERSION=0 -DWANT_PACKAGE_VERSION=$(call VIRTQ_V,MAJOR).$(call VIRTQ_V,MINOR).99 >/dev/null 2>&1
	@echo "test-install: FetchContent / add_subdirectory"
	cmake -S tests/install/fetch -B $(IT)/fetch -DVIRTQ_SOURCE_DIR=$(abspath .) \
	  -DWANT_VERSION=$(VIRTQ_VERNUM) >/dev/null
	cmake --build $(IT)/fetch >/dev/null && $(IT)/fetch/consumer
	@echo "test-install: ok (pkg-config, find_package, FetchContent)"
