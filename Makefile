# epoll-wfcq: build, boot and test the series. See README.
H := tools/epoll-wfcq
export SMP MEM TIMEOUT PATCHES

VARIANT := $(if $(BASE),base,patched)

.PHONY: help run test shell apply export check-series bench check mutants debug-test model lkmm clean
help:
	@sed -n 's/^## //p' README

run:
	@$(H)/run.sh $(VARIANT)

test:
	@$(H)/test.sh

shell:
	@EPW_MODE=shell $(H)/run.sh $(VARIANT)

apply:
	@$(H)/apply-user.sh "$(KERNEL_SRC)"

export:
	@$(H)/export.sh "$(DEV)"

check-series:
	@$(H)/check-series.sh

check:
	@$(H)/check.sh

model:
	@$(H)/deps.sh && $(H)/model/run.sh

lkmm:
	@$(H)/base.sh && $(H)/lkmm/run.sh

bench:
	@$(H)/bench/run.sh

mutants:
	@$(H)/mutants.sh

debug-test:
	@$(H)/debug-test.sh

clean:
	rm -rf build

.PHONY: userspace
userspace:
	@$(H)/userspace.sh

.PHONY: rt-noise
rt-noise:
	@$(H)/rt-noise.sh

.PHONY: rt-stall
rt-stall:
	@$(H)/rt-stall.sh

.PHONY: rt-epoll65
rt-epoll65:
	@$(H)/rt-epoll65.sh
